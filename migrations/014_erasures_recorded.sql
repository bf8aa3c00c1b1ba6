-- +goose Up
-- An erasure destroys the key, then appends user.personal_data_erased,
-- then marks the key's erasure recorded. The sweeper finishes every
-- erasure not marked (service/sweeper.go): found by the key store alone,
-- not by a read model that a rebuild would show blank before the event.
-- Keys erased before this column read as unrecorded: the sweeper looks at
-- each once, appends what is missing, and marks it.
ALTER TABLE personal_keys ADD COLUMN erasure_recorded boolean NOT NULL DEFAULT false;
CREATE INDEX personal_keys_unrecorded ON personal_keys (erased_at) WHERE erased_at IS NOT NULL AND NOT erasure_recorded;
DROP INDEX personal_keys_erased;

-- +goose Down
CREATE INDEX personal_keys_erased ON personal_keys (erased_at) WHERE erased_at IS NOT NULL;
DROP INDEX personal_keys_unrecorded;
ALTER TABLE personal_keys DROP COLUMN erasure_recorded;
