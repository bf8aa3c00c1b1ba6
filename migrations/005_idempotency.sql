-- +goose Up
-- Idempotency keys of command requests (httpapi/idempotency.go): the first
-- request with a key claims its row and holds it while it runs (a lease it
-- renews: a row whose holder died is free again once locked_until passes);
-- its answer is then kept until expires_at, to be replayed to repeats.
-- Rows past expires_at count as absent: they are replaced on the next use
-- of the key and deleted by a sweep.
CREATE TABLE idempotency_keys (
    principal    text        NOT NULL, -- the token's subject, or 'anonymous'
    route        text        NOT NULL, -- method and route pattern
    key          text        NOT NULL, -- the Idempotency-Key header
    request_hash bytea       NOT NULL, -- SHA-256 of method, path and body
    holder       uuid        NOT NULL, -- the request running it, while status IS NULL
    locked_until timestamptz,
    status       int,                  -- NULL while the first request runs
    content_type text,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (principal, route, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
