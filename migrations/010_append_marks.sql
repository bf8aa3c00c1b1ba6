-- +goose Up
-- Appends announce themselves, so that a reader can tell "a transaction is
-- in flight" from "an append is in flight". The log is read below the
-- oldest transaction in flight (001): safe, but any transaction holds it
-- back, most often a projector's or the mailer's, which never write
-- events. append_events now holds a shared advisory lock, taken before
-- its transaction has an id, until it ends; a reader that gets the same
-- lock exclusively, and then takes its snapshot, knows every append with
-- a lower transaction id has ended, so it may read everything committed
-- (eventstore/postgres/quiet.go). The lock is a pair of int4 keys, a key
-- space apart from the single bigint keys of the stream locks.
ALTER FUNCTION append_events(text, text, bigint, uuid[], text[], bytea[], bytea[]) RENAME TO append_events_unmarked;

-- +goose StatementBegin
CREATE FUNCTION append_events(
    p_stream text, p_expect text, p_expected bigint,
    p_ids uuid[], p_types text[], p_data bytea[], p_metadata bytea[])
RETURNS TABLE (outcome text, revision bigint, commit_pos bigint, prepare_pos bigint)
LANGUAGE plpgsql AS $fn$
BEGIN
    -- Taken after the transaction got an id, the mark could be missed by
    -- a reader whose snapshot already counts that id as in flight.
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'append_events must run before anything else its transaction writes';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(1651077731, 1);
    RETURN QUERY SELECT * FROM append_events_unmarked(p_stream, p_expect, p_expected, p_ids, p_types, p_data, p_metadata);
END
$fn$;
-- +goose StatementEnd

COMMENT ON FUNCTION append_events_unmarked(text, text, bigint, uuid[], text[], bytea[], bytea[]) IS
    'Internal to append_events, which holds the appends'' lock around it: never call it directly.';

-- +goose Down
DROP FUNCTION append_events(text, text, bigint, uuid[], text[], bytea[], bytea[]);
ALTER FUNCTION append_events_unmarked(text, text, bigint, uuid[], text[], bytea[], bytea[]) RENAME TO append_events;
