-- The audit read model: every event, findable by actor, type, account,
-- time and correlation, in log order.
CREATE TABLE rm_audit_events (
    commit_pos     bigint      NOT NULL,
    prepare_pos    bigint      NOT NULL,
    event_id       uuid        NOT NULL UNIQUE,
    stream         text        NOT NULL,
    revision       bigint      NOT NULL,
    event_type     text        NOT NULL,
    schema_version int         NOT NULL,
    account_id     uuid,
    actor          text        NOT NULL,
    correlation_id text        NOT NULL,
    causation_id   text        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    data           jsonb       NOT NULL,
    PRIMARY KEY (commit_pos, prepare_pos)
);
CREATE INDEX ON rm_audit_events (actor, commit_pos, prepare_pos);
CREATE INDEX ON rm_audit_events (event_type, commit_pos, prepare_pos);
CREATE INDEX ON rm_audit_events (account_id, commit_pos, prepare_pos);
CREATE INDEX ON rm_audit_events (occurred_at);
CREATE INDEX ON rm_audit_events (correlation_id);
