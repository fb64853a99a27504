-- Webhook signing secrets are rotated with an overlap: the new secret becomes current and
-- the one it replaces stays valid until `webhook_previous_until` (24 hours on), so events
-- are signed with both meanwhile (`webhook-signature: v1,<new> v1,<old>`, as Standard
-- Webhooks allows) and a receiver can change its secret without refusing any event.

ALTER TABLE merchants
    -- When the current secret was made.
    ADD COLUMN webhook_secret_created_at timestamptz,
    -- The secret the current one replaced, and until when events are signed with it too.
    ADD COLUMN webhook_previous_secret   text CHECK (webhook_previous_secret LIKE 'whsec\_%'),
    ADD COLUMN webhook_previous_until    timestamptz,
    ADD CONSTRAINT merchants_webhook_previous_secret_has_an_end
        CHECK ((webhook_previous_secret IS NULL) = (webhook_previous_until IS NULL));

-- Secrets made before this migration: their age is not known, so they count from now.
UPDATE merchants SET webhook_secret_created_at = now() WHERE webhook_secret IS NOT NULL;
