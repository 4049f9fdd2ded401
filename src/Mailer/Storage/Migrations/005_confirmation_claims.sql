-- A confirmation mail is claimed before it is sent, as the ledger's rows are. confirm_claimed_until is the lease of
-- the job sending it now (Unix ms; a dead job's claim runs out and is taken again); confirm_enqueued_at is when the
-- sweep last queued a job for the request (the signup's own job is confirm_requested_at), so it queues a lost request
-- once, not at every poll.
ALTER TABLE subscribers ADD COLUMN confirm_claimed_until BIGINT;
ALTER TABLE subscribers ADD COLUMN confirm_enqueued_at BIGINT;
CREATE INDEX ix_subscribers_status_confirm_requested ON subscribers (status, confirm_requested_at);
