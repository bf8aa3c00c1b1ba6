-- +goose Up
-- Keys of personal data (personal/personal.go): one random AES-256-GCM key
-- a person (subject_id: the user id), which seals the personal fields of
-- that person's events. Erasing deletes the key and keeps the row as the
-- record of the erasure: who, when, why.
CREATE TABLE personal_keys (
    subject_id    uuid        PRIMARY KEY,
    key           bytea,                 -- NULL once erased
    created_at    timestamptz NOT NULL DEFAULT now(),
    erased_at     timestamptz,
    erased_by     text,
    erased_reason text,
    CHECK ((key IS NULL) = (erased_at IS NOT NULL))
);

-- +goose Down
DROP TABLE personal_keys;
