-- What a dispatch needs to look only at what changed since the last one, instead of at every subscriber.
-- confirm_mark: the id of the transaction that last made the subscriber confirmed (or changed their confirmed_at while
-- confirmed); new rows get it by default, updates by the trigger. Transaction ids are not in commit order, so a
-- dispatch never trusts a mark it could still see committed: it keeps as its watermark the oldest transaction still
-- running when it began (pg_snapshot_xmin), below which every transaction has ended, and next time reads from there.
-- Subscribers from before this migration have none; each mailing's first pass after it reads the whole list.
ALTER TABLE subscribers ADD COLUMN confirm_mark BIGINT;
ALTER TABLE subscribers ALTER COLUMN confirm_mark SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX ix_subscribers_confirm_mark ON subscribers (confirm_mark);

CREATE FUNCTION subscribers_stamp_confirm_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.confirm_mark := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$;

CREATE TRIGGER subscribers_confirm_mark_on_update BEFORE UPDATE OF status, confirmed_at ON subscribers
FOR EACH ROW
WHEN (NEW.status = 'confirmed' AND (OLD.status IS DISTINCT FROM NEW.status OR OLD.confirmed_at IS DISTINCT FROM NEW.confirmed_at))
EXECUTE FUNCTION subscribers_stamp_confirm_mark();

-- Per mailing: how far row creation got. Every subscriber whose confirm_mark is below mark was looked at for the
-- mailing with this confirmed_before (Unix ms; the mailing's rule of who it is for) and got a row, or was held back.
CREATE TABLE dispatch_marks (
    mailing TEXT PRIMARY KEY,
    confirmed_before BIGINT NOT NULL,
    mark BIGINT NOT NULL
);

-- Subscribers meant for a mailing who got no row because another mail of theirs was under way (queued or sending);
-- each dispatch looks at them again, and they leave once they have the row or are no longer meant for it.
CREATE TABLE dispatch_held (
    mailing TEXT NOT NULL,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    PRIMARY KEY (mailing, subscriber_id)
);
