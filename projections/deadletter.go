package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
)

// MaxAttempts is how many times an event is tried before it is parked.
var MaxAttempts = 3

// Dead-letter statuses.
const (
	DeadParked  = "parked"
	DeadWaiting = "waiting"
	DeadRetried = "retried"
	DeadSkipped = "skipped"
)

// DeadLetter is an event a projector could not apply, or one held behind
// such an event of its stream.
type DeadLetter struct {
	ID             int64      `json:"id"`
	Projector      string     `json:"projector"`
	EventID        string     `json:"eventId"`
	Stream         string     `json:"stream"`
	Position       string     `json:"position"`
	EventType      string     `json:"eventType"`
	Status         string     `json:"status"`
	Error          string     `json:"error,omitempty"`
	Attempts       int        `json:"attempts"`
	ParkedAt       time.Time  `json:"parkedAt"`
	ResolvedBy     *string    `json:"resolvedBy"`
	ResolvedReason *string    `json:"resolvedReason"`
	ResolvedAt     *time.Time `json:"resolvedAt"`

	key DeadLetterKey
}

// attempts counts failures per event across redeliveries of a batch.
type attempts struct {
	mu sync.Mutex
	n  map[string]int
}

func (a *attempts) fail(id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = map[string]int{}
	}
	a.n[id]++
	return a.n[id]
}

func (a *attempts) forget(id string) {
	a.mu.Lock()
	delete(a.n, id)
	a.mu.Unlock()
}

// blockedSQL selects which of some streams ($2) an open dead letter of a
// projector ($1) blocks: one probe of the open letters' index a stream,
// however many events wait in it.
const blockedSQL = `
	SELECT s FROM unnest($2::text[]) s
	 WHERE EXISTS (SELECT FROM projection_dead_letters d
	                WHERE d.projector = $1 AND d.stream = s AND d.status IN ('parked', 'waiting'))`

// blockedStreams are the streams of records with an open dead letter for
// p. Read it after the build's lock is taken, in a statement of its own:
// the statement that waited for the lock reads with a snapshot from
// before the wait, when a letter an operator has since resolved (holding
// the lock, see Resolve) was still open.
func blockedStreams(ctx context.Context, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, projector string, records []Record) (map[string]bool, error) {
	rows, err := db.Query(ctx, blockedSQL, projector, streamsOf(records))
	if err != nil {
		return nil, err
	}
	streams, err := pgx.CollectRows(rows, pgx.RowTo[string])
	out := make(map[string]bool, len(streams))
	for _, s := range streams {
		out[s] = true
	}
	return out, err
}

// streamsOf is the streams of records, each once.
func streamsOf(records []Record) []string {
	var streams []string
	seen := map[string]bool{}
	for _, r := range records {
		if !seen[r.Stream] {
			seen[r.Stream] = true
			streams = append(streams, r.Stream)
		}
	}
	return streams
}

// park records an event as a dead letter with a status.
func park(ctx context.Context, tx pgx.Tx, projector string, r Record, status, reason string, tries int) error {
	_, err := tx.Exec(ctx, parkSQL, parkArgs(projector, r, status, reason, tries)...)
	return err
}

// queueWaiting is park of records as waiting, queued in a pipeline in
// order, so that they take ids in log order as applyEach's do.
func queueWaiting(q *pgx.Batch, projector string, records []Record) {
	for _, r := range records {
		q.Queue(parkSQL, parkArgs(projector, r, DeadWaiting, "", 0)...)
	}
}

const parkSQL = `
	INSERT INTO projection_dead_letters (projector, event_id, stream, commit_pos, prepare_pos, event_type,
	    data, metadata, revision, recorded_at, status, error, attempts)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
	ON CONFLICT (projector, event_id) DO NOTHING`

func parkArgs(projector string, r Record, status, reason string, tries int) []any {
	return []any{projector, r.ID, r.Stream, int64(r.Position.Commit), int64(r.Position.Prepare), r.Type,
		[]byte(r.Data), []byte(r.Metadata), int64(r.Revision), r.RecordedAt, status, reason, tries}
}

// errWaitingBehind is what the trace says of an event held back behind a
// dead letter of its stream.
var errWaitingBehind = errors.New("waiting behind a dead letter of its stream")

