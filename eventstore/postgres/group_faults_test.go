package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/internal/pgtypes"
)

// cutAfterCommit is a connection that, once it has sent a statement
// calling append_groups, lets the server answer its execution in full
// (the implicit transaction commits before ReadyForQuery) and then
// fails: a connection cut between a batch's commit and its answer.
type cutAfterCommit struct {
	net.Conn
	armed  atomic.Bool
	sawRow bool
	scan   []byte // server bytes not yet parsed into a whole message
}

func (c *cutAfterCommit) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("append_groups")) {
		c.armed.Store(true)
	}
	return c.Conn.Write(b)
}

func (c *cutAfterCommit) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if !c.armed.Load() || n == 0 {
		return n, err
	}
	c.scan = append(c.scan, b[:n]...)
	for len(c.scan) >= 5 {
		size := int(binary.BigEndian.Uint32(c.scan[1:5])) + 1
		if len(c.scan) < size {
			break
		}
		switch c.scan[0] {
		case 'D':
			c.sawRow = true
		case 'Z':
			if c.sawRow { // the answer to the execution, after its commit
				c.Conn.Close()
				return 0, io.ErrUnexpectedEOF
			}
		}
		c.scan = c.scan[size:]
	}
	return n, err
}

// cutPool is a pool whose connections are cut after a batch commits.
func cutPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	pgtypes.Register(cfg)
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &cutAfterCommit{Conn: c}, nil
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// A batch that committed but whose answer was lost (a connection cut,
// a failover) has an unknown outcome. AppendStreams does not recognise
// a retry, so running its group again alone answers a conflict for an
// append that was written: the single path answers the connection's
// error instead, and so must the batch.
func TestA_batch_whose_answer_is_lost_does_not_answer_a_conflict_for_what_it_wrote(t *testing.T) {
	ctx := context.Background()
	pool := cutPool(t)
	s, release := heldOn(ctx, t, pool)
	wait := each(t, s,
		appending(ctx, s, "a", eventstore.NoStream(), oneEvent()),
		func() ([]eventstore.AppendResult, error) {
			return s.AppendStreams(ctx, []eventstore.StreamAppend{
				{Stream: "b", Expected: eventstore.NoStream(), Events: oneEvent()},
				{Stream: "c", Expected: eventstore.NoStream(), Events: oneEvent()},
			})
		},
	)
	release()
	out := wait()
	for _, stream := range []string{"a", "b", "c"} {
		if n := streamLen(ctx, t, pool, stream); n != 1 {
			t.Fatalf("%s has %d events: the batch did not commit, the test proves nothing", stream, n)
		}
	}
	if out[0].err != nil {
		t.Errorf("the Append the batch wrote: %v; want its result (append_events recognises it)", out[0].err)
	}
	var conflict *eventstore.WrongExpectedRevisionError
	if errors.As(out[1].err, &conflict) {
		t.Errorf("the AppendStreams the batch wrote answered %v: a conflict for an append that was written", out[1].err)
	}
}

// Waiting appends go in the order they came: one that shares a stream
// with an append left for a later batch waits too, rather than overtake
// it on that stream.
func TestA_waiting_append_does_not_overtake_an_earlier_one_on_its_stream(t *testing.T) {
	ctx := context.Background()
	s, _, release := held(ctx, t)
	wait := each(t, s,
		appending(ctx, s, "x", eventstore.NoStream(), oneEvent()),
		func() ([]eventstore.AppendResult, error) { // left: shares x with the first
			return s.AppendStreams(ctx, []eventstore.StreamAppend{
				{Stream: "x", Expected: eventstore.Exact(0), Events: oneEvent()},
				{Stream: "y", Expected: eventstore.NoStream(), Events: oneEvent()},
			})
		},
		appending(ctx, s, "y", eventstore.Exact(0), oneEvent()), // came after, on y
	)
	release()
	out := wait()
	for i, o := range out {
		if o.err != nil {
			t.Errorf("append %d: %v (in the order they came, each expects the one before)", i, o.err)
		}
	}
}

// Two appends stuck on a stream's lock (another process's append, a
// slow commit) take both writers: an append to any other stream then
// waits for them, where it ran at once before group commit.
func TestAn_append_does_not_wait_for_appends_stuck_on_another_stream(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := New(pool, Config{})
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('locked', 0))`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer tx.Rollback(ctx) //nolint:errcheck
	for range 2 {
		wg.Go(func() { _, _ = s.Append(ctx, "locked", eventstore.Any(), oneEvent()) })
	}
	time.Sleep(200 * time.Millisecond) // both on the lock
	bounded, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := s.Append(bounded, "free", eventstore.NoStream(), oneEvent()); err != nil {
		t.Fatalf("an append to a free stream while two wait on another's lock: %v", err)
	}
}
