-- +goose Up
-- The sweeper looks for erasures that destroyed a key and stopped before
-- appending user.personal_data_erased (service/sweeper.go): keys erased
-- in the last day, a few among many.
CREATE INDEX personal_keys_erased ON personal_keys (erased_at) WHERE erased_at IS NOT NULL;

-- +goose Down
DROP INDEX personal_keys_erased;
