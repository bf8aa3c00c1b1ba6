-- +goose Up
-- A projector's checkpoint advanced by compare-and-set, raising when
-- another instance moved it first. Returning "no row" is not enough for a
-- batch that sends its COMMIT in the same round trip as its writes
-- (projections/pipelined.go): only an error stops that COMMIT. SQLSTATE
-- BZ409 is bizcenter's own; every checkpoint save (projections.Step)
-- calls this and maps it to ErrCheckpointMoved.
-- +goose StatementBegin
CREATE FUNCTION advance_checkpoint(
    p_name text, p_commit bigint, p_prepare bigint, p_from_commit bigint, p_from_prepare bigint)
RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO projection_checkpoints AS c (name, commit_pos, prepare_pos, updated_at)
    VALUES (p_name, p_commit, p_prepare, now())
    ON CONFLICT (name) DO UPDATE SET commit_pos = p_commit, prepare_pos = p_prepare, updated_at = now()
     WHERE c.commit_pos = p_from_commit AND c.prepare_pos = p_from_prepare;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'checkpoint % moved from %-%', p_name, p_from_commit, p_from_prepare
            USING ERRCODE = 'BZ409';
    END IF;
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION advance_checkpoint(text, bigint, bigint, bigint, bigint);
