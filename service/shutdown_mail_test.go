package service_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/service"
)

// slowRelay takes its time over each message, as a distant relay does,
// and says when the first send begins.
type slowRelay struct {
	files   mailer.FileSender
	began   chan struct{}
	started sync.Once
}

func (r *slowRelay) Send(ctx context.Context, m mailer.Message) error {
	r.started.Do(func() { close(r.began) })
	time.Sleep(time.Second)
	return r.files.Send(ctx, m)
}

// Serve returns (and the process exits, closing the pool) only once the
// projections have stopped, so a mail the mailer claimed before the
// SIGTERM goes out: returning after the HTTP server alone, it left the
// mail pending, never to be sent by anyone.
func TestServe_returns_after_the_mails_it_claimed_went_out(t *testing.T) {
	relay := &slowRelay{began: make(chan struct{})}
	h := startStoppable(t, func(c *service.Config) { c.Mail = relay })
	relay.files = mailer.FileSender{Dir: h.mailDir}

	op := h.token("op-1", "ops@bizcenter.example", true)
	h.must(http.StatusCreated, "POST", "/v1/accounts", op, map[string]any{
		"name": "Shutdown Co", "agreementNumber": "AG-1", "purchaseAccountNumber": "PA-1",
		"manager": map[string]any{"email": "sam@shutdown.example", "firstName": "Sam", "lastName": "Manager", "language": "en", "country": "US"},
	})
	select {
	case <-relay.began:
	case <-time.After(20 * time.Second):
		t.Fatal("the invitation was never sent")
	}
	if err := h.stop(); err != nil { // SIGTERM
		t.Fatalf("shutdown: %v", err)
	}
	var outcome string
	if err := h.svc.Pool().QueryRow(context.Background(), `SELECT outcome FROM mail_sent`).Scan(&outcome); err != nil {
		t.Fatal(err)
	}
	if outcome != "sent" {
		t.Fatalf("the claimed invitation's outcome is %q when Serve returned, want sent", outcome)
	}
}
