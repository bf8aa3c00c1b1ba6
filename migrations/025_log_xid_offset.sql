-- +goose Up
-- Positions outlive a restore into another cluster. An event's position
-- begins with its transaction's id (001), and a database moved by
-- pg_dump and pg_restore (to another cluster, a managed service, a new
-- major version) lands where transaction ids start low again: every
-- append there got a position below the whole restored log, which every
-- reader whose checkpoint was restored passed over for good, and whose
-- ?after read as reached at once. A transaction's id in the log is now
-- its id plus log_xid_offset(), 0 until a store opens on a log that
-- lies ahead of the cluster (keep_log_ahead, eventstore/postgres
-- Open): it then rewrites the function with the offset that puts new
-- appends after the last event. The function is a constant, folded into
-- each plan: replacing it makes PostgreSQL plan again the statements
-- that used it (and pg_dump carries it with the events).
-- +goose StatementBegin
CREATE FUNCTION log_xid_offset() RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$ SELECT 0::bigint $fn$;
-- +goose StatementEnd
ALTER TABLE events ALTER COLUMN tx_id SET DEFAULT (pg_current_xact_id()::text::bigint + log_xid_offset());

-- keep_log_ahead moves log_xid_offset() so that the next append's
-- position follows every stored event's, and returns the new offset (NULL
-- when none was needed: always, but after a restore into another
-- cluster). The look needs no lock; the move takes the appends' mark
-- (010) exclusively, so no append is in flight or begins meanwhile.
-- +goose StatementBegin
CREATE FUNCTION keep_log_ahead() RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
    v_offset bigint;
BEGIN
    -- The id the next transaction gets, without taking one.
    IF NOT EXISTS (SELECT FROM events WHERE tx_id >= pg_snapshot_xmax(pg_current_snapshot())::text::bigint + log_xid_offset()) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(1651077731, 1);
    -- Every later append's transaction id is above this one's.
    v_offset := (SELECT max(tx_id) FROM events) + 1 - pg_current_xact_id()::text::bigint;
    IF v_offset <= log_xid_offset() THEN
        RETURN NULL; -- another instance moved it meanwhile
    END IF;
    EXECUTE format('CREATE OR REPLACE FUNCTION log_xid_offset() RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
                   format('SELECT %s::bigint', v_offset));
    RETURN v_offset;
END
$fn$;
-- +goose StatementEnd

-- +goose Down
-- Only sound while log_xid_offset() is 0: with an offset, appends would
-- again land below the restored log.
DROP FUNCTION keep_log_ahead();
ALTER TABLE events ALTER COLUMN tx_id SET DEFAULT (pg_current_xact_id()::text::bigint);
DROP FUNCTION log_xid_offset();
