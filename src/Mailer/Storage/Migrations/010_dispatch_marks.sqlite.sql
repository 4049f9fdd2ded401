-- What a dispatch needs to look only at what changed since the last one, instead of at every subscriber.
-- confirm_mark: stamped whenever a subscriber becomes confirmed (or their confirmed_at changes while confirmed),
-- ordered as the commits are: SQLite has one writer at a time, so one more than the highest mark is never below a
-- mark that an earlier commit gave. Subscribers from before this migration have none; each mailing's first pass
-- after it reads the whole list.
ALTER TABLE subscribers ADD COLUMN confirm_mark BIGINT;
CREATE INDEX ix_subscribers_confirm_mark ON subscribers (confirm_mark);

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
