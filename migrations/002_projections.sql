-- +goose Up
-- Projector checkpoints: a projector saves its checkpoint in the same
-- transaction as the read model change it made. A projector's key is the
-- schema of the read model version it builds; other consumers (the mailer)
-- use their own name.
CREATE TABLE projection_checkpoints (
    name        text PRIMARY KEY,
    commit_pos  bigint      NOT NULL DEFAULT 0,
    prepare_pos bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Which build of each projector's read model readers see. Each build's
-- tables live in a schema of their own; the public names of the tables are
-- views onto the active one, replaced in one transaction on a switch.
CREATE TABLE projection_versions (
    name          text PRIMARY KEY,
    active_schema text        NOT NULL,
    version       int         NOT NULL,
    switched_at   timestamptz NOT NULL DEFAULT now()
);

-- Builds under way (a rebuild, or a new version that serve builds before
-- switching), so operators see them and a crashed one can be cleaned up.
CREATE TABLE projection_builds (
    schema_name text PRIMARY KEY,
    name        text        NOT NULL,
    version     int         NOT NULL,
    purpose     text        NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now()
);

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The mailer's own memory: who to write to, and which events it already
-- sent mail for (at most once per event). Not a read model: never rebuilt,
-- so a rebuild never sends mail again.
CREATE TABLE mail_recipients (
    user_id      uuid PRIMARY KEY,
    account_id   uuid NOT NULL,
    email        text NOT NULL,
    first_name   text NOT NULL,
    last_name    text NOT NULL,
    language     text NOT NULL
);
CREATE TABLE mail_account_names (
    account_id uuid PRIMARY KEY,
    name       text NOT NULL
);
CREATE TABLE mail_sent (
    event_id  uuid PRIMARY KEY,
    sent_at   timestamptz NOT NULL DEFAULT now(),
    outcome   text NOT NULL DEFAULT 'pending'
);

-- +goose Down
DROP TABLE mail_sent, mail_account_names, mail_recipients, projection_builds, projection_versions, projection_checkpoints;
