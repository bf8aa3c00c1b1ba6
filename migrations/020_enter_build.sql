-- +goose Up
-- A projector's handler that remembers the active build and the checkpoint
-- its last batch committed sends its next batch in one round trip
-- (projections/onetrip.go): BEGIN, this check, the writes, the checkpoint's
-- compare-and-set, COMMIT. The check holds the build row for share, as the
-- batch's first query does on the two-trip path (activeBuildSQL), and
-- raises when what the handler remembers is no longer so: another build
-- is active, its checkpoint moved, or a dead letter of the projector is
-- open. Only an error stops the writes and the COMMIT queued behind it.
-- SQLSTATE BZ412 is bizcenter's own; the handler then takes the two-trip
-- path, which reads everything again.
-- +goose StatementBegin
CREATE FUNCTION enter_build(
    p_name text, p_schema text, p_version int, p_commit bigint, p_prepare bigint)
RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM FROM projection_versions v
      JOIN projection_checkpoints c ON c.name = v.active_schema
     WHERE v.name = p_name AND v.active_schema = p_schema AND v.version = p_version
       AND c.commit_pos = p_commit AND c.prepare_pos = p_prepare
       AND NOT EXISTS (SELECT FROM projection_dead_letters d
                        WHERE d.projector = v.name AND d.status IN ('parked', 'waiting'))
       FOR SHARE OF v;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'projector % is not where it was: build %, version %, checkpoint %-%',
            p_name, p_schema, p_version, p_commit, p_prepare
            USING ERRCODE = 'BZ412';
    END IF;
    PERFORM set_config('search_path', quote_ident(p_schema) || ', public', true),
            set_config('synchronous_commit', 'off', true);
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION enter_build(text, text, int, bigint, bigint);
