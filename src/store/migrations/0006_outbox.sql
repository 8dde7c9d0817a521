-- Version 6: notifications are an outbox. Each row carries its idempotency key, chosen when the
-- row is created and sent unchanged on every try: the mail's Message-ID, or the alert's
-- identity for the webhook. A row is `sending` while its network call is in flight, so a crash
-- leaves it visibly ambiguous and the next delivery run resends it with the same key.
-- status: pending | sending | sent | failed
ALTER TABLE notifications ADD COLUMN idempotency_key TEXT NOT NULL DEFAULT '';
-- The Message-ID of the first mail of the escalation to the same recipient, so reminders and
-- the all-clear thread under it.
ALTER TABLE notifications ADD COLUMN in_reply_to TEXT;
-- When the row last stopped being in flight (sent, or failed for good); reminders are due per
-- recipient from this time.
ALTER TABLE notifications ADD COLUMN settled_at REAL;
UPDATE notifications SET settled_at = COALESCE(sent_at, created_at) WHERE status IN ('sent', 'failed');
UPDATE notifications SET idempotency_key = '<orchestrator.' || escalation || '.' || id || '.migrated@localhost>' WHERE channel = 'email';

DROP INDEX notifications_pending;
CREATE INDEX notifications_due ON notifications (status, next_try_at) WHERE status IN ('pending', 'sending');
CREATE INDEX notifications_recipient ON notifications (escalation, channel, recipient, id);
