package service_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/service"
)

// stoppable is a service served as `bizcenter serve` serves it, whose
// shutdown (a SIGTERM) the test brings on: signal, then stopped, or stop
// for both.
type stoppable struct {
	*harness
	dbURL  string
	cancel context.CancelFunc
	served chan error
	// began is when the shutdown was signalled.
	began time.Time
}

// signal begins the shutdown, as a SIGTERM does.
func (s *stoppable) signal() {
	s.began = time.Now()
	s.cancel()
}

// stopped waits for Serve to return, and returns what it returned.
func (s *stoppable) stopped() error {
	s.t.Helper()
	select {
	case err := <-s.served:
		return err
	case <-time.After(30 * time.Second):
		s.t.Fatal("the service did not stop within 30s")
		return nil
	}
}

// stop signals the shutdown and waits for it.
func (s *stoppable) stop() error {
	s.signal()
	return s.stopped()
}

// startStoppable starts a service on a fresh database, its config as the
// hand-built tests had it, changed by tune (nil: as it is), and waits for
// its projections to run. The service is closed when the test ends.
func startStoppable(t *testing.T, tune func(*service.Config)) *stoppable {
	t.Helper()
	h := &harness{t: t, clock: clock.NewManual(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)), mailDir: t.TempDir()}
	cfg := service.Config{
		DatabaseURL: pgtest.URL(t), JWTSecret: jwtSecret, InvitationKey: []byte("e2e invitation key"),
		Clock: h.clock, Mail: mailer.FileSender{Dir: h.mailDir}, MailFrom: "bizcenter@test.example",
		PublicURL: "http://bizcenter.test", Log: discardLog(), SweepInterval: time.Hour,
	}
	if tune != nil {
		tune(&cfg)
	}
	svc, err := service.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, l) }()
	<-svc.ProjectionsRunning()
	h.url, h.svc = "http://"+l.Addr().String(), svc
	return &stoppable{harness: h, dbURL: cfg.DatabaseURL, cancel: cancel, served: served}
}
