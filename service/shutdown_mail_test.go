package service_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/internal/pgtest"
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
	h := &harness{t: t, clock: clock.NewManual(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)), mailDir: t.TempDir()}
	relay := &slowRelay{files: mailer.FileSender{Dir: h.mailDir}, began: make(chan struct{})}
	svc, err := service.New(context.Background(), service.Config{
		DatabaseURL: pgtest.URL(t), JWTSecret: jwtSecret, InvitationKey: []byte("e2e invitation key"),
		Clock: h.clock, Mail: relay, MailFrom: "bizcenter@test.example",
		PublicURL: "http://bizcenter.test", Log: discardLog(), SweepInterval: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, l) }()
	<-svc.ProjectionsRunning()
	h.url = "http://" + l.Addr().String()

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
	cancel() // SIGTERM
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the service did not stop")
	}
	var outcome string
	if err := svc.Pool().QueryRow(context.Background(), `SELECT outcome FROM mail_sent`).Scan(&outcome); err != nil {
		t.Fatal(err)
	}
	if outcome != "sent" {
		t.Fatalf("the claimed invitation's outcome is %q when Serve returned, want sent", outcome)
	}
}
