package projections

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// trips counts what a pool's clients send: each query and each batch is
// a round trip of its own.
type trips struct{ n atomic.Int64 }

func (c *trips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *trips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *trips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *trips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *trips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// countedPool is a pool over a fresh database whose round trips count
// in the returned counter.
func countedPool(t *testing.T) (*pgxpool.Pool, *trips) {
	t.Helper()
	c := &trips{}
	return pgtest.TracedPool(t, c), c
}

// countedBeside is a users build whose round trips count, and another,
// in a database of its own, to apply the same batches one by one.
func countedBeside(t *testing.T) (counted usersDB, sent *trips, one usersDB) {
	t.Helper()
	ctx := context.Background()
	counted.pool, sent = countedPool(t)
	one.pool = pgtest.Pool(t)
	for _, db := range []*usersDB{&counted, &one} {
		a, _, err := Ensure(ctx, db.pool, Users{})
		if err != nil {
			t.Fatal(err)
		}
		db.schema = a.Schema
	}
	return counted, sent, one
}

// Once a handler has committed a batch, it knows where it left the build,
// and each later batch that needs no personal key goes in one round trip
// instead of two, with the outcome of the one-by-one path.
func TestHandler_sends_a_batch_in_one_round_trip_after_its_first_commit(t *testing.T) {
	ctx := context.Background()
	var l userLog
	a, b := uuid.New(), uuid.New()
	l.invited(a)
	l.cut()
	l.resent(a)
	l.cut()
	l.invited(b)
	l.resent(a)
	l.cut()
	l.add(b, user.InvitationAccepted{UserID: b, AccountID: l.account, AcceptedAt: l.at})
	l.cut()

	counted, sent, one := countedBeside(t)
	pool := counted.pool
	handle := Handler(pool, Users{}, writtenTypes(Users{}), nil)
	for i, batch := range l.batches {
		before := sent.n.Load()
		if err := handle(batch.message(ctx)); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		// The first learns where the build is.
		if got := sent.n.Load() - before; i > 0 && got != 1 {
			t.Fatalf("batch %d took %d round trips, want 1", i, got)
		}
		if err := applyEachActive(ctx, one.pool, Users{}, batch, &attempts{}, traceBatch(ctx, "test", batch), nil); err != nil {
			t.Fatalf("batch %d one by one: %v", i, err)
		}
	}
	got, want := counted.outcome(t), one.outcome(t)
	if !slices.Equal(got, want) {
		t.Fatalf("applied in one round trip:\n%v\none by one:\n%v", got, want)
	}
}

// What the handler remembers is only a guess: when another build was
// switched in, or another instance moved the checkpoint, since its last
// commit, the batch goes to the build that is active, from the checkpoint
// as it is, and nothing is applied twice.
func TestHandler_goes_where_the_build_is_when_it_is_not_where_it_was_left(t *testing.T) {
	ctx := context.Background()
	var l userLog
	a, b := uuid.New(), uuid.New()
	l.invited(a)
	l.cut()
	l.invited(b)
	l.cut()
	l.resent(b)
	l.cut()
	l.resent(a)
	l.cut()

	pool, sent := countedPool(t)
	first, _, err := Ensure(ctx, pool, Users{})
	if err != nil {
		t.Fatal(err)
	}
	handle := Handler(pool, Users{}, writtenTypes(Users{}), nil)
	if err := handle(l.batches[0].message(ctx)); err != nil {
		t.Fatal(err)
	}

	// A switch, as switchTo makes one: a second build, holding what the
	// first held, becomes the active one (rm_user_counts follows rm_users
	// by trigger).
	second := testBuild(ctx, t, pool, Users{}, Users{}.Schema())
	for _, table := range []string{"rm_accounts", "rm_users", "rm_user_history"} {
		if _, err := pool.Exec(ctx, `INSERT INTO `+pgx.Identifier{second, table}.Sanitize()+
			` SELECT * FROM `+pgx.Identifier{first.Schema, table}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	}
	through := l.batches[0].Through
	if _, err := pool.Exec(ctx, `INSERT INTO projection_checkpoints (name, commit_pos, prepare_pos) VALUES ($1, $2, $3)`,
		second, int64(through.Commit), int64(through.Prepare)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE projection_versions SET active_schema = $1 WHERE name = 'users'`, second); err != nil {
		t.Fatal(err)
	}
	if err := handle(l.batches[1].message(ctx)); err != nil {
		t.Fatal(err)
	}
	users := func(schema string) []string {
		return texts(t, pool, schema, `SELECT user_id::text || ' ' || invitation_count FROM rm_users ORDER BY 1`)
	}
	if got, want := users(second), []string{a.String() + " 1", b.String() + " 1"}; !slices.Equal(got, sortedStrings(want)) {
		t.Fatalf("the build switched in holds %v, want %v", got, sortedStrings(want))
	}
	if got := users(first.Schema); !slices.Equal(got, []string{a.String() + " 1"}) {
		t.Fatalf("the build switched out was written: %v", got)
	}

	// Known again: one round trip.
	before := sent.n.Load()
	if err := handle(l.batches[2].message(ctx)); err != nil {
		t.Fatal(err)
	}
	if got := sent.n.Load() - before; got != 1 {
		t.Fatalf("the batch after the switch took %d round trips, want 1", got)
	}

	// Another instance applies the last batch first: this one's attempt
	// finds the checkpoint moved and applies nothing again.
	other := Handler(pool, Users{}, writtenTypes(Users{}), nil)
	if err := other(l.batches[3].message(ctx)); err != nil {
		t.Fatal(err)
	}
	if err := handle(l.batches[3].message(ctx)); err != nil && !errors.Is(err, ErrCheckpointMoved) {
		t.Fatal(err)
	}
	if got, want := users(second), []string{a.String() + " 2", b.String() + " 2"}; !slices.Equal(got, sortedStrings(want)) {
		t.Fatalf("after both instances handled the last batch: %v, want %v", got, sortedStrings(want))
	}
}

func sortedStrings(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// enter_build lets a batch on only where its handler left the build.
func TestEnterBuild_refuses_a_batch_unless_the_build_is_where_it_was_left(t *testing.T) {
	ctx := context.Background()
	var l userLog
	parked := l.invited(uuid.New())
	db := blockedBehind(t, parked)
	at := parked.Position
	enter := func(schema string, version int, commit, prepare uint64) error {
		tx, err := db.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck // read only
		_, err = tx.Exec(ctx, `SELECT enter_build('users', $1, $2, $3, $4)`, schema, version, int64(commit), int64(prepare))
		return err
	}
	refused := func(what string, err error) {
		t.Helper()
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "BZ412" {
			t.Fatalf("%s: %v, want BZ412", what, err)
		}
	}
	v := Users{}.Version()
	refused("a dead letter open", enter(db.schema, v, at.Commit, at.Prepare))
	if _, err := db.pool.Exec(ctx, `UPDATE projection_dead_letters SET status = 'skipped', resolved_by = 'op', resolved_reason = 'test'`); err != nil {
		t.Fatal(err)
	}
	if err := enter(db.schema, v, at.Commit, at.Prepare); err != nil {
		t.Fatalf("where it was left: %v", err)
	}
	refused("another build", enter("users_other", v, at.Commit, at.Prepare))
	refused("another version", enter(db.schema, v+1, at.Commit, at.Prepare))
	refused("another commit position", enter(db.schema, v, at.Commit+1, at.Prepare))
	refused("another prepare position", enter(db.schema, v, at.Commit, at.Prepare+1))
}

// timeoutSeen is Users, noting in public.seen_timeouts, in each of its
// batches' transactions, how long PostgreSQL lets it sit idle.
type timeoutSeen struct{ Users }

const noteTimeout = `INSERT INTO public.seen_timeouts SELECT current_setting('idle_in_transaction_session_timeout')`

func (s timeoutSeen) ApplyAll(q *pgx.Batch, envs []event.Envelope) {
	s.Users.ApplyAll(q, envs)
	q.Queue(noteTimeout)
}

func (s timeoutSeen) Apply(q *pgx.Batch, env event.Envelope) {
	s.Users.Apply(q, env)
	q.Queue(noteTimeout)
}

// A leader stopped between a batch's round trips (SIGSTOP, a paused VM)
// leaves its transaction open, with its rows' locks, which its successor's
// same inserts wait on: every path a batch takes bounds that wait.
func TestBatches_end_if_their_process_stops_between_round_trips(t *testing.T) {
	ctx := context.Background()
	var l userLog
	a, b := uuid.New(), uuid.New()
	l.invited(a)
	l.cut()
	l.invited(b)
	l.cut()
	l.resent(a)
	l.cut()
	pool, _ := countedPool(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE public.seen_timeouts (setting text)`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Ensure(ctx, pool, timeoutSeen{}); err != nil {
		t.Fatal(err)
	}
	handle := Handler(pool, timeoutSeen{}, writtenTypes(timeoutSeen{}), nil)
	for i, batch := range l.batches[:2] { // the two-trip path, then the one-trip one
		if err := handle(batch.message(ctx)); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if err := applyEachActive(ctx, pool, timeoutSeen{}, l.batches[2], &attempts{}, traceBatch(ctx, "test", l.batches[2]), nil); err != nil {
		t.Fatal(err)
	}
	rows, _ := pool.Query(ctx, `SELECT setting FROM public.seen_timeouts`)
	seen, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10s", "10s", "10s"}; !slices.Equal(seen, want) {
		t.Fatalf("idle_in_transaction_session_timeout in the batches: %q, want %q", seen, want)
	}
}

// A consumer's step (the mailer's, the webhook dispatcher's, the
// publisher's) is bounded the same way, and starts from the checkpoint
// its last commit saved, or from the start when none did.
func TestSteps_end_if_their_process_stops_between_round_trips(t *testing.T) {
	ctx := context.Background()
	pool, _ := countedPool(t)
	at := eventstore.Position{Commit: 42, Prepare: 41}
	for i, want := range []eventstore.Position{eventstore.Start, at} {
		st, err := Begin(ctx, pool, "consumer-under-test", at)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Rollback(ctx) // a no-op once committed; else the pool's close waits for it
		timeout := idleTimeout(t, st.Tx())
		if timeout != "10s" || st.From() != want || st.Applied() != (i == 1) {
			t.Fatalf("step %d: idle_in_transaction_session_timeout %q, from %s (applied %v); want 10s from %s", i, timeout, st.From(), st.Applied(), want)
		}
		if err := st.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// A move back is bounded the same way: it locks the checkpoint that the
// leader's next commit updates, from an instance that may have lost its
// lead and be stopped again before it commits.
func TestMoveBack_ends_if_its_process_stops_before_it_commits(t *testing.T) {
	ctx := context.Background()
	pool, _ := countedPool(t)
	st, err := Begin(ctx, pool, "consumer-under-test", eventstore.Position{Commit: 42, Prepare: 41})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	back := eventstore.Position{Commit: 7, Prepare: 6}
	if err := MoveBack(ctx, tx, "consumer-under-test", back); err != nil {
		t.Fatal(err)
	}
	timeout := idleTimeout(t, tx)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if cp, err := LoadCheckpoint(ctx, pool, "consumer-under-test"); timeout != "10s" || err != nil || cp != back {
		t.Fatalf("idle_in_transaction_session_timeout %q; the checkpoint at %s (%v), want 10s and %s", timeout, cp, err, back)
	}
}

// idleTimeout is how long PostgreSQL lets tx sit idle.
func idleTimeout(t *testing.T, tx pgx.Tx) string {
	t.Helper()
	var timeout string
	if err := tx.QueryRow(context.Background(), `SELECT current_setting('idle_in_transaction_session_timeout')`).Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	return timeout
}
