-- The delivery ledger: one row per subscriber and mailing, the truth about who got what.
-- status: queued | sending | sent | failed | skipped. A 'sending' row is leased to one worker until
-- lease_until; a row whose lease ran out belongs to whoever claims it next.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    mailing TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    not_before BIGINT NOT NULL,           -- no attempt before this moment (retry back-off)
    lease_owner TEXT,
    lease_until BIGINT,
    sent_at BIGINT,
    message_id TEXT,
    last_reply TEXT,
    UNIQUE (subscriber_id, mailing)
);

CREATE INDEX ix_deliveries_work ON deliveries (mailing, status, not_before);

CREATE INDEX ix_deliveries_owner ON deliveries (lease_owner);

-- Facts of the campaign that must survive a restart, e.g. 'launched_at' (the first start, Unix ms).
CREATE TABLE campaign_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
