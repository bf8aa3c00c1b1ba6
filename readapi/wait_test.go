package readapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/projections"
)

func serve(f *fixture, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	return rec
}

func TestAfter_waits_until_the_users_checkpoint_passes_the_position(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	acc := contoso(f)
	f.checkpoint(100, 7)
	done := make(chan int, 1)
	go func() {
		req := httptest.NewRequest(http.MethodGet, "/v1/accounts/"+acc.String()+"?after=100-9", nil)
		req.Header.Set(principalHeader, admin)
		done <- serve(f, req).Code
	}()
	select {
	case code := <-done:
		t.Fatalf("answered %d before the checkpoint reached 100-9", code)
	case <-time.After(50 * time.Millisecond):
	}
	f.checkpoint(100, 9) // the same commit, the awaited event: at the position counts
	select {
	case code := <-done:
		if code != http.StatusOK {
			t.Fatalf("status %d, want 200", code)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("still waiting after the checkpoint passed the position")
	}
}

func TestAfter_answers_at_once_when_the_checkpoint_is_past(t *testing.T) {
	f := newFixture(t, 5*time.Second)
	f.checkpoint(200, 1)
	start := time.Now()
	f.ok(admin, "/v1/me?after=199-500", &Me{})
	req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
	req.Header.Set(principalHeader, admin)
	req.Header.Set(afterHeader, "200-1")
	if rec := serve(f, req); rec.Code != http.StatusOK {
		t.Fatalf("header at the checkpoint: %d", rec.Code)
	}
	if time.Since(start) > time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

func TestAfter_answers_503_with_retry_after_past_the_wait_bound(t *testing.T) {
	f := newFixture(t, 60*time.Millisecond)
	acc := contoso(f)
	f.checkpoint(5, 5)
	for _, path := range []string{"/v1/me?after=6-0", "/v1/accounts/" + acc.String() + "/users?after=5-6"} {
		start := time.Now()
		f.problem(admin, path, http.StatusServiceUnavailable)
		if took := time.Since(start); took < 60*time.Millisecond || took > 2*time.Second {
			t.Errorf("%s: answered after %s, want about the 60ms bound", path, took)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
	req.Header.Set(principalHeader, admin)
	req.Header.Set(afterHeader, "9-9")
	if rec := serve(f, req); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("header: %d Retry-After %q, want 503 and 1", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func TestAfter_waits_for_a_checkpoint_row_that_does_not_exist_yet(t *testing.T) {
	f := newFixture(t, 60*time.Millisecond)
	f.problem(admin, "/v1/me?after=1-0", http.StatusServiceUnavailable)
	f.checkpoint(1, 0)
	f.ok(admin, "/v1/me?after=1-0", &Me{})
}

// A read waiting for ?after looks again when this process's handler of
// the projector finishes a batch, not only at its next poll: with its
// first poll an hour away, only the signal can wake it within the bound.
func TestAfter_looks_again_when_the_projector_of_this_process_finishes_a_batch(t *testing.T) {
	f := newFixture(t, time.Minute)
	f.checkpoint(10, 1)
	var advances projections.Advances
	looks := make(chan string, 10)
	d := Deps{Pool: f.pool, WaitBound: 30 * time.Second, firstPoll: time.Hour}
	var n int
	d.Advanced = func(name string) <-chan struct{} {
		next := advances.Next(name) // taken before the checkpoint is read
		if n++; n == 2 {
			f.buildCheckpoint(f.build, 10, 5) // the batch that woke it moved it
		}
		looks <- name
		return next
	}
	done := make(chan error, 1)
	go func() {
		done <- d.waitProjector(context.Background(), usersProjector, eventstore.Position{Commit: 10, Prepare: 5})
	}()
	if name := <-looks; name != usersProjector {
		t.Fatalf("waits for %s, want %s", name, usersProjector)
	}
	advances.Signal("partners")
	select {
	case <-looks:
		t.Fatal("another projector's batch woke the read")
	case <-time.After(50 * time.Millisecond):
	}
	advances.Signal(usersProjector)
	if err := <-done; err != nil {
		t.Fatalf("after the users projector's batch: %v", err)
	}
	if n != 2 {
		t.Fatalf("looked %d times, want 2", n)
	}
}
