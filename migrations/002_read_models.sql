-- +goose Up
-- Projector checkpoints: a projector saves its checkpoint in the same
-- transaction as the read model change it made.
CREATE TABLE projection_checkpoints (
    name        text PRIMARY KEY,
    commit_pos  bigint      NOT NULL DEFAULT 0,
    prepare_pos bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Accounts as dashboards see them.
CREATE TABLE rm_accounts (
    account_id              uuid PRIMARY KEY,
    name                    text        NOT NULL,
    agreement_number        text        NOT NULL,
    purchase_account_number text        NOT NULL,
    domains                 text[]      NOT NULL DEFAULT '{}',
    registered_at           timestamptz NOT NULL
);

-- Users. status holds 'pending' or 'active'; "expired" is decided at query
-- time from invitation_expires_at, so it is right with no event.
CREATE TABLE rm_users (
    user_id               uuid PRIMARY KEY,
    account_id            uuid        NOT NULL,
    email                 text        NOT NULL,
    email_lower           text        NOT NULL,
    first_name            text        NOT NULL,
    last_name             text        NOT NULL,
    name_sort             text        NOT NULL,
    language              text        NOT NULL,
    country               text        NOT NULL,
    roles                 text[]      NOT NULL,
    status                text        NOT NULL,
    invited_at            timestamptz NOT NULL,
    invitation_expires_at timestamptz NOT NULL,
    -- How many invitations were sent. Incremented, not upserted: only the
    -- checkpoint keeps a replay from counting twice.
    invitation_count      int         NOT NULL DEFAULT 1,
    activated_at          timestamptz
);
CREATE INDEX rm_users_email ON rm_users (account_id, email_lower, user_id);
CREATE INDEX rm_users_name ON rm_users (account_id, name_sort, user_id);
CREATE INDEX rm_users_invited ON rm_users (account_id, invited_at, user_id);
CREATE INDEX rm_users_status ON rm_users (account_id, status, invitation_expires_at);
CREATE INDEX rm_users_email_search ON rm_users USING gin (email_lower gin_trgm_ops);
-- GET /v1/me: the accounts where a signed-in email is an active user.
CREATE INDEX rm_users_member ON rm_users (email_lower) WHERE status = 'active';

-- Every invitation a user was sent, for the user's detail.
CREATE TABLE rm_user_invitations (
    user_id       uuid        NOT NULL,
    invitation_id uuid        NOT NULL,
    sent_at       timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    sent_by       text        NOT NULL,
    PRIMARY KEY (user_id, invitation_id)
);

-- The mailer's own memory: who to write to, and which events it already
-- sent mail for (at most once per event).
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
DROP TABLE mail_sent, mail_account_names, mail_recipients, rm_user_invitations, rm_users, rm_accounts, projection_checkpoints;
