-- foreign_keys: off
-- Several campaigns: a subscriber row is one address's subscription to one campaign (consent, platforms, done marks
-- and status are per campaign); the same address may have a row in each. The address stays unique per campaign.
-- SQLite cannot drop the old UNIQUE (email), so the table is built again (with foreign keys off, as SQLite's
-- ALTER TABLE documentation prescribes: the other tables keep pointing at "subscribers" by name).
-- Rows from before belong to @Campaign (Campaign:Name, or the only configured campaign); so do their ledger rows
-- and the recorded launch. standing_list_at: since when the person asked to hear of the next deadline like this one
-- (its proof is a consent row with purpose 'standing-list'); NULL when they did not or left.
CREATE TABLE subscribers_011 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign TEXT NOT NULL,
    email TEXT NOT NULL,
    locale TEXT NOT NULL,
    platforms TEXT NOT NULL,
    done_platforms TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,                 -- pending | confirmed | unsubscribed | invited
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    unsubscribed_at BIGINT,
    confirm_requested_at BIGINT,
    confirm_sent_at BIGINT,
    confirm_claimed_until BIGINT,
    confirm_enqueued_at BIGINT,
    suppressed_at BIGINT,
    suppressed_reason TEXT,
    standing_list_at BIGINT,
    invited_at BIGINT,                    -- asked from the standing list to join; set: the request is an invitation
    confirm_mark BIGINT,
    UNIQUE (campaign, email)
);

INSERT INTO subscribers_011 (id, campaign, email, locale, platforms, done_platforms, status, created_at, confirmed_at,
    unsubscribed_at, confirm_requested_at, confirm_sent_at, confirm_claimed_until, confirm_enqueued_at, suppressed_at,
    suppressed_reason, confirm_mark)
SELECT id, @Campaign, email, locale, platforms, done_platforms, status, created_at, confirmed_at, unsubscribed_at,
       confirm_requested_at, confirm_sent_at, confirm_claimed_until, confirm_enqueued_at, suppressed_at, suppressed_reason,
       confirm_mark
FROM subscribers;

DROP TABLE subscribers;
ALTER TABLE subscribers_011 RENAME TO subscribers;

CREATE INDEX ix_subscribers_status_confirmed ON subscribers (status, confirmed_at);
CREATE INDEX ix_subscribers_status_confirm_requested ON subscribers (status, confirm_requested_at);
CREATE INDEX ix_subscribers_email ON subscribers (email);
CREATE INDEX ix_subscribers_standing_list ON subscribers (standing_list_at);
CREATE INDEX ix_subscribers_confirm_mark ON subscribers (confirm_mark);

-- The table's triggers (migration 010) went with the old table.
CREATE TRIGGER subscribers_confirm_mark_on_insert AFTER INSERT ON subscribers
WHEN NEW.status = 'confirmed'
BEGIN
    UPDATE subscribers SET confirm_mark = (SELECT COALESCE(MAX(confirm_mark), 0) + 1 FROM subscribers) WHERE id = NEW.id;
END;

CREATE TRIGGER subscribers_confirm_mark_on_update AFTER UPDATE OF status, confirmed_at ON subscribers
WHEN NEW.status = 'confirmed' AND (OLD.status IS NOT NEW.status OR OLD.confirmed_at IS NOT NEW.confirmed_at)
BEGIN
    UPDATE subscribers SET confirm_mark = (SELECT COALESCE(MAX(confirm_mark), 0) + 1 FROM subscribers) WHERE id = NEW.id;
END;

ALTER TABLE consents ADD COLUMN purpose TEXT NOT NULL DEFAULT 'campaign';   -- campaign | standing-list

ALTER TABLE deliveries ADD COLUMN campaign TEXT NOT NULL DEFAULT '';
UPDATE deliveries SET campaign = @Campaign;
DROP INDEX ix_deliveries_work;
CREATE INDEX ix_deliveries_work ON deliveries (campaign, mailing, status, not_before);

UPDATE campaign_state SET name = name || ':' || @Campaign WHERE name = 'launched_at';
UPDATE campaign_state SET name = 'paused:' || @Campaign || '/' || substr(name, 8) WHERE name LIKE 'paused:%' AND name NOT LIKE '%/%';
UPDATE campaign_state SET name = 'breaker-base:' || @Campaign || '/' || substr(name, 14) WHERE name LIKE 'breaker-base:%' AND name NOT LIKE '%/%';

-- The dispatch marks and held subscribers (migration 010) are kept per campaign/mailing.
UPDATE dispatch_marks SET mailing = @Campaign || '/' || mailing WHERE mailing NOT LIKE '%/%';
UPDATE dispatch_held SET mailing = @Campaign || '/' || mailing WHERE mailing NOT LIKE '%/%';
