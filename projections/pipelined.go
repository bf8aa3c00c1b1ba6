package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/personal"
)

// applyPipelined applies a batch as a whole to the active build in two
// round trips where a pgx transaction takes five (begin, the build, the
// keys, the writes, the commit). Live, a batch is one event: those round
// trips were most of its way to the read API and, with every consumer
// woken by each event, much of the work of the database and of this
// process. The first round trip begins, reads and locks the active build
// with its checkpoint (activeBuildSQL) and fetches the batch's personal
// keys; the second writes, advances the checkpoint by compare-and-set,
// and commits. advance_checkpoint (migration 011) raises when the
// checkpoint moved, so the COMMIT queued behind it never runs then.
//
// It returns errBlocked when a dead letter blocks a stream of the
// projector, and errBatchFailed when the events could not be applied
// together: the caller then applies them one by one (applyEachActive).
func applyPipelined(ctx context.Context, pool *pgxpool.Pool, p Versioned, b Batch) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("projector %s: %w", p.Name(), err)
	}
	defer conn.Release()
	defer rollbackOpen(ctx, conn)

	q := &pgx.Batch{}
	q.Queue(`BEGIN`)
	var build activeBuild
	q.Queue(activeBuildSQL, p.Name()).QueryRow(build.scan)
	opener := personal.Keys{DB: conn}.QueueOpenerFor(q, sealedSubjects(b.Records))
	if err := conn.SendBatch(ctx, q).Close(); err != nil {
		return fmt.Errorf("projector %s: active build: %w", p.Name(), err)
	}
	st, err := build.step(ctx, conn, b.Through)
	switch {
	case err != nil:
		return err
	case build.Version != p.Version():
		return build.otherVersion(p)
	case st.Applied():
		return nil
	case build.blocked:
		return errBlocked
	}
	w, err := queueAll(p, b.Records, st.from, opener(ctx))
	if err != nil {
		return fmt.Errorf("%w: projector %s: %w", errBatchFailed, p.Name(), err)
	}
	st.queueSave(w)
	w.Queue(`COMMIT`)
	err = st.moved(conn.SendBatch(ctx, w).Close())
	if err != nil && !errors.Is(err, ErrCheckpointMoved) {
		err = fmt.Errorf("%w: projector %s: %w", errBatchFailed, p.Name(), err)
	}
	return err
}

// rollbackOpen ends a transaction a failed pipeline left open. Should
// that fail too, the pool closes the connection instead of reusing it.
func rollbackOpen(ctx context.Context, conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() != 'I' {
		_, _ = conn.Exec(ctx, `ROLLBACK`)
	}
}
