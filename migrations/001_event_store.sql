-- +goose Up
-- The PostgreSQL event store. The global log is ordered by (tx_id, seq):
-- readers only read below the oldest transaction still in flight
-- (pg_snapshot_xmin), so an event whose transaction commits after a
-- higher-numbered one is never passed over.
CREATE TABLE events (
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    tx_id       bigint      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    event_id    uuid        NOT NULL,
    stream      text        NOT NULL,
    revision    bigint      NOT NULL,
    type        text        NOT NULL,
    data        bytea       NOT NULL,
    metadata    bytea       NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream, revision)
);
CREATE UNIQUE INDEX events_log ON events (tx_id, seq);
CREATE UNIQUE INDEX events_event_id ON events (event_id);

-- append_events appends a batch to one stream in one round trip.
-- p_expect is 'any', 'no_stream', 'stream_exists' or 'exact'.
-- outcome: 'ok' (written), 'retried' (the same ids were already written at
-- this place: nothing written), 'conflict' (revision is the stream's last
-- revision, NULL when it has no events).
-- +goose StatementBegin
CREATE FUNCTION append_events(
    p_stream text, p_expect text, p_expected bigint,
    p_ids uuid[], p_types text[], p_data bytea[], p_metadata bytea[])
RETURNS TABLE (outcome text, revision bigint, commit_pos bigint, prepare_pos bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_current  bigint;
    v_first    bigint;
    v_n        int := cardinality(p_ids);
    v_known    int;
    v_min_rev  bigint;
    v_max_rev  bigint;
    v_in_order boolean;
BEGIN
    -- Lock the stream before this transaction writes anything: an advisory
    -- lock needs no transaction id, so a later append to the same stream
    -- always gets a higher one and the log keeps each stream's order.
    PERFORM pg_advisory_xact_lock(hashtextextended(p_stream, 0));
    SELECT max(e.revision) INTO v_current FROM events e WHERE e.stream = p_stream;

    -- A retry of an append already written answers as the first one did:
    -- every id must be stored in this stream, in order, where the
    -- expectation would have put it. Ids stored anywhere else conflict.
    SELECT count(*), min(e.revision), max(e.revision), bool_and(e.stream = p_stream)
      INTO v_known, v_min_rev, v_max_rev, v_in_order
      FROM events e WHERE e.event_id = ANY(p_ids);
    IF v_known > 0 THEN
        IF v_known = v_n AND v_in_order AND v_max_rev - v_min_rev + 1 = v_n AND (
               p_expect IN ('any', 'stream_exists')
            OR (p_expect = 'no_stream' AND v_min_rev = 0)
            OR (p_expect = 'exact' AND v_min_rev = p_expected + 1))
           AND NOT EXISTS (
               SELECT 1 FROM unnest(p_ids) WITH ORDINALITY AS u(id, ord)
               JOIN events e ON e.event_id = u.id
               WHERE e.revision <> v_min_rev + u.ord - 1) THEN
            RETURN QUERY SELECT 'retried'::text, e.revision, e.tx_id, e.seq
                FROM events e WHERE e.stream = p_stream AND e.revision = v_max_rev;
            RETURN;
        END IF;
        RETURN QUERY SELECT 'conflict'::text, v_current, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    -- (The CASE is parenthesised: plpgsql ends an IF condition at the first THEN.)
    IF NOT (CASE p_expect
        WHEN 'no_stream' THEN v_current IS NULL
        WHEN 'stream_exists' THEN v_current IS NOT NULL
        WHEN 'exact' THEN v_current IS NOT DISTINCT FROM p_expected
        ELSE true END) THEN
        RETURN QUERY SELECT 'conflict'::text, v_current, NULL::bigint, NULL::bigint;
        RETURN;
    END IF;

    v_first := coalesce(v_current, -1) + 1;
    RETURN QUERY
    WITH ins AS (
        INSERT INTO events (event_id, stream, revision, type, data, metadata)
        SELECT u.id, p_stream, v_first + u.ord - 1, u.t, u.d, u.m
          FROM unnest(p_ids, p_types, p_data, p_metadata) WITH ORDINALITY AS u(id, t, d, m, ord)
        RETURNING events.tx_id, events.seq
    )
    SELECT 'ok'::text, v_first + v_n - 1, max(ins.tx_id), max(ins.seq) FROM ins;
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION append_events;
DROP TABLE events;
