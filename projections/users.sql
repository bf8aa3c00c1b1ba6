-- The user directory read model, created in the schema of one build.

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
    -- Whether user.invitation_expired was recorded for the current
    -- invitation (the sweeper's work list is the pending users past expiry
    -- without it).
    invitation_expiry_recorded boolean NOT NULL DEFAULT false,
    activated_at          timestamptz
);
CREATE INDEX ON rm_users (account_id, email_lower, user_id);
CREATE INDEX ON rm_users (account_id, name_sort, user_id);
CREATE INDEX ON rm_users (account_id, invited_at, user_id);
CREATE INDEX ON rm_users (account_id, status, invitation_expires_at);
CREATE INDEX ON rm_users USING gin (email_lower public.gin_trgm_ops);
-- GET /v1/me: the accounts where a signed-in email is an active user; and
-- sign-in activation: the pending users of an email.
CREATE INDEX ON rm_users (email_lower, status);
CREATE INDEX ON rm_users (invitation_expires_at) WHERE status = 'pending' AND NOT invitation_expiry_recorded;

-- Every invitation a user was sent, for the user's detail.
CREATE TABLE rm_user_invitations (
    user_id       uuid        NOT NULL,
    invitation_id uuid        NOT NULL,
    sent_at       timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    sent_by       text        NOT NULL,
    PRIMARY KEY (user_id, invitation_id)
);

-- A user's history as the detail page shows it: invited, resent, expired,
-- accepted, roles changed; one row an event, ordered by log position.
CREATE TABLE rm_user_history (
    event_id    uuid PRIMARY KEY,
    user_id     uuid        NOT NULL,
    commit_pos  bigint      NOT NULL,
    prepare_pos bigint      NOT NULL,
    at          timestamptz NOT NULL,
    kind        text        NOT NULL,
    by          text        NOT NULL,
    roles       text[]
);
CREATE INDEX ON rm_user_history (user_id, at, commit_pos, prepare_pos);
