package webhooks_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/webhooks"
)

// A failure whose message is cut to its first 500 bytes in the middle of
// a character (the URL's query is quoted raw into a transport error) is
// still recorded: cut into invalid UTF-8, PostgreSQL refused the text,
// and the endpoint's failures were never counted, never backed off and
// never paused, its error never listed.
func TestWorker_records_a_long_error_cut_inside_a_character(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.Close() // nothing answers: the post fails with the URL in its error
	base := srv.URL + "/hook?q="
	// `Post "` then the URL: the é starts at byte 499.
	url := base + strings.Repeat("a", 499-len(`Post "`)-len(base)) + "é"
	id := endpointWith(t, pool, url, 1)
	if n, err := (&webhooks.Worker{Pool: pool}).Once(ctx, webhooks.Settings{Client: &http.Client{}}); err != nil || n != 1 {
		t.Fatalf("tried %d: %v", n, err)
	}
	var failures, attempts int
	var lastError *string
	if err := pool.QueryRow(ctx, `SELECT e.consecutive_failures, e.last_error, d.attempts
		FROM webhook_endpoints e JOIN webhook_deliveries d ON d.endpoint_id = e.id WHERE e.id = $1`, id).
		Scan(&failures, &lastError, &attempts); err != nil {
		t.Fatal(err)
	}
	if failures != 1 || attempts != 1 || lastError == nil || !strings.HasPrefix(*lastError, `Post "`+base) {
		t.Fatalf("endpoint with %d failures, last error %v; the delivery %d attempts", failures, lastError, attempts)
	}
}

// An endpoint removed while its delivery's outcome is being recorded:
// the removal locks the endpoint, then (cascading) its deliveries, and
// the record must take them in that order too. Taking the delivery
// first, it deadlocked with the removal, and PostgreSQL aborted one of
// them: the record (logged as an error) or the removal (a 500 to the
// administrator). Here the removal's two locks are taken a statement
// apart, so that the record comes between them.
func TestWorker_records_while_its_endpoint_is_removed_without_deadlock(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	srv := newHeldReceiver(t, http.StatusOK)
	id := endpointWith(t, pool, srv.URL+"/hook", 1)
	var logged bytes.Buffer
	w := &webhooks.Worker{Pool: pool, Log: slog.New(slog.NewTextHandler(&logged, nil))}
	done := make(chan error, 1)
	go func() {
		_, err := w.Once(ctx, webhooks.Settings{Client: srv.Client()})
		done <- err
	}()
	<-srv.started
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT FROM webhook_endpoints WHERE id = $1 FOR UPDATE`, id); err != nil {
		t.Fatal(err)
	}
	srv.free()
	// The record waits for the endpoint.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE '%webhook_endpoints%' AND datname = current_database())`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the record never waited for the endpoint")
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id); err != nil {
		t.Fatalf("the removal: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if logged.Len() > 0 {
		t.Fatalf("the worker logged: %s", logged.String())
	}
}

// stallBefore holds the first query that begins with prefix until
// release, as a process stopped (SIGSTOP) between two statements of a
// transaction does.
type stallBefore struct {
	prefix  string
	once    sync.Once
	stalled chan struct{}
	release chan struct{}
}

func (s *stallBefore) TraceQueryStart(ctx context.Context, _ *pgx.Conn, q pgx.TraceQueryStartData) context.Context {
	if strings.HasPrefix(strings.TrimSpace(q.SQL), s.prefix) {
		s.once.Do(func() {
			close(s.stalled)
			<-s.release
		})
	}
	return ctx
}

func (*stallBefore) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A worker stopped half way through recording an outcome holds its
// endpoint's row and its delivery's. Its transaction ends after 10 s
// idle, and a removal of the endpoint goes through then. Unbounded, the
// endpoint waited for the process to go on: nothing was delivered to it
// (claims pass over a locked delivery), and its removal or resume waited.
func TestWorker_record_stopped_half_way_ends_after_ten_seconds_idle(t *testing.T) {
	stall := &stallBefore{prefix: "UPDATE webhook_deliveries SET attempts", stalled: make(chan struct{}), release: make(chan struct{})}
	defer close(stall.release)
	pool := pgtest.TracedPool(t, stall)
	ctx := context.Background()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	id := endpointWith(t, pool, srv.URL+"/hook", 1)
	w := &webhooks.Worker{Pool: pool, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go func() { _, _ = w.Once(ctx, webhooks.Settings{Client: srv.Client()}) }()
	select {
	case <-stall.stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery's outcome was never recorded")
	}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := pool.Exec(rctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id); err != nil {
		t.Fatalf("the removal waited for the stopped record: %v", err)
	}
}
