-- What came back for a message: bounces (a DSN, or the server's 5xx at send time), complaints (ARF) and auto-replies,
-- one row per report. kind: hard | soft | complaint | policy | autoreply; source: smtp | dsn | arf | autoreply | webhook.
-- report_key identifies the report (its Message-Id or a hash, with the tag), so the same report twice counts once.
-- Erasing a subscriber erases their reports with their ledger rows. Migration 007 (address fold) ran before this table
-- existed, so no row of it was ever to be moved to a surviving subscriber.
CREATE TABLE bounce_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    delivery_id BIGINT REFERENCES deliveries (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT,                          -- the DSN status (5.1.1), when the report gives one
    diagnostic TEXT,                      -- the remote server's words (Diagnostic-Code), or the ARF's Feedback-Type
    received_at BIGINT NOT NULL,
    report_key TEXT NOT NULL UNIQUE
);

CREATE INDEX ix_bounce_events_subscriber ON bounce_events (subscriber_id, received_at);
CREATE INDEX ix_bounce_events_delivery ON bounce_events (delivery_id);

-- A suppressed address gets no mail at all (a hard bounce, or Bounces:SoftLimit soft ones in a row) until its owner
-- signs up and confirms again. The reason names the report ('hard bounce 5.1.1').
ALTER TABLE subscribers ADD COLUMN suppressed_at BIGINT;
ALTER TABLE subscribers ADD COLUMN suppressed_reason TEXT;

-- Why a consent ended when it was not the subscriber's own unsubscribe ('complaint: abuse report').
ALTER TABLE consents ADD COLUMN withdrawn_reason TEXT;
