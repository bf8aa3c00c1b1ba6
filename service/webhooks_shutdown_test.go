package service_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/service"
	"github.com/bizcenter/bizcenter/webhooks"
)

// lateAnswers is a transport whose post outlives the worker's context:
// its answer comes in while the service shuts down, as one does that
// arrived just before the shutdown began while the worker still records it.
type lateAnswers struct{ next http.RoundTripper }

func (l lateAnswers) RoundTrip(r *http.Request) (*http.Response, error) {
	return l.next.RoundTrip(r.WithContext(context.WithoutCancel(r.Context())))
}

// The service stops only once the webhook worker has recorded (or given
// back) the deliveries it was posting: Serve returned, and the process
// closed its pool and exited, while the worker still had a post's answer
// to record. The delivery the endpoint took stayed claimed, to be sent
// again when the claim lapsed, a duplicate (and a post cut short by the
// stop was not given back, "to be sent again at once", either).
func TestWebhooks_the_service_stops_after_the_worker_recorded_its_posts(t *testing.T) {
	h := startStoppable(t, func(c *service.Config) {
		c.Integration = service.IntegrationConfig{Webhooks: webhooks.Policy{AllowPrivate: true}}
	})
	svc := h.svc

	started, answer := make(chan struct{}, 1), make(chan struct{})
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-answer
		time.Sleep(300 * time.Millisecond)
	}))
	defer hook.Close()
	defer func() {
		select {
		case <-answer:
		default:
			close(answer)
		}
	}()
	client := hook.Client()
	client.Transport = lateAnswers{client.Transport}
	svc.Webhooks.Configure(webhooks.Settings{Client: client, Poll: 20 * time.Millisecond})

	account, admin := h.registered()
	h.clock.Advance(time.Second)
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+account+"/webhooks", admin, map[string]any{"url": hook.URL + "/hook"})
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+account+"/users", admin, invite("stop@northwind.example", "account_viewer"))
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery posted within 10s")
	}
	h.signal()
	close(answer)
	if err := h.stopped(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	svc.Close()

	pool, err := pgxpool.New(context.Background(), h.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var delivered, claimed int
	if err := pool.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE delivered_at IS NOT NULL), count(*) FILTER (WHERE delivered_at IS NULL AND next_attempt_at > now())
		  FROM webhook_deliveries`).Scan(&delivered, &claimed); err != nil {
		t.Fatal(err)
	}
	if delivered != 1 || claimed != 0 {
		t.Fatalf("after the service stopped: %d deliveries recorded delivered (the endpoint answered one), %d left claimed", delivered, claimed)
	}
}
