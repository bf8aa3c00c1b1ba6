-- +goose Up
-- append_streams appends to several streams in one transaction, all or
-- none: InviteUser's claim on an email and the invited user were two
-- appends, two commits and two round trips, and a process that died
-- between them left a claim that held the email for a minute (see
-- commands/email_claims.go). Each stream's batch is p_counts[i] events of
-- the flat arrays, in order. It takes the appends' mark (010) and every
-- stream's lock, in the order of their keys so that two of these never
-- wait on each other in a cycle, before its transaction has an id, as
-- append_events does. It writes only when every expectation holds;
-- otherwise it writes nothing and answers 'conflict' for the streams whose
-- expectation failed, with their last revision, and 'unwritten' for the
-- others. A retry is not told from a conflict (ids are not probed): a
-- caller reads the streams and decides again. An id stored anywhere else
-- is refused by the unique index (unique_violation on events_event_id).
-- +goose StatementBegin
CREATE FUNCTION append_streams(
    p_streams text[], p_expects text[], p_expecteds bigint[], p_counts int[],
    p_ids uuid[], p_types text[], p_data bytea[], p_metadata bytea[])
RETURNS TABLE (outcome text, revision bigint, commit_pos bigint, prepare_pos bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_key     bigint;
    v_current bigint[] := '{}';
    v_met     boolean[] := '{}';
    v_cur     bigint;
    v_from    int := 1;
    v_pos     record;
    i         int;
BEGIN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'append_streams must run before anything else its transaction writes';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(1651077731, 1);
    FOR v_key IN SELECT DISTINCT hashtextextended(s, 0) FROM unnest(p_streams) s ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(v_key);
    END LOOP;

    FOR i IN 1 .. cardinality(p_streams) LOOP
        SELECT max(e.revision) INTO v_cur FROM events e WHERE e.stream = p_streams[i];
        v_current := v_current || v_cur;
        v_met := v_met || (CASE p_expects[i]
            WHEN 'no_stream' THEN v_cur IS NULL
            WHEN 'stream_exists' THEN v_cur IS NOT NULL
            WHEN 'exact' THEN v_cur IS NOT DISTINCT FROM p_expecteds[i]
            ELSE true END);
    END LOOP;

    IF false = ANY(v_met) THEN
        RETURN QUERY SELECT CASE WHEN m THEN 'unwritten' ELSE 'conflict' END, c, NULL::bigint, NULL::bigint
            FROM unnest(v_met, v_current) AS u(m, c);
        RETURN;
    END IF;

    FOR i IN 1 .. cardinality(p_streams) LOOP
        WITH ins AS (
            INSERT INTO events (event_id, stream, revision, type, data, metadata)
            SELECT u.id, p_streams[i], coalesce(v_current[i], -1) + u.ord, u.t, u.d, u.m
              FROM unnest(p_ids[v_from : v_from + p_counts[i] - 1], p_types[v_from : v_from + p_counts[i] - 1],
                          p_data[v_from : v_from + p_counts[i] - 1], p_metadata[v_from : v_from + p_counts[i] - 1])
                   WITH ORDINALITY AS u(id, t, d, m, ord)
            RETURNING events.tx_id, events.seq
        )
        SELECT max(ins.tx_id) AS tx_id, max(ins.seq) AS seq INTO v_pos FROM ins;
        RETURN QUERY SELECT 'ok'::text, coalesce(v_current[i], -1) + p_counts[i], v_pos.tx_id, v_pos.seq;
        v_from := v_from + p_counts[i];
    END LOOP;
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION append_streams(text[], text[], bigint[], int[], uuid[], text[], bytea[], bytea[]);
