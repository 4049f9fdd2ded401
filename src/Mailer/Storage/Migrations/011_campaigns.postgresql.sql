-- Several campaigns: a subscriber row is one address's subscription to one campaign (consent, platforms, done marks
-- and status are per campaign); the same address may have a row in each. The address stays unique per campaign.
-- Rows from before belong to @Campaign (Campaign:Name, or the only configured campaign); so do their ledger rows
-- and the recorded launch. standing_list_at: since when the person asked to hear of the next deadline like this one
-- (its proof is a consent row with purpose 'standing-list'); NULL when they did not or left.
ALTER TABLE subscribers ADD COLUMN campaign TEXT NOT NULL DEFAULT '';
UPDATE subscribers SET campaign = @Campaign;
ALTER TABLE subscribers ALTER COLUMN campaign DROP DEFAULT;
ALTER TABLE subscribers DROP CONSTRAINT subscribers_email_key;
ALTER TABLE subscribers ADD CONSTRAINT subscribers_campaign_email_key UNIQUE (campaign, email);
ALTER TABLE subscribers ADD COLUMN standing_list_at BIGINT;
ALTER TABLE subscribers ADD COLUMN invited_at BIGINT;       -- asked from the standing list to join; set: the request is an invitation
CREATE INDEX ix_subscribers_email ON subscribers (email);
CREATE INDEX ix_subscribers_standing_list ON subscribers (standing_list_at);

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
