-- +goose Up
-- The indexes a projector's first build creates once it has caught up
-- with the log, rather than row by row from its start
-- (projections/indexes.go). Kept here, not in memory, so that whichever
-- instance leads the projector then creates them, after a restart too.
CREATE TABLE projection_pending_indexes (
    schema_name text PRIMARY KEY,
    ddl         text NOT NULL
);

-- +goose Down
DROP TABLE projection_pending_indexes;
