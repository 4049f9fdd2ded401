-- Who clicked: the client's address and user agent of a click-through or done mark (telling a person from a mail
-- scanner that follows every link), kept for Subscribers:KeepLinkEventsFor and then set to NULL by the retention job.
ALTER TABLE link_events ADD COLUMN client_ip TEXT;
ALTER TABLE link_events ADD COLUMN user_agent TEXT;
CREATE INDEX ix_link_events_at ON link_events (at);
