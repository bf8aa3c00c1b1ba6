-- +goose Up
-- The webhook worker deletes deliveries a week after they were delivered
-- (webhooks.Prune): this finds them without reading the whole table.
CREATE INDEX webhook_deliveries_delivered ON webhook_deliveries (delivered_at) WHERE delivered_at IS NOT NULL;

-- +goose Down
DROP INDEX webhook_deliveries_delivered;
