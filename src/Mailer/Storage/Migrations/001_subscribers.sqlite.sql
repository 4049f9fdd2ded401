-- Subscribers, the proof of their consent, and what they did with the links in their mails.
-- Times are Unix milliseconds (UTC). Addresses are stored normalized: trimmed, domain lower-cased.
CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    locale TEXT NOT NULL,
    platforms TEXT NOT NULL,              -- chosen platforms, comma-separated: 'facebook,instagram'
    done_platforms TEXT NOT NULL DEFAULT '', -- platforms the subscriber marked as objected
    status TEXT NOT NULL,                 -- pending | confirmed | unsubscribed
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    unsubscribed_at BIGINT,
    confirm_requested_at BIGINT,          -- the last signup that asked for a confirmation mail
    confirm_sent_at BIGINT                -- when that mail was last handed to the transport
);

CREATE INDEX ix_subscribers_status_confirmed ON subscribers (status, confirmed_at);

CREATE TABLE consents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    source TEXT NOT NULL,                 -- form | api | import
    consent_text_version TEXT NOT NULL,
    given_at BIGINT NOT NULL,
    client_ip TEXT,
    user_agent TEXT,
    confirmed_at BIGINT,
    confirm_ip TEXT
);

CREATE INDEX ix_consents_subscriber ON consents (subscriber_id);

CREATE TABLE link_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,                   -- click | done
    platform TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE INDEX ix_link_events_subscriber ON link_events (subscriber_id);
