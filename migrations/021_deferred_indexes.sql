-- +goose Up
-- A build's deferred indexes (projections/indexes.go), one row each
-- rather than one row of all of them: two connections now make them at
-- once, each index in a transaction of its own that also deletes its row.
-- An index made is then never made again, and one cut short (a crash, a
-- lost connection) stays for the next attempt. seq is the order they are
-- taken in.
--
-- The table has a new name so that an instance of an older release,
-- running while a newer one deploys, finds no table of the old shape:
-- its look for pending indexes then fails and it leaves them to the
-- newer one, where the old code, finding one row of several, would have
-- made that index and deleted the others' rows.
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

DROP TABLE projection_pending_indexes;

-- +goose Down
CREATE TABLE projection_pending_indexes (
    schema_name text PRIMARY KEY,
    ddl         text NOT NULL
);

INSERT INTO projection_pending_indexes (schema_name, ddl)
SELECT schema_name, string_agg(ddl, E'\n' ORDER BY seq)
  FROM projection_deferred_indexes
 GROUP BY schema_name;

DROP TABLE projection_deferred_indexes;
