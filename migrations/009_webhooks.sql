-- +goose Up
-- Webhooks (webhooks/): the HTTPS endpoints an account's administrators
-- registered, and the deliveries the dispatcher queued for them from the
-- event subscription (in the transaction that advances its checkpoint).
-- Endpoints are delivery settings of an outbound adapter, like
-- idempotency keys, not business facts: they are kept here, not in events.
CREATE TABLE webhook_endpoints (
    id                   uuid PRIMARY KEY,
    account_id           uuid NOT NULL,
    url                  text NOT NULL,
    secret               text NOT NULL,
    types                text[] NOT NULL DEFAULT '{}',
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    state                text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused')),
    consecutive_failures int NOT NULL DEFAULT 0,
    last_status          int,
    last_error           text,
    last_attempt_at      timestamptz,
    last_success_at      timestamptz,
    paused_at            timestamptz
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id);

CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        uuid NOT NULL,
    event_type      text NOT NULL,
    payload         bytea NOT NULL,
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    last_status     int,
    last_error      text,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, id) WHERE delivered_at IS NULL;

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
