package webhooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/webhooks"
)

// A claim passes over a delivery another transaction holds (another
// worker claiming or recording it) and takes the others at once. It
// waited for such a delivery while it held those it had already locked,
// in whatever order its plan met them: two claims of three instances now
// and then waited on each other, and PostgreSQL ended one as a deadlock.
func TestWorker_a_claim_passes_over_a_delivery_held_elsewhere(t *testing.T) {
	pool := pgtest.Pool(t)
	var posts atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { posts.Add(1) }))
	defer srv.Close()
	held := endpointWith(t, pool, srv.URL+"/held", 1)
	free := endpointWith(t, pool, srv.URL+"/free", 1)

	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT FROM webhook_deliveries WHERE endpoint_id = $1 FOR UPDATE`, held); err != nil {
		t.Fatal(err)
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := (&webhooks.Worker{Pool: pool}).Once(ctx, webhooks.Settings{Client: srv.Client()})
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		if r.err != nil || r.n != 1 {
			t.Fatalf("the claim: %d deliveries tried, %v; want the free one", r.n, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the claim waited for the delivery held elsewhere")
	}
	if delivered(t, pool, free) != 1 || delivered(t, pool, held) != 0 || posts.Load() != 1 {
		t.Fatalf("delivered %d of the free endpoint, %d of the held one, in %d posts; want only the free one's",
			delivered(t, pool, free), delivered(t, pool, held), posts.Load())
	}
}
