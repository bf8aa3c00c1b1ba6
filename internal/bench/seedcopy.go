package bench

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/seed"
)

// copyChunk is how many events CopySeed writes a transaction.
const copyChunk = 100_000

// CopySeed writes the history seed.SealedInvitations makes (n/5 users, an
// invitation and 4 resends each, their personal fields sealed as commands
// seal them, and the users' keys) straight into the events table with
// COPY, copyChunk events a transaction, and returns the last position.
// The events are the ones seed encodes, in the order its 8 writers make
// them; the table's defaults give them increasing (tx_id, seq), as appends
// would. It is about ten times faster than appending them one stream a
// transaction. It is for a database nothing else writes or reads yet: it
// takes none of the appends' locks, so projectors live on the same log
// pass over events of its transactions committed out of order, for good.
func CopySeed(ctx context.Context, p *pgxpool.Pool, n int) (eventstore.Position, error) {
	if err := copySeedInto(ctx, p, n, "events"); err != nil {
		return eventstore.Position{}, err
	}
	return logHead(ctx, p)
}

// SpreadSeed is CopySeed with the users' resends later in the log: every
// invitation first, then each user's first resend (the users in another
// order than their invitations', the same in each round), then each
// one's second, and so on. In a real log people
// are resent an invitation, or accept it, days after it was sent. Caught
// up, such events change users an earlier batch wrote (see
// projections/users_changes.go), which CopySeed's log, each user's five
// events together, hardly has.
func SpreadSeed(ctx context.Context, p *pgxpool.Pool, n int) (eventstore.Position, error) {
	if _, err := p.Exec(ctx, `CREATE UNLOGGED TABLE seed_staging (
		event_id uuid, stream text, revision bigint, type text, data bytea, metadata bytea)`); err != nil {
		return eventstore.Position{}, err
	}
	if err := copySeedInto(ctx, p, n, "seed_staging"); err != nil {
		return eventstore.Position{}, err
	}
	// One statement: its rows take increasing positions in the order
	// given, as appends in that order would.
	if _, err := p.Exec(ctx, `
		INSERT INTO events (event_id, stream, revision, type, data, metadata)
		SELECT event_id, stream, revision, type, data, metadata FROM seed_staging ORDER BY revision, hashtext(stream);
		DROP TABLE seed_staging`); err != nil {
		return eventstore.Position{}, fmt.Errorf("spread the seed: %w", err)
	}
	return logHead(ctx, p)
}

// copySeedInto writes CopySeed's events into table, which has the
// events table's columns.
func copySeedInto(ctx context.Context, p *pgxpool.Pool, n int, table string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows := make(chan []any, 4096)
	seeded := make(chan error, 1)
	var mu sync.Mutex
	var keys [][]any
	keep := func(subject uuid.UUID, key []byte) error {
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, []any{subject, key})
		return nil
	}
	go func() {
		defer close(rows)
		_, err := seed.SealedInvitations(ctx, capture{rows: rows}, n/5, 5, keep)
		seeded <- err
	}()
	src := &chunk{rows: rows}
	for !src.done {
		src.left = copyChunk
		if _, err := p.CopyFrom(ctx, pgx.Identifier{table}, []string{"event_id", "stream", "revision", "type", "data", "metadata"}, src); err != nil {
			return fmt.Errorf("copy events: %w", err)
		}
	}
	if err := <-seeded; err != nil {
		return err
	}
	if _, err := p.CopyFrom(ctx, pgx.Identifier{"personal_keys"}, []string{"subject_id", "key"}, pgx.CopyFromRows(keys)); err != nil {
		return fmt.Errorf("copy personal keys: %w", err)
	}
	return nil
}

// logHead is the position of the last event in p's event store.
func logHead(ctx context.Context, p *pgxpool.Pool) (eventstore.Position, error) {
	var head eventstore.Position
	err := p.QueryRow(ctx, `SELECT tx_id, seq FROM events ORDER BY tx_id DESC, seq DESC LIMIT 1`).Scan(&head.Commit, &head.Prepare)
	return head, err
}

// capture is a store whose appends become COPY rows; seed only appends.
type capture struct {
	eventstore.Store
	rows chan<- []any
}

func (c capture) Append(ctx context.Context, stream string, _ eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	for rev, e := range events {
		select {
		case c.rows <- []any{e.ID, stream, int64(rev), e.Type, e.Data, e.Metadata}:
		case <-ctx.Done():
			return eventstore.AppendResult{}, ctx.Err()
		}
	}
	return eventstore.AppendResult{NextRevision: uint64(len(events) - 1)}, nil
}

// chunk is a pgx.CopyFromSource of up to left rows of a channel.
type chunk struct {
	rows <-chan []any
	row  []any
	left int
	done bool
}

func (c *chunk) Next() bool {
	if c.left == 0 || c.done {
		return false
	}
	c.row, c.left = <-c.rows, c.left-1
	c.done = c.row == nil
	return !c.done
}

func (c *chunk) Values() ([]any, error) { return c.row, nil }

func (c *chunk) Err() error { return nil }

// SeedEvents puts n events in the PostgreSQL event store of pool, by COPY
// or, with appends, through the store (8 writers, one stream a
// transaction), and returns the store and the last position.
func SeedEvents(ctx context.Context, p *pgxpool.Pool, n int, appends bool) (eventstore.Store, eventstore.Position, error) {
	store := postgres.New(p, postgres.Config{})
	how := "COPY"
	if appends {
		how = "appends"
	}
	fmt.Fprintf(os.Stderr, "seeding %d events by %s...\n", n, how)
	if appends {
		head, err := seed.SealedInvitations(ctx, store, n/5, 5, keepIn(p))
		return store, head, err
	}
	head, err := CopySeed(ctx, p, n)
	return store, head, err
}

// SeedSpread puts n events in the PostgreSQL event store of pool by
// SpreadSeed, and returns the store and the last position.
func SeedSpread(ctx context.Context, p *pgxpool.Pool, n int) (eventstore.Store, eventstore.Position, error) {
	fmt.Fprintf(os.Stderr, "seeding %d events by COPY, the resends later in the log...\n", n)
	head, err := SpreadSeed(ctx, p, n)
	return postgres.New(p, postgres.Config{}), head, err
}

// keepIn stores each seeded user's key in pool's personal_keys.
func keepIn(p *pgxpool.Pool) seed.Keep {
	return func(subject uuid.UUID, key []byte) error {
		_, err := p.Exec(context.Background(), `INSERT INTO personal_keys (subject_id, key) VALUES ($1, $2)`, subject, key)
		return err
	}
}
