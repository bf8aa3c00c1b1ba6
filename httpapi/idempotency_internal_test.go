package httpapi

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// A conflict the command's retries did not get past (other requests kept
// moving the stream it read) decided nothing: its 409 says "try again",
// with Retry-After, and is not kept under the Idempotency-Key, so the
// retry it asks for, sent with the same key as a client should, runs.
// (It was kept and replayed for 24 hours: with 24 concurrent product-key
// retrievals of one package, 7 answered that 409, and every retry with
// their keys replayed it.) A conflict a rule found is a decision, kept.
func TestIdempotency_a_lasting_revision_conflict_is_not_kept_so_the_retry_runs(t *testing.T) {
	var runs atomic.Int32
	log := slog.New(slog.DiscardHandler)
	lasting := fmt.Errorf("%w: save benefit-package-1: %w", domain.ErrConflict, eventstore.ErrWrongExpectedRevision)
	duplicate := fmt.Errorf("user 1 already holds this benefit: %w", domain.ErrConflict)
	routes := []kit.Route{{Method: http.MethodPost, Path: "/v1/things/{id}", Access: kit.Anyone, Handler: func(w http.ResponseWriter, r *http.Request) {
		n := runs.Add(1)
		switch {
		case r.PathValue("id") == "dup":
			fail(w, r, log, duplicate)
		case n == 1:
			fail(w, r, log, lasting)
		default:
			kit.WriteJSON(w, http.StatusCreated, map[string]any{"run": n})
		}
	}}}
	s := New(auth.NewChain(auth.NewVerifier([]byte("idempotency conflict secret, 32 b"), nil), nil), log, routes)
	s.UseIdempotency(NewIdempotencyKeys(pgtest.Pool(t), IdempotencyConfig{Log: log}))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	send := func(path, key string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(IdempotencyHeader, key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	code, body, h := send("/v1/things/1", "k-1")
	if code != http.StatusConflict || !strings.Contains(body, "try again") || h.Get("Retry-After") == "" {
		t.Fatalf("the lasting conflict: %d %s %v, want a 409 with Retry-After", code, body, h)
	}
	code, body, h = send("/v1/things/1", "k-1")
	if code != http.StatusCreated || h.Get("Idempotent-Replayed") != "" {
		t.Fatalf("the retry with the same key: %d %s (replayed %q), want it run", code, body, h.Get("Idempotent-Replayed"))
	}
	if code, _, h = send("/v1/things/1", "k-1"); code != http.StatusCreated || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the retry's answer is kept: %d %v", code, h)
	}
	send("/v1/things/dup", "k-2")
	if code, _, h = send("/v1/things/dup", "k-2"); code != http.StatusConflict || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("a rule's conflict again: %d, replayed %q; want it kept", code, h.Get("Idempotent-Replayed"))
	}
}

// A key's lifetime, which the ids a command makes derive from with the
// key and the request, lasts while the key does: a run again after a
// failure (freed) or a dead holder is in it, and finds the first run's
// work; once the key expired, the same request starts a new one.
func TestIdempotency_a_key_keeps_its_lifetime_until_it_expires(t *testing.T) {
	pool := pgtest.Pool(t)
	k := NewIdempotencyKeys(pool, IdempotencyConfig{Log: slog.New(slog.DiscardHandler)})
	row := keyRow{principal: "alice", route: "POST /v1/things/{id}", key: "k-1"}
	ctx := t.Context()
	claim := func(hash string) int64 {
		t.Helper()
		holder := uuid.New()
		first, lifetime, err := k.claim(ctx, row, []byte(hash), holder)
		if err != nil || first != nil {
			t.Fatalf("claim %s: %+v %v", hash, first, err)
		}
		return lifetime
	}
	answer := func(hash string, lifetime int64, status int) {
		t.Helper()
		holder := uuid.New()
		if first, got, err := k.claim(ctx, row, []byte(hash), holder); err != nil || first != nil || got != lifetime {
			t.Fatalf("claim %s: %+v, lifetime %d (want %d), %v", hash, first, got, lifetime, err)
		}
		req := httptest.NewRequest(http.MethodPost, "/v1/things/1", strings.NewReader(`{}`))
		k.run(row, []byte(hash), lifetime, holder, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			kit.WriteJSON(w, status, map[string]any{})
		}), httptest.NewRecorder(), req)
	}
	lifetime := claim("a")
	if _, err := pool.Exec(ctx, `UPDATE idempotency_keys SET locked_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	answer("a", lifetime, http.StatusServiceUnavailable) // its holder died; the run again fails: freed
	answer("b", lifetime, http.StatusBadRequest)         // another request may claim it
	answer("a", lifetime, http.StatusCreated)            // the same request again finds the first run's work
	if first, _, err := k.claim(ctx, row, []byte("a"), uuid.New()); err != nil || first == nil || first.status != http.StatusCreated {
		t.Fatalf("the kept answer: %+v %v", first, err)
	}
	if _, err := pool.Exec(ctx, `UPDATE idempotency_keys SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if again := claim("a"); again == lifetime {
		t.Fatalf("the same request with the expired key runs in its first lifetime %d", lifetime)
	}
}
