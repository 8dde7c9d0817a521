-- Notifications one run queues for the same channel and recipient share a batch and go out as
-- one message, under one idempotency key (a grouped mail's Message-ID, a Matrix txnId, the
-- JSON webhook's key). NULL: a message of its own, as every row queued before this version.
ALTER TABLE notifications ADD COLUMN batch TEXT;
CREATE INDEX notifications_batch ON notifications (batch, channel, recipient) WHERE batch IS NOT NULL;
