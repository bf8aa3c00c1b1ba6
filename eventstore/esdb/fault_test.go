package esdb

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/eventstore"
)

// appendEventually retries an append while the server comes back. The
// retry is safe: same ids, same expected revision.
func appendEventually(t *testing.T, s eventstore.Store, stream string, exp eventstore.ExpectedRevision, evs []eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		res, err := s.Append(ctx, stream, exp, evs)
		cancel()
		if err == nil {
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("append still failing after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSubscribe_survives_a_server_restart_without_gap_or_duplicate(t *testing.T) {
	fake := startFake(t)
	s := newStore(t, fake.ConnectionString(), WithReconnectBackoff(20*time.Millisecond, 200*time.Millisecond), WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))))
	n := newNames()
	stream := n.stream("fault")
	const before, after = 2000, 500
	var written []eventstore.EventData
	for i := 0; i < before; i += 100 {
		batch := n.events(100, "fault")
		mustAppend(t, s, stream, eventstore.Any(), batch)
		written = append(written, batch...)
	}

	sub := mustSubscribe(t, s, eventstore.Start, n.filter())
	got := nextEvents(t, sub, 300, 10*time.Second)

	// Cut the server while most of the catch-up is still to come.
	fake.Stop()
	if _, err := s.Append(testCtx(t, 5*time.Second), stream, eventstore.Any(), n.events(1, "fault")); err == nil {
		t.Fatal("append succeeded while the server was stopped")
	}
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < after; i += 100 {
		batch := n.events(100, "fault")
		appendEventually(t, s, stream, eventstore.Any(), batch)
		written = append(written, batch...)
	}
	got = append(got, nextEvents(t, sub, before+after-len(got), 30*time.Second)...)

	for i, e := range got {
		if e.ID != written[i].ID || e.Revision != uint64(i) {
			t.Fatalf("delivery %d is %s@%d, want %s@%d", i, e.ID, e.Revision, written[i].ID, i)
		}
		if i > 0 && !got[i-1].Position.Less(e.Position) {
			t.Fatalf("delivery %d at %v is not after %v", i, e.Position, got[i-1].Position)
		}
	}
	if r := sub.(*subscription).reopened.Load(); r < 1 {
		t.Fatalf("the subscription was reopened %d times, want at least once", r)
	}
	select {
	case m := <-sub.(*subscription).out:
		if m.Event != nil {
			t.Fatalf("unexpected extra event %s@%d", m.Event.ID, m.Event.Revision)
		}
	case <-time.After(200 * time.Millisecond):
	}
}

// A failed discovery closes an esdb.Client for good; the store must notice
// and carry on with a new one once the server is back.
func TestStore_replaces_a_client_that_gave_up(t *testing.T) {
	fake := startFake(t)
	s := newStore(t, fake.ConnectionString()+"&maxDiscoverAttempts=1&discoveryInterval=10")
	n := newNames()
	stream := n.stream("giveup")
	mustAppend(t, s, stream, eventstore.NoStream(), n.events(1, "x"))
	first := s.conn.cur

	fake.Stop()
	// The first failure queues a rediscovery, the second runs it and fails,
	// which closes the client; the third sees it closed and renews it.
	// Each is eventstore.ErrUnavailable, which the HTTP API answers with
	// 503 and a retry hint, not as a fault (500); so is a read.
	for i := range 3 {
		if _, err := s.Append(testCtx(t, 5*time.Second), stream, eventstore.Any(), n.events(1, "x")); !errors.Is(err, eventstore.ErrUnavailable) {
			t.Fatalf("append %d while the server was stopped: %v, want ErrUnavailable", i, err)
		}
	}
	if _, err := s.ReadStream(testCtx(t, 5*time.Second), stream, eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("read while the server was stopped: %v, want ErrUnavailable", err)
	}
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	res := mustAppend(t, s, stream, eventstore.Exact(0), []eventstore.EventData{{ID: uuid.New(), Type: n.eventType("x"), Data: []byte(`{}`)}})
	if res.NextRevision != 1 {
		t.Fatalf("next revision %d, want 1: an append made while the server was down was written", res.NextRevision)
	}
	s.conn.mu.Lock()
	renewed := s.conn.cur != first
	s.conn.mu.Unlock()
	if !renewed {
		t.Fatal("the store kept the client that had given up")
	}
}

func TestStore_calls_honour_the_deadline_while_the_server_is_away(t *testing.T) {
	fake := startFake(t)
	s := newStore(t, fake.ConnectionString())
	fake.Stop()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	for time.Since(start) < time.Second {
		if _, err := s.ReadAll(ctx, eventstore.Start, 10); err == nil {
			t.Fatal("read succeeded while the server was stopped")
		}
		if ctx.Err() != nil {
			break
		}
	}
	if d := time.Since(start); d > 600*time.Millisecond {
		t.Fatalf("calls took %v with a 300ms deadline", d)
	}
}

// A server whose prepare or commit times out answers gRPC Aborted
// ("Operation timed out", RpcExceptions.Timeout), and the events may be
// written all the same: the outcome is unknown, which the port calls
// ErrUnavailable (a 503 with a retry hint, not a 500), and a retry with the
// same ids and expectation is answered with the first result.
func TestAppend_a_server_timeout_is_unavailable_and_the_retry_is_answered(t *testing.T) {
	fake := startFake(t)
	s := newStore(t, fake.ConnectionString())
	n := newNames()
	stream := n.stream("timeout")
	mustAppend(t, s, stream, eventstore.NoStream(), n.events(1, "x"))
	batch := n.events(2, "x")

	fake.TimeOutAppends(1)
	_, err := s.Append(testCtx(t, 10*time.Second), stream, eventstore.Exact(0), batch)
	if !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("append answered with the server's timeout: %v, want ErrUnavailable", err)
	}
	res := mustAppend(t, s, stream, eventstore.Exact(0), batch)
	if res.NextRevision != 2 {
		t.Fatalf("retry: next revision %d, want 2", res.NextRevision)
	}
	evs, err := s.ReadStream(testCtx(t, 10*time.Second), stream, eventstore.ReadStreamOptions{})
	if err != nil || len(evs) != 3 {
		t.Fatalf("stream holds %d events (%v), want 3: the retry wrote again", len(evs), err)
	}
}
