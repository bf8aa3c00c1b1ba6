package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
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
// While a dead letter of the projector is open, a round trip between
// reads which of the batch's streams one blocks (blockedStreams), and
// the second parks their events as waiting, in log order, as applyEach
// does, while the other streams' events are applied: the batch still
// goes in one transaction. (The one-by-one path took a savepoint and
// round trips an event: a catch-up behind one parked event ran at a
// tenth of its rate or less.) No stream becomes blocked within the batch: an
// event that fails fails the batch with errBatchFailed, and the caller
// then applies it one by one (applyEachActive), which parks it.
//
// It says where its commit left the build (nil: it committed nothing, or
// found a dead letter open), for the handler's next batch to go in one
// round trip (applyOneTrip).
func applyPipelined(ctx context.Context, pool *pgxpool.Pool, p Versioned, b Batch, spans *batchSpans) (*leftAt, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("projector %s: %w", p.Name(), err)
	}
	defer conn.Release()
	defer rollbackOpen(ctx, conn)

	q := &pgx.Batch{}
	q.Queue(`BEGIN`)
	var build activeBuild
	q.Queue(activeBuildSQL, p.Name()).QueryRow(build.scan)
	opener := personal.Keys{DB: conn}.QueueOpenerFor(q, sealedSubjects(each(b.Records)))
	if err := conn.SendBatch(ctx, q).Close(); err != nil {
		return nil, fmt.Errorf("projector %s: active build: %w", p.Name(), err)
	}
	st, err := build.step(ctx, conn, b.Through)
	switch {
	case err != nil:
		return nil, err
	case build.Version != p.Version():
		return nil, build.otherVersion(p)
	case st.Applied():
		return nil, nil
	}
	// Almost always no letter is open, and the batch goes as it came (a
	// catch-up's batches are thousands of records: no copy of them).
	flowing, waiting := b.Records, []Record(nil)
	if build.blocked {
		blocked, err := blockedStreams(ctx, conn, p.Name(), b.Records)
		if err != nil {
			return nil, fmt.Errorf("projector %s: blocked streams: %w", p.Name(), err)
		}
		flowing, waiting = holdBack(b.Records, st.from, blocked)
	}
	w, err := queueAll(p, flowing, st.from, opener(ctx))
	if err != nil {
		return nil, fmt.Errorf("%w: projector %s: %w", errBatchFailed, p.Name(), err)
	}
	tail := &pgx.Batch{}
	queueWaiting(tail, p.Name(), waiting)
	st.queueSave(tail)
	tail.Queue(`COMMIT`)
	if err := st.moved(sendWrites(ctx, conn.Conn(), &pgx.Batch{}, w, tail)); err != nil {
		if !errors.Is(err, ErrCheckpointMoved) {
			err = fmt.Errorf("%w: projector %s: %w", errBatchFailed, p.Name(), err)
		}
		return nil, err
	}
	// Only now are they parked: a rolled-back attempt parked nothing.
	for _, r := range waiting {
		spans.fail(r.ID, errWaitingBehind)
	}
	if build.blocked {
		// While a letter is open enter_build refuses every batch: had the
		// handler remembered this, each batch until an operator resolves
		// the letter (hours, at times) would pay a refused round trip.
		return nil, nil
	}
	return &leftAt{schema: build.Schema, version: build.Version, at: b.Through}, nil
}

// holdBack splits the records after from into those of streams not
// blocked and those that wait behind a dead letter of theirs, each in log
// order.
func holdBack(records []Record, from eventstore.Position, blocked map[string]bool) (flowing, waiting []Record) {
	for _, r := range records {
		switch {
		case !from.Less(r.Position):
		case blocked[r.Stream]:
			waiting = append(waiting, r)
		default:
			flowing = append(flowing, r)
		}
	}
	return flowing, waiting
}

// rollbackOpen ends a transaction a failed pipeline left open. Should
// that fail too, the pool closes the connection instead of reusing it.
func rollbackOpen(ctx context.Context, conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() != 'I' {
		_, _ = conn.Exec(ctx, `ROLLBACK`)
	}
}
