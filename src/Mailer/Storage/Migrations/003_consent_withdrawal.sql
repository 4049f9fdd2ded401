-- A consent ends when the subscriber unsubscribes; the time stays with the consent, so the history of an
-- address that left and came back keeps both the withdrawal and the new consent.
ALTER TABLE consents ADD COLUMN withdrawn_at BIGINT;
