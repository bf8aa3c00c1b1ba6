-- +goose Up
-- A build's deferred indexes (projections/indexes.go), one row each
-- rather than one row of all of them: two connections now make them at
-- once, each index in a transaction of its own that also deletes its row.
-- An index made is then never made again, and one cut short (a crash, a
-- lost connection) stays for the next attempt. seq is the order they are
-- taken in.
--
-- The rows move to a new table, and the old one stays, empty and
-- refusing rows, for an older release running beside this one (a
-- rolling deploy, or `projections rebuild --roll-back` with the older
-- binary):
--   - its look for pending indexes finds none, and leaves them to this
--     release (finding one row of several, its code would have made that
--     index and deleted the other rows);
--   - its dropBuild, which deletes from the old table, still works;
--   - a first build of its own that defers indexes fails, rather than
--     leave them where this release never looks.
--
-- An older instance making indexes holds their row until it commits
-- (having made them and deleted the row): the lock waits for that, so
-- that they are not moved here and made a second time.
LOCK TABLE projection_pending_indexes IN ACCESS EXCLUSIVE MODE;

CREATE TABLE projection_deferred_indexes (
    schema_name text NOT NULL,
    seq         int  NOT NULL,
    ddl         text NOT NULL,
    PRIMARY KEY (schema_name, seq)
);

INSERT INTO projection_deferred_indexes (schema_name, seq, ddl)
SELECT p.schema_name, s.n, btrim(s.line)
  FROM projection_pending_indexes p,
       regexp_split_to_table(p.ddl, E'\n') WITH ORDINALITY AS s(line, n)
 WHERE btrim(s.line) <> '';

DELETE FROM projection_pending_indexes;

ALTER TABLE projection_pending_indexes
  ADD CONSTRAINT projection_pending_indexes_retired CHECK (false);

-- +goose Down
LOCK TABLE projection_deferred_indexes IN ACCESS EXCLUSIVE MODE;

ALTER TABLE projection_pending_indexes DROP CONSTRAINT projection_pending_indexes_retired;

INSERT INTO projection_pending_indexes (schema_name, ddl)
SELECT schema_name, string_agg(ddl, E'\n' ORDER BY seq)
  FROM projection_deferred_indexes
 GROUP BY schema_name;

DROP TABLE projection_deferred_indexes;
