// Package postgres is the embedded event store: the eventstore port on
// PostgreSQL (schema in migrations/001_event_store.sql).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Config tunes the store.
type Config struct {
	// PollInterval bounds how long a live subscription waits before looking
	// for events appended by another process (appends through this Store
	// wake subscribers at once). Default 50ms.
	PollInterval time.Duration
	// PageSize is how many events a subscription reads per query while
	// catching up. Default 500.
	PageSize int
	// Writers is how many appends run at once; the appends that arrive
	// while all of them are busy wait and go together, in one transaction
	// (group.go). Default 2: under load, fewer and larger batches commit
	// more appends a second than more and smaller ones.
	Writers int
}

// Store is the PostgreSQL event store. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	cfg    Config
	wakeup *broadcast
	tail   tail
	// appending counts this store's appends in flight; each wakes the
	// subscriptions as it ends (see subscription.Recv).
	appending atomic.Int64
	// ended counts this store's appends that have ended, each before it
	// wakes the subscriptions (see tail.read).
	ended atomic.Uint64
	// writers gathers the appends that wait for a writer into batches.
	writers writers
}

var _ eventstore.Store = (*Store)(nil)

// New returns a store on an already migrated database. The pool stays the
// caller's: Close does not close it.
func New(pool *pgxpool.Pool, cfg Config) *Store {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 500
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 2
	}
	return &Store{pool: pool, cfg: cfg, wakeup: newBroadcast(), writers: writers{max: cfg.Writers, patience: defaultPatience}}
}

// Close is a no-op: the pool belongs to the caller.
func (s *Store) Close() error { return nil }

// Append implements eventstore.Store in one round trip: alone
// (append_events), or together with others' appends that waited for a
// writer (append_groups; see group.go).
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.CheckAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	res, err := s.commit(newPending(ctx, []eventstore.StreamAppend{{Stream: stream, Expected: expected, Events: events}}, true))
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return res[0], nil
}

// appendEvents is Append in a transaction of its own.
func (s *Store) appendEvents(ctx context.Context, stream string, expected eventstore.ExpectedRevision, cols appendArgs) (eventstore.AppendResult, error) {
	expect, rev := expectation(expected)
	defer s.appendInFlight()()

	var outcome string
	var revision, commit, prepare *int64
	err := s.pool.QueryRow(ctx,
		`SELECT outcome, revision, commit_pos, prepare_pos FROM append_events($1, $2, $3, $4, $5, $6, $7)`,
		stream, expect, rev, cols.ids, cols.types, cols.data, cols.meta,
	).Scan(&outcome, &revision, &commit, &prepare)
	if isStoredElsewhere(err) {
		return eventstore.AppendResult{}, s.storedElsewhere(ctx, stream, expected)
	}
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	if outcome == "conflict" {
		return eventstore.AppendResult{}, &eventstore.WrongExpectedRevisionError{Stream: stream, Expected: expected, Actual: revisionOf(revision)}
	}
	return eventstore.AppendResult{
		NextRevision: uint64(*revision),
		Position:     eventstore.Position{Commit: uint64(*commit), Prepare: uint64(*prepare)},
	}, nil
}

// isStoredElsewhere reports an append whose expectation held but one of
// whose ids is already stored elsewhere in the log: append_events leaves
// that to the unique index (migration 012).
func isStoredElsewhere(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" /* unique_violation */ && pgErr.ConstraintName == "events_event_id"
}

// storedElsewhere is the conflict an append of ids stored elsewhere gets,
// with the stream's revision as it is now.
func (s *Store) storedElsewhere(ctx context.Context, stream string, expected eventstore.ExpectedRevision) error {
	var current *int64
	if err := s.pool.QueryRow(ctx, `SELECT max(revision) FROM events WHERE stream = $1`, stream).Scan(&current); err != nil {
		return fmt.Errorf("append to %s: %w", stream, err)
	}
	return &eventstore.WrongExpectedRevisionError{Stream: stream, Expected: expected, Actual: revisionOf(current)}
}

// appendInFlight counts an append in flight until the function it
// returns is called; that wakes the subscriptions (see subscription.Recv
// and tail.read).
func (s *Store) appendInFlight() (ended func()) {
	s.appending.Add(1)
	return func() {
		s.appending.Add(-1)
		s.ended.Add(1)
		s.wakeup.signal()
	}
}

// appendArgs are events as append_events and append_streams take them:
// an array a field.
type appendArgs struct {
	ids        []uuid.UUID
	types      []string
	data, meta [][]byte
}

// add appends events, giving an id to one without.
func (c *appendArgs) add(events []eventstore.EventData) {
	for _, e := range events {
		if e.ID == uuid.Nil {
			e.ID = uuid.New()
		}
		c.ids, c.types = append(c.ids, e.ID), append(c.types, e.Type)
		c.data, c.meta = append(c.data, orEmpty(e.Data)), append(c.meta, orEmpty(e.Metadata))
	}
}

func expectation(e eventstore.ExpectedRevision) (string, int64) {
	switch {
	case e.IsNoStream():
		return "no_stream", 0
	case e.IsStreamExists():
		return "stream_exists", 0
	}
	if r, ok := e.Exact(); ok {
		return "exact", int64(r)
	}
	return "any", 0
}

func orEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
