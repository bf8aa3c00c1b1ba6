package projections

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
)

// leftAt is where a handler's last commit left the active build: which
// build it was, of which version, and the checkpoint it committed.
type leftAt struct {
	schema  string
	version int
	at      eventstore.Position
}

// lastCommit is what a projector's handler remembers of its last commit.
// It is only a guess: enter_build checks it inside the batch that relies
// on it, so a guess gone stale (a switch, a dead letter, another instance
// moving the checkpoint) costs one round trip and nothing else.
type lastCommit struct {
	mu   sync.Mutex
	left *leftAt // nil: not known
}

func (l *lastCommit) get() (leftAt, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left == nil {
		return leftAt{}, false
	}
	return *l.left, true
}

// remember keeps where a commit left the build (nil: not known).
func (l *lastCommit) remember(left *leftAt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.left = left
}

// movedTo is set after a commit that moved the checkpoint to pos without
// looking at the build (passOver): still the same build, if it was.
func (l *lastCommit) movedTo(pos eventstore.Position) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left != nil {
		l.left.at = pos
	}
}

// applyOneTrip applies a batch to the build where the handler's last
// commit left it, in one round trip: BEGIN, enter_build (migration 020:
// it raises unless that build is still active, of that version, at that
// checkpoint, with no dead letter open), the writes, the checkpoint's
// compare-and-set and COMMIT. Live, that is one round trip of the two
// applyPipelined takes, on the way of every event to the read API. (A
// batch with rows to load by COPY, a catch-up's, takes a few more: see
// sendWrites.)
//
// The caller makes sure every record opens without a key (needsNoKey):
// the keys are what the first of applyPipelined's round trips fetches.
// Statements new to the connection are parsed before BEGIN, against the
// public views of the active build; PostgreSQL plans them again for the
// build's schema when they run, since the search path then differs.
// Any error leaves the batch to applyPipelined, which reads everything
// again and tells what went wrong.
func applyOneTrip(ctx context.Context, pool *pgxpool.Pool, p Versioned, b Batch, left leftAt) error {
	w, err := queueAll(p, b.Records, left.at, nil)
	if err != nil {
		return err
	}
	head := &pgx.Batch{}
	head.Queue(`BEGIN`)
	head.Queue(`SELECT enter_build($1, $2, $3, $4, $5), `+IdleBound,
		p.Name(), left.schema, left.version, int64(left.at.Commit), int64(left.at.Prepare))
	tail := &pgx.Batch{}
	st := &Step{name: left.schema, from: left.at, to: b.Through}
	st.queueSave(tail)
	tail.Queue(`COMMIT`)

	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("projector %s: %w", p.Name(), err)
	}
	defer conn.Release()
	defer rollbackOpen(ctx, conn)
	return sendWrites(ctx, conn.Conn(), head, w, tail)
}

// needsNoKey reports whether every record after from opens without a
// personal key: not sealed, or opened ahead (see readAhead).
func needsNoKey(records []Record, from eventstore.Position) bool {
	for i := range records {
		r := &records[i]
		if from.Less(r.Position) && r.ahead == nil && r.sealed() {
			return false
		}
	}
	return true
}
