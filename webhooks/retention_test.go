package webhooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/webhooks"
)

// Deliveries are deleted a week after they were delivered, by the worker's
// clock: each event an endpoint took left its row, payload and all, for
// good. Undelivered ones stay whatever their age.
func TestWorker_deletes_deliveries_a_week_after_they_were_delivered(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	endpoint := endpointWith(t, pool, "https://receiver.example/hook", 0)
	if _, err := pool.Exec(ctx, `UPDATE webhook_endpoints SET state = 'paused', paused_at = now() WHERE id = $1`, endpoint); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	ages := map[string]*time.Time{"old": new(now.Add(-webhooks.Kept - time.Minute)), "recent": new(now.Add(-24 * time.Hour)), "pending": nil}
	for name, at := range ages {
		if _, err := pool.Exec(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, delivered_at, last_error)
			VALUES ($1, $2, 'bizcenter.user.invited.v1', '{}', $3, $4)`, endpoint, uuid.New(), at, name); err != nil {
			t.Fatal(err)
		}
	}
	w := &webhooks.Worker{Pool: pool}
	w.Configure(webhooks.Settings{Now: func() time.Time { return now }, Poll: 10 * time.Millisecond})
	go w.Run(ctx)
	left := func() map[string]bool {
		rows, err := pool.Query(ctx, `SELECT last_error FROM webhook_deliveries WHERE endpoint_id = $1`, endpoint)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatal(err)
			}
			out[name] = true
		}
		return out
	}
	for deadline := time.Now().Add(5 * time.Second); left()["old"]; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the delivery delivered over a week ago is still kept")
		}
	}
	if got := left(); !got["recent"] || !got["pending"] || len(got) != 2 {
		t.Fatalf("left %v, want the recent delivery and the pending one", got)
	}
}

// Pruning holds up no post. The first prune after an upgrade from a
// release that kept every delivery deletes the whole backlog, and it ran
// between the worker's claim and its posts: what the worker had just
// claimed waited for all of it (12 s for 2 million rows on a test
// cluster), and past claimFor another worker posted it too. Here the
// prune stands still on a row this test holds.
func TestWorker_posts_while_it_prunes(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	old := endpointWith(t, pool, "https://receiver.example/hook", 0)
	if _, err := pool.Exec(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload, delivered_at)
		VALUES ($1, $2, 'bizcenter.user.invited.v1', '{}', now() - interval '30 days')`, old, uuid.New()); err != nil {
		t.Fatal(err)
	}
	hold, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback(ctx) //nolint:errcheck // lets the prune go on
	if _, err := hold.Exec(ctx, `SELECT FROM webhook_deliveries WHERE endpoint_id = $1 FOR UPDATE`, old); err != nil {
		t.Fatal(err)
	}
	live := endpointWith(t, pool, srv.URL+"/hook", 1)
	w := &webhooks.Worker{Pool: pool}
	w.Configure(webhooks.Settings{Client: srv.Client(), Poll: 10 * time.Millisecond})
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx) })
	defer func() {
		cancel()
		wg.Wait()
	}()
	for deadline := time.Now().Add(5 * time.Second); delivered(t, pool, live) < 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the delivery waited for the prune")
		}
	}
}
