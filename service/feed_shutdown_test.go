package service_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/service"
)

// A feed that follows the log ends when the service shuts down, so that
// the shutdown is graceful (it waited for the feed, which never ends by
// itself, for its whole grace period and then failed) and the client,
// its stream ended, reconnects with Last-Event-ID to an instance still
// running.
func TestFeed_ends_when_the_service_shuts_down(t *testing.T) {
	h := &harness{t: t, clock: clock.NewManual(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)), mailDir: t.TempDir()}
	svc, err := service.New(context.Background(), service.Config{
		DatabaseURL: pgtest.URL(t), JWTSecret: jwtSecret, InvitationKey: []byte("e2e invitation key"),
		Clock: h.clock, Mail: mailer.FileSender{Dir: h.mailDir}, MailFrom: "bizcenter@test.example",
		PublicURL: "http://bizcenter.test", Log: slog.New(slog.NewTextHandler(io.Discard, nil)), SweepInterval: time.Hour,
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

	req, _ := http.NewRequest("GET", h.url+"/v1/feed", nil)
	req.Header.Set("Authorization", "Bearer "+h.token("op", "op@bizcenter.test", true))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("feed: %d", resp.StatusCode)
	}
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, resp.Body); close(ended) }()

	began := time.Now()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("shutdown with a feed open: %v after %s", err, time.Since(began).Round(time.Millisecond))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the service did not stop")
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Fatalf("the shutdown waited %s for the open feed", d.Round(time.Millisecond))
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the feed's stream did not end")
	}
}
