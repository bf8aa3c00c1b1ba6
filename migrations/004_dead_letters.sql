-- +goose Up
-- Events a projector could not apply after retries ('parked'), and the
-- later events of the same stream held behind them ('waiting'). Operators
-- retry or skip a parked event; it and the events waiting behind it are
-- then applied in order ('retried'), or it is recorded as 'skipped'.
CREATE TABLE projection_dead_letters (
    id          bigserial PRIMARY KEY,
    projector   text        NOT NULL,
    event_id    uuid        NOT NULL,
    stream      text        NOT NULL,
    commit_pos  bigint      NOT NULL,
    prepare_pos bigint      NOT NULL,
    event_type  text        NOT NULL,
    data        bytea       NOT NULL,
    metadata    bytea       NOT NULL,
    revision    bigint      NOT NULL,
    recorded_at timestamptz NOT NULL,
    status      text        NOT NULL,
    error       text        NOT NULL DEFAULT '',
    attempts    int         NOT NULL DEFAULT 0,
    parked_at   timestamptz NOT NULL DEFAULT now(),
    resolved_by     text,
    resolved_reason text,
    resolved_at     timestamptz,
    UNIQUE (projector, event_id)
);
CREATE INDEX projection_dead_letters_open ON projection_dead_letters (projector, stream)
    WHERE status IN ('parked', 'waiting');

-- +goose Down
DROP TABLE projection_dead_letters;
