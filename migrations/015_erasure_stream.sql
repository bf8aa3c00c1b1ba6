-- +goose Up
-- The stream an erasure's event goes to: user-<id> for a user of an
-- account, partner-<id> for a user of a partner. The sweeper finishes an
-- erasure that stopped half way in that stream (service/sweeper.go); NULL
-- (erasures made before this column) is a user of an account, the only
-- kind that could be erased then.
ALTER TABLE personal_keys ADD COLUMN erasure_stream text;

-- +goose Down
ALTER TABLE personal_keys DROP COLUMN erasure_stream;
