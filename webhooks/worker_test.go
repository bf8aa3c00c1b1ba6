package webhooks_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/webhooks"
)

// endpointWith registers an endpoint at url straight in the tables and
// queues n deliveries for it, oldest first.
func endpointWith(t *testing.T, pool *pgxpool.Pool, url string, n int) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	if _, err := pool.Exec(ctx, `INSERT INTO webhook_endpoints (id, account_id, url, secret, created_by) VALUES ($1, $2, $3, 'whsec_test', 'test')`,
		id, uuid.New(), url); err != nil {
		t.Fatal(err)
	}
	for range n {
		ev := uuid.New()
		if _, err := pool.Exec(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload) VALUES ($1, $2, 'bizcenter.user.invited.v1', $3)`,
			id, ev, []byte(`{"id":"`+ev.String()+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func delivered(t *testing.T, pool *pgxpool.Pool, endpoint uuid.UUID) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND delivered_at IS NOT NULL`, endpoint).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A redirect is not a delivery: a 302 would turn the POST into a GET
// without the event, and a 2xx at the other end would record as delivered
// an event the endpoint never got. It is a failure, retried.
func TestWorker_does_not_follow_a_redirect_and_retries_it(t *testing.T) {
	pool := pgtest.Pool(t)
	var mu sync.Mutex
	var gets, posts int
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/moved" {
			if r.Method == http.MethodGet {
				gets++
			} else {
				posts++
			}
			return
		}
		http.Redirect(w, r, "/moved", http.StatusFound)
	}))
	defer srv.Close()
	id := endpointWith(t, pool, srv.URL+"/hook", 1)
	w := &webhooks.Worker{Pool: pool}
	if _, err := w.Once(context.Background(), webhooks.Settings{Client: srv.Client(), Backoff: time.Hour}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := delivered(t, pool, id); n != 0 || gets+posts != 0 {
		t.Fatalf("after a 302: %d delivered, the redirect's target got %d GETs and %d POSTs", n, gets, posts)
	}
	var status *int
	if err := pool.QueryRow(context.Background(), `SELECT last_status FROM webhook_endpoints WHERE id = $1`, id).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status == nil || *status != http.StatusFound {
		t.Fatalf("last status %v, want 302", status)
	}
}

// Two instances on one database each run a worker: an endpoint still gets
// each delivery once, one at a time, in order.
func TestWorker_two_instances_post_each_delivery_once_in_order(t *testing.T) {
	pool := pgtest.Pool(t)
	var mu sync.Mutex
	var got []string
	inFlight, overlapped := 0, false
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		overlapped = overlapped || inFlight > 1
		mu.Unlock()
		time.Sleep(30 * time.Millisecond) // a slow receiver: the other instance polls meanwhile
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		inFlight--
		got = append(got, string(body))
		mu.Unlock()
	}))
	defer srv.Close()
	const n = 8
	id := endpointWith(t, pool, srv.URL+"/hook", n)
	rows, _ := pool.Query(context.Background(), `SELECT convert_from(payload, 'UTF8') FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id`, id)
	want, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := webhooks.Settings{Client: srv.Client(), Poll: 5 * time.Millisecond}
	var wg sync.WaitGroup
	for range 2 {
		w := &webhooks.Worker{Pool: pool}
		w.Configure(s)
		wg.Go(func() { w.Run(ctx) })
	}
	for deadline := time.Now().Add(10 * time.Second); delivered(t, pool, id) < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("within 10s: %d of %d delivered", delivered(t, pool, id), n)
		}
	}
	time.Sleep(100 * time.Millisecond) // a duplicate still in flight lands
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if overlapped || len(got) != n {
		t.Fatalf("overlapping posts %v; got %d posts for %d deliveries", overlapped, len(got), n)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("post %d was %s, want %s", i, got[i], want[i])
		}
	}
}

// heldReceiver is an HTTPS receiver that holds its first post until
// released, then answers it with firstStatus; it answers the others at
// once with 200. It counts the posts.
type heldReceiver struct {
	*httptest.Server
	started, release chan struct{}
	mu               sync.Mutex
	posts            int
}

func newHeldReceiver(t *testing.T, firstStatus int) *heldReceiver {
	h := &heldReceiver{started: make(chan struct{}), release: make(chan struct{})}
	h.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.posts++
		first := h.posts == 1
		h.mu.Unlock()
		if first {
			close(h.started)
			<-h.release
			w.WriteHeader(firstStatus)
		}
	}))
	t.Cleanup(func() {
		h.free()
		h.Close()
	})
	return h
}

