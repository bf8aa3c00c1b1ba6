package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/service"
	"github.com/bizcenter/bizcenter/webhooks"
)

var jwtSecret = []byte("e2e test secret, 32 bytes long!!")

// harness is one service on a fresh database, served by httptest.
type harness struct {
	t       *testing.T
	svc     *service.Service
	url     string
	clock   *clock.Manual
	mailDir string
}

type options struct {
	eventStoreURL            string
	oidcIssuer, oidcAudience string
	stallAfter               time.Duration
	dbURL                    string // reuse a database (default: a fresh one)
	// asTheBinary serves through Service.Serve, as `bizcenter serve` does,
	// rather than the Handler in httptest.
	asTheBinary bool
	// readTimeout and idleTimeout bound the connections Service.Serve
	// keeps (default: the service's).
	readTimeout, idleTimeout time.Duration
	// privateWebhooks lets webhooks go to a receiver on this machine
	// (webhooks.Policy.AllowPrivate).
	privateWebhooks bool
	// mail sends the mail (default: files in a temporary directory).
	mail mailer.Sender
}

func start(t *testing.T, opts options) *harness {
	t.Helper()
	h := &harness{t: t, clock: clock.NewManual(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)), mailDir: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	var mail mailer.Sender = mailer.FileSender{Dir: h.mailDir}
	if opts.mail != nil {
		mail = opts.mail
	}
	if opts.dbURL == "" {
		opts.dbURL = pgtest.URL(t)
	}
	svc, err := service.New(ctx, service.Config{
		DatabaseURL: opts.dbURL, EventStoreURL: opts.eventStoreURL,
		OIDCIssuer: opts.oidcIssuer, OIDCAudience: opts.oidcAudience,
		JWTSecret: jwtSecret, InvitationKey: []byte("e2e invitation key"),
		Clock: h.clock, Mail: mail, MailFrom: "bizcenter@test.example",
		PublicURL: "http://bizcenter.test", Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// Tests sweep by hand.
		SweepInterval:      time.Hour,
		StallAfter:         opts.stallAfter,
		RequestReadTimeout: opts.readTimeout, IdleTimeout: opts.idleTimeout,
		Integration: service.IntegrationConfig{Webhooks: webhooks.Policy{AllowPrivate: opts.privateWebhooks}},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if opts.asTheBinary {
		t.Cleanup(cancel)
		h.svc, h.url = svc, serveAsTheBinary(t, svc)
		return h
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = svc.RunProjections(ctx)
	}()
	select {
	case <-svc.ProjectionsRunning():
	case <-time.After(30 * time.Second):
		t.Fatal("projections did not start")
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		svc.Close()
	})
	h.svc, h.url = svc, srv.URL
	return h
}

func (h *harness) token(subject, email string, operator bool) string {
	h.t.Helper()
	tok, err := auth.Mint(jwtSecret, subject, email, operator, time.Hour, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// call sends a request and decodes the JSON answer into a map.
func (h *harness) call(method, path, token string, body any) (int, map[string]any) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.url+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, out
}

// must asserts a status and returns the body.
func (h *harness) must(status int, method, path, token string, body any) map[string]any {
	h.t.Helper()
	got, out := h.call(method, path, token, body)
	if got != status {
		h.t.Fatalf("%s %s: status %d, want %d: %v", method, path, got, status, out)
	}
	return out
}

var tokenLine = regexp.MustCompile(`(?m)^Invitation token: (\S+)\s*$`)

// mailTokens waits, bounded, until n emails to addr exist, and returns the
// invitation tokens in them, oldest first.
func (h *harness) mailTokens(addr string, n int) []string {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var tokens []string
		files, _ := filepath.Glob(filepath.Join(h.mailDir, "*.eml"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if !sentTo(string(b), addr) {
				continue
			}
			if m := tokenLine.FindStringSubmatch(string(b)); m != nil {
				tokens = append(tokens, m[1])
			}
		}
		if len(tokens) >= n {
			return tokens
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%d of %d emails to %s within 10s", len(tokens), n, addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sentTo reports whether a message's To header names addr.
func sentTo(eml, addr string) bool {
	for _, line := range strings.Split(eml, "\n") {
		if strings.HasPrefix(line, "To: ") {
			return strings.Contains(strings.ToLower(line), "<"+strings.ToLower(addr)+">")
		}
	}
	return false
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func uuidOf(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
