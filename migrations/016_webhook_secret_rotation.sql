-- +goose Up
-- A rotated webhook secret (POST .../webhooks/{id}/secret) stays valid
-- until previous_secret_until: deliveries are signed with both meanwhile,
-- so the receiver can switch to the new one without refusing any.
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret text, ADD COLUMN previous_secret_until timestamptz;

-- +goose Down
ALTER TABLE webhook_endpoints DROP COLUMN previous_secret, DROP COLUMN previous_secret_until;
