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

-- A user's history as the detail page shows it: invited, resent, expired,
-- accepted, roles changed, ...; one entry an event, in log order, an
-- invitation or resend with the invitation it sent. One row a user, not
-- one an event: while catching up, a batch's events of a user are one
-- write rather than one row each (the history rows were most of what a
-- catch-up wrote), and the detail page reads it with the user's row.
-- Appends to entries, like invitation_count, rely on the checkpoint alone
-- to happen once.
CREATE TABLE rm_user_history (
    user_id uuid  PRIMARY KEY,
    entries jsonb NOT NULL
);
