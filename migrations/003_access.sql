-- +goose Up
-- Whether user.invitation_expired was recorded for the current invitation
-- (the sweeper's work list is the pending users past expiry without it).
ALTER TABLE rm_users ADD COLUMN invitation_expiry_recorded boolean NOT NULL DEFAULT false;
CREATE INDEX rm_users_unrecorded_expiry ON rm_users (invitation_expires_at)
    WHERE status = 'pending' AND NOT invitation_expiry_recorded;

-- A user's history as the detail page shows it: invited, resent, expired,
-- accepted, roles changed; one row an event.
CREATE TABLE rm_user_history (
    event_id uuid PRIMARY KEY,
    user_id  uuid        NOT NULL,
    -- The event's log position orders events of the same instant.
    commit_pos  bigint      NOT NULL,
    prepare_pos bigint      NOT NULL,
    at       timestamptz NOT NULL,
    kind     text        NOT NULL,
    by       text        NOT NULL,
    roles    text[]
);
CREATE INDEX rm_user_history_user ON rm_user_history (user_id, at, commit_pos, prepare_pos);

-- +goose Down
DROP TABLE rm_user_history;
ALTER TABLE rm_users DROP COLUMN invitation_expiry_recorded;
