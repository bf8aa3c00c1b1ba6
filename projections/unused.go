package projections

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
)

// writtenTypes is the set of event types p writes for. Projectors choose
// by type (see Projector), so the zero value of each registered type
// answers for every event of it. A type whose probe panics counts as
// written: the probe must never make the projector miss an event.
func writtenTypes(p Projector) map[string]bool {
	written := map[string]bool{}
	for _, t := range event.Types() {
		zero, _ := event.Zero(t)
		written[t] = probeWrites(p, zero)
	}
	return written
}

func probeWrites(p Projector, e event.Event) (writes bool) {
	defer func() {
		if recover() != nil {
			writes = true
		}
	}()
	q := &pgx.Batch{}
	p.Apply(q, event.Envelope{Event: e})
	return q.Len() > 0
}

// writesAny reports whether a batch holds an event p writes for (or one
// of a type this build does not know, which takes the ordinary path).
func writesAny(written map[string]bool, b Batch) bool {
	for _, r := range b.Records {
		if w, known := written[r.Type]; w || !known {
			return true
		}
	}
	return false
}

// passOver advances the active build's checkpoint to through without a
// transaction of its own, for a batch of events the projector writes
// nothing for: live, most events are of no concern to most projectors,
// and a transaction each (begin, the build's row, the commit) was a fifth
// of the database's work for every command. It only moves forward, and
// only while the build is of p's version with no dead letter open (a
// stream blocked behind one records the events waiting behind it, even
// these); otherwise it reports false and the batch takes the ordinary
// path, which sorts those cases out. The commit is a read model's (see
// readModelCommit): the statements share one implicit transaction.
func passOver(ctx context.Context, pool *pgxpool.Pool, p Versioned, through eventstore.Position) (bool, error) {
	q := &pgx.Batch{}
	q.Queue(`SELECT set_config('synchronous_commit', 'off', true)`)
	moved := q.Queue(`
		UPDATE projection_checkpoints c SET commit_pos = $3, prepare_pos = $4, updated_at = now()
		  FROM projection_versions v
		 WHERE v.name = $1 AND v.version = $2 AND c.name = v.active_schema
		   AND (c.commit_pos, c.prepare_pos) < ($3, $4)
		   AND NOT EXISTS (SELECT FROM projection_dead_letters d
		                    WHERE d.projector = v.name AND d.status IN ('parked', 'waiting'))`,
		p.Name(), p.Version(), int64(through.Commit), int64(through.Prepare))
	var n int64
	moved.Exec(func(tag pgconn.CommandTag) error { n = tag.RowsAffected(); return nil })
	if err := pool.SendBatch(ctx, q).Close(); err != nil {
		return false, err
	}
	return n == 1, nil
}