// free lets the first post be answered (once).
func (h *heldReceiver) free() {
	select {
	case <-h.release:
	default:
		close(h.release)
	}
}

func (h *heldReceiver) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.posts
}

// Resuming an endpoint that is not paused leaves alone the delivery a
// worker is posting: its claim stands, and no other worker posts it too.
func TestWorker_resume_of_an_active_endpoint_keeps_a_delivery_claimed(t *testing.T) {
	pool := pgtest.Pool(t)
	srv := newHeldReceiver(t, http.StatusOK)
	id := endpointWith(t, pool, srv.URL+"/hook", 1)
	var account uuid.UUID
	if err := pool.QueryRow(context.Background(), `SELECT account_id FROM webhook_endpoints WHERE id = $1`, id).Scan(&account); err != nil {
		t.Fatal(err)
	}
	s := webhooks.Settings{Client: srv.Client()}
	first := make(chan error, 1)
	go func() {
		_, err := (&webhooks.Worker{Pool: pool}).Once(context.Background(), s)
		first <- err
	}()
	<-srv.started

	var resume http.HandlerFunc
	operator := func(context.Context, uuid.UUID, kit.Principal) (bool, bool, error) { return true, true, nil }
	for _, r := range webhooks.Routes(pool, nil, nil, webhooks.Policy{}, operator) {
		if strings.HasSuffix(r.Path, "/resume") {
			resume = r.Handler
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/accounts/"+account.String()+"/webhooks/"+id.String()+"/resume", nil)
	req.SetPathValue("accountId", account.String())
	req.SetPathValue("webhookId", id.String())
	req = req.WithContext(kit.WithPrincipal(req.Context(), kit.Principal{Subject: "op", Operator: true}))
	rec := httptest.NewRecorder()
	resume(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("resume: %d %s", rec.Code, rec.Body)
	}

	n, err := (&webhooks.Worker{Pool: pool}).Once(context.Background(), s)
	srv.free()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n != 0 || srv.count() != 1 {
		t.Fatalf("after a resume, another worker tried %d deliveries; the endpoint got %d posts of its one delivery", n, srv.count())
	}
}

// A worker whose claim lapsed (it stalled past claimFor) and whose
// delivery another worker has since claimed and delivered records
// nothing: its late failure neither marks the delivered delivery failed
// nor counts against the endpoint.
func TestWorker_a_lapsed_claim_records_nothing(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	srv := newHeldReceiver(t, http.StatusServiceUnavailable) // the stalled worker's post fails at last
	id := endpointWith(t, pool, srv.URL+"/hook", 1)
	s := webhooks.Settings{Client: srv.Client(), PauseAfter: 1}
	stalled := make(chan error, 1)
	go func() {
		_, err := (&webhooks.Worker{Pool: pool}).Once(ctx, s)
		stalled <- err
	}()
	<-srv.started
	// The claim lapses.
	if _, err := pool.Exec(ctx, `UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 second' WHERE endpoint_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if n, err := (&webhooks.Worker{Pool: pool}).Once(ctx, s); err != nil || n != 1 {
		t.Fatalf("the other worker tried %d: %v", n, err)
	}
	srv.free()
	if err := <-stalled; err != nil {
		t.Fatal(err)
	}
	var state string
	var failures int
	var lastError *string
	if err := pool.QueryRow(ctx, `SELECT e.state, e.consecutive_failures, d.last_error FROM webhook_endpoints e JOIN webhook_deliveries d ON d.endpoint_id = e.id WHERE e.id = $1`, id).
		Scan(&state, &failures, &lastError); err != nil {
		t.Fatal(err)
	}
	if n := delivered(t, pool, id); n != 1 || state != "active" || failures != 0 || lastError != nil {
		t.Fatalf("%d delivered; endpoint %s with %d failures; the delivery's last error %v", n, state, failures, lastError)
	}
}

// A slow endpoint holds up only its own next delivery: while its post
// waits for an answer, another endpoint's deliveries all go.
func TestWorker_a_slow_endpoint_holds_up_no_other(t *testing.T) {
	pool := pgtest.Pool(t)
	slow := newHeldReceiver(t, http.StatusOK)
	fast := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer fast.Close()
	endpointWith(t, pool, slow.URL+"/hook", 2)
	other := endpointWith(t, pool, fast.URL+"/hook", 5)

	// Both test servers' certificates, for the one client.
	roots := slow.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	roots.AddCert(fast.Certificate())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &webhooks.Worker{Pool: pool}
	w.Configure(webhooks.Settings{Client: slow.Client(), Poll: 10 * time.Millisecond})
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx) })
	<-slow.started
	for deadline := time.Now().Add(10 * time.Second); delivered(t, pool, other) < 5; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("while the slow endpoint's post waited: %d of the other's 5 delivered", delivered(t, pool, other))
		}
	}
	slow.free()
	cancel()
	wg.Wait()
}

// A worker that stops (the service shuts down) while a post waits for its
// answer does not count the post it cut short against the endpoint: no
// failure, no backoff, no error listed to the account's administrators,
// and the delivery is free for the next worker to send at once rather
// than when the claim lapses.
func TestWorker_stopping_mid_post_is_no_failure_of_the_endpoint(t *testing.T) {
	pool := pgtest.Pool(t)
	srv := newHeldReceiver(t, http.StatusOK)
	id := endpointWith(t, pool, srv.URL+"/hook", 1)
	ctx, cancel := context.WithCancel(context.Background())
	w := &webhooks.Worker{Pool: pool}
	w.Configure(webhooks.Settings{Client: srv.Client(), Poll: 10 * time.Millisecond, PauseAfter: 1})
	var wg sync.WaitGroup
	wg.Go(func() { w.Run(ctx) })
	<-srv.started
	cancel()
	wg.Wait()

	var state string
	var failures, attempts int
	var endpointError, deliveryError *string
	var due bool
	if err := pool.QueryRow(context.Background(), `
		SELECT e.state, e.consecutive_failures, e.last_error, d.attempts, d.last_error, d.next_attempt_at <= now()
		  FROM webhook_endpoints e JOIN webhook_deliveries d ON d.endpoint_id = e.id WHERE e.id = $1`, id).
		Scan(&state, &failures, &endpointError, &attempts, &deliveryError, &due); err != nil {
		t.Fatal(err)
	}
	if state != "active" || failures != 0 || endpointError != nil || attempts != 0 || deliveryError != nil || !due {
		t.Fatalf("after the worker stopped mid-post: endpoint %s with %d failures (last error %v); the delivery %d attempts (last error %v), due now %v",
			state, failures, endpointError, attempts, deliveryError, due)
	}
	if n, err := (&webhooks.Worker{Pool: pool}).Once(context.Background(), webhooks.Settings{Client: srv.Client()}); err != nil || n != 1 || delivered(t, pool, id) != 1 {
		t.Fatalf("the next worker tried %d (%v) and delivered %d", n, err, delivered(t, pool, id))
	}
}

// The backoff starts again after a resume: the first failure after it
// waits Backoff, not the doubled wait of every attempt before the pause
// (the delivery's attempts, which a resume keeps).
func TestWorker_a_resume_starts_the_backoff_again(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	id := endpointWith(t, pool, srv.URL+"/hook", 1)
	s := webhooks.Settings{Client: srv.Client(), Backoff: time.Second, MaxBackoff: time.Hour, PauseAfter: 6}
	w := &webhooks.Worker{Pool: pool}
	wait := func() time.Duration {
		t.Helper()
		if _, err := pool.Exec(ctx, `UPDATE webhook_deliveries SET next_attempt_at = now() WHERE endpoint_id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if n, err := w.Once(ctx, s); err != nil || n != 1 {
			t.Fatalf("tried %d: %v", n, err)
		}
		var secs float64
		if err := pool.QueryRow(ctx, `SELECT extract(epoch FROM next_attempt_at - now()) FROM webhook_deliveries WHERE endpoint_id = $1`, id).Scan(&secs); err != nil {
			t.Fatal(err)
		}
		return time.Duration(secs * float64(time.Second))
	}
	for range 5 {
		wait()
	}
	if d := wait(); d < 30*time.Second {
		t.Fatalf("the sixth failure in a row waits %s, want about 32s", d)
	}
	// What the resume route does to the endpoint (routes.go).
	if _, err := pool.Exec(ctx, `UPDATE webhook_endpoints SET state = 'active', consecutive_failures = 0, paused_at = NULL WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if d := wait(); d > 2*time.Second {
		t.Fatalf("the first failure after a resume waits %s, want about %s", d, s.Backoff)
	}
}
