-- +goose Up
-- append_groups writes the appends of several callers in one transaction
-- and one round trip: the store gathers the appends that arrive while
-- others are in flight (eventstore/postgres/group.go). One commit then
-- carries many appends: with 8 clients, pgbench wrote 12-15k
-- invitations' appends a second in batches of 4 or 8, against 6.4k one
-- at a time.
--
-- p_groups[i] is the caller (1, 2, ...) that stream i belongs to; the
-- other arrays are as append_streams takes them (019). Every stream
-- appears once. It takes the appends' mark and the streams' locks as
-- append_streams does, then writes each group whose expectations all
-- hold, and answers 'unwritten' for every stream of a group with one that
-- does not. The store runs such a group again alone, through
-- append_events or append_streams, which tell a conflict from a retry.
-- +goose StatementBegin
CREATE FUNCTION append_groups(
    p_groups int[], p_streams text[], p_expects text[], p_expecteds bigint[], p_counts int[],
    p_ids uuid[], p_types text[], p_data bytea[], p_metadata bytea[])
RETURNS TABLE (outcome text, revision bigint, commit_pos bigint, prepare_pos bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_key     bigint;
    v_current bigint[] := '{}';
    v_held    boolean[];
    v_cur     bigint;
    v_from    int := 1;
    v_pos     record;
    i         int;
BEGIN
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'append_groups must run before anything else its transaction writes';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(1651077731, 1);
    FOR v_key IN SELECT DISTINCT hashtextextended(s, 0) FROM unnest(p_streams) s ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(v_key);
    END LOOP;

    v_held := array_fill(true, ARRAY[(SELECT max(g) FROM unnest(p_groups) g)]);
    FOR i IN 1 .. cardinality(p_streams) LOOP
        SELECT max(e.revision) INTO v_cur FROM events e WHERE e.stream = p_streams[i];
        v_current := v_current || v_cur;
        IF NOT (CASE p_expects[i]
            WHEN 'no_stream' THEN v_cur IS NULL
            WHEN 'stream_exists' THEN v_cur IS NOT NULL
            WHEN 'exact' THEN v_cur IS NOT DISTINCT FROM p_expecteds[i]
            ELSE true END) THEN
            v_held[p_groups[i]] := false;
        END IF;
    END LOOP;

    FOR i IN 1 .. cardinality(p_streams) LOOP
        IF v_held[p_groups[i]] THEN
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
        ELSE
            RETURN QUERY SELECT 'unwritten'::text, v_current[i], NULL::bigint, NULL::bigint;
        END IF;
        v_from := v_from + p_counts[i];
    END LOOP;
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION append_groups(int[], text[], text[], bigint[], int[], uuid[], text[], bytea[], bytea[]);