// applyEach applies records one by one, each under a savepoint: a record
// whose stream is blocked waits behind it; one that fails is tried again
// with the batch (an error) until MaxAttempts, then parked (and put in
// parked, with why, for the event's trace).
func applyEach(ctx context.Context, tx pgx.Tx, p Projector, records []Record, from eventstore.Position, tries *attempts, parked map[uuid.UUID]error) error {
	blocked, err := blockedStreams(ctx, tx, p.Name(), records)
	if err != nil {
		return err
	}
	for _, r := range records {
		if !from.Less(r.Position) {
			continue
		}
		if blocked[r.Stream] {
			if err := park(ctx, tx, p.Name(), r, DeadWaiting, "", 0); err != nil {
				return err
			}
			parked[r.ID] = errWaitingBehind
			continue
		}
		err := applyOne(ctx, tx, p, r)
		if err == nil {
			tries.forget(r.ID.String())
			continue
		}
		if n := tries.fail(r.ID.String()); n < MaxAttempts {
			return fmt.Errorf("%s %s@%d (attempt %d of %d): %w", r.Type, r.Stream, r.Revision, n, MaxAttempts, err)
		}
		if err := park(ctx, tx, p.Name(), r, DeadParked, err.Error(), MaxAttempts); err != nil {
			return err
		}
		parked[r.ID] = fmt.Errorf("parked as a dead letter: %w", err)
		tries.forget(r.ID.String())
		blocked[r.Stream] = true
	}
	return nil
}

// applyOne applies one record under a savepoint, rolled back on failure.
func applyOne(ctx context.Context, tx pgx.Tx, p Projector, r Record) error {
	env, ok, err := r.Envelope(Opener(ctx, tx))
	if err != nil || !ok {
		return err
	}
	q := &pgx.Batch{}
	p.Apply(q, env)
	if q.Len() == 0 {
		return nil
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	if err := sp.SendBatch(ctx, q).Close(); err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	return sp.Commit(ctx)
}

// DeadLetterKey is where a page of dead letters ends: they list open
// ones first, then in log order.
type DeadLetterKey struct {
	Closed  bool  `json:"c"`
	Commit  int64 `json:"p"`
	Prepare int64 `json:"q"`
	ID      int64 `json:"id"`
}

// PageKey is where a page ending with d ends.
func (d DeadLetter) PageKey() DeadLetterKey { return d.key }

// ListDeadLetters lists up to limit dead letters of every projector after
// the key (the zero key: from the first), open ones first, and whether
// more follow.
func ListDeadLetters(ctx context.Context, pool *pgxpool.Pool, after DeadLetterKey, limit int) (_ []DeadLetter, more bool, _ error) {
	rows, err := pool.Query(ctx, `
		SELECT id, projector, event_id::text, stream, commit_pos || '-' || prepare_pos, event_type, status, error,
		       attempts, parked_at, resolved_by, resolved_reason, resolved_at,
		       status NOT IN ('parked', 'waiting'), commit_pos, prepare_pos
		  FROM projection_dead_letters
		 WHERE (status NOT IN ('parked', 'waiting'), commit_pos, prepare_pos, id) > ($1, $2, $3, $4)
		 ORDER BY status NOT IN ('parked', 'waiting'), commit_pos, prepare_pos, id
		 LIMIT $5`, after.Closed, after.Commit, after.Prepare, after.ID, limit+1)
	if err != nil {
		return nil, false, err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (DeadLetter, error) {
		var d DeadLetter
		err := row.Scan(&d.ID, &d.Projector, &d.EventID, &d.Stream, &d.Position, &d.EventType, &d.Status, &d.Error,
			&d.Attempts, &d.ParkedAt, &d.ResolvedBy, &d.ResolvedReason, &d.ResolvedAt, &d.key.Closed, &d.key.Commit, &d.key.Prepare)
		d.key.ID = d.ID
		return d, err
	})
	if err != nil || len(items) <= limit {
		return items, false, err
	}
	return items[:limit], true, nil
}

// ErrNotParked: the dead letter does not exist or is not parked.
var ErrNotParked = errors.New("no parked dead letter with that id")

// ErrResolved: the dead letter was retried or skipped already; nothing
// is left to do.
var ErrResolved = errors.New("nothing is left to do")

// ErrWaiting: the dead letter waits behind a parked one of its stream,
// which is the one to resolve.
var ErrWaiting = errors.New("a waiting dead letter is resolved with the parked one it waits behind")

// skippedEvents are the event ids operators skipped for a projector:
// builds leave them out, as the live build did.
func skippedEvents(ctx context.Context, pool *pgxpool.Pool, projector string) (map[string]bool, error) {
	rows, err := pool.Query(ctx, `SELECT event_id::text FROM projection_dead_letters WHERE projector = $1 AND status = 'skipped'`, projector)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}
