package readapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

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
		done <- d.waitProjectors(context.Background(), eventstore.Position{Commit: 10, Prepare: 5}, "after", usersProjector)
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

// A read waiting for ?after hurries the batch this process's feed holds
// back for the projector (events it writes nothing for wait to go out
// together): with its first poll an hour away, and the batch's hold as
// long, only the hurry moves the checkpoint within the bound.
func TestAfter_hurries_the_batch_a_projector_holds_back(t *testing.T) {
	f := newFixture(t, time.Minute)
	f.checkpoint(10, 1)
	var advances projections.Advances
	hurried := make(chan string, 10)
	d := Deps{Pool: f.pool, WaitBound: 5 * time.Second, firstPoll: time.Hour, Advanced: advances.Next}
	d.Hurry = func(name string) {
		hurried <- name
		f.buildCheckpoint(f.build, 10, 5) // the batch went out and was applied
		advances.Signal(name)
	}
	if err := d.waitProjectors(context.Background(), eventstore.Position{Commit: 10, Prepare: 5}, "after", usersProjector); err != nil {
		t.Fatalf("wait: %v", err)
	}
	if name := <-hurried; name != usersProjector {
		t.Fatalf("hurried %s, want %s", name, usersProjector)
	}
	if err := d.waitProjectors(context.Background(), eventstore.Position{Commit: 10, Prepare: 5}, "after", usersProjector); err != nil || len(hurried) != 0 {
		t.Fatalf("at the position already: %v, %d hurries; want none", err, len(hurried))
	}
}

// asCaller is a GET of path by caller.
func asCaller(caller, path string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set(principalHeader, caller)
	return req
}

// A read waits for ?after on every projector it reads before it takes a
// read slot: one waiting for the partners read model, the second one a
// subscription list reads, leaves the only slot to a read that needs no
// wait.
func TestAfter_a_read_waiting_for_a_projector_holds_no_read_slot(t *testing.T) {
	f := newFixture(t, time.Minute)
	acc := contoso(f)
	waiting := make(chan struct{}, 1)
	f.routes(Deps{Pool: f.pool, Clock: f.clock, WaitBound: time.Minute, Concurrent: 1,
		Advanced: func(name string) <-chan struct{} {
			if name == partnersProjector {
				select {
				case waiting <- struct{}{}:
				default:
				}
			}
			return nil // polling alone wakes the wait
		}})
	f.buildCheckpoint(f.build, 10, 10) // the users read model has passed 10-10, the partners one has not
	behind := make(chan int, 1)
	go func() { behind <- serve(f, asCaller(admin, subsPath(acc, "after=10-10"))).Code }()
	select {
	case <-waiting:
	case code := <-behind:
		t.Fatalf("answered %d without waiting for the partners read model", code)
	}
	served := make(chan int, 1)
	go func() { served <- serve(f, asCaller(admin, "/v1/accounts/"+acc.String())).Code }()
	select {
	case code := <-served:
		if code != http.StatusOK {
			t.Errorf("the read needing no wait: %d, want 200", code)
		}
	case <-time.After(3 * time.Second):
		f.buildCheckpoint(f.partners.Schema, 10, 10) // lets both end
		<-behind
		<-served
		t.Fatal("a read needing no wait was not served while another waited for the partners read model")
	}
	select {
	case code := <-behind:
		t.Fatalf("answered %d before the partners read model passed 10-10", code)
	default:
	}
	f.buildCheckpoint(f.partners.Schema, 10, 10)
	if code := <-behind; code != http.StatusOK {
		t.Errorf("once the partners read model passed 10-10: %d, want 200", code)
	}
}

// The wait bound is one deadline for every projector a read waits for,
// not one each: a read whose first projector catches up late does not
// wait the whole bound again for the second.
func TestAfter_bounds_the_wait_for_all_projectors_at_once(t *testing.T) {
	const bound = time.Second
	f := newFixture(t, bound)
	acc := contoso(f)
	start := time.Now()
	answer := make(chan *httptest.ResponseRecorder, 1)
	go func() { answer <- serve(f, asCaller(admin, subsPath(acc, "after=10-10"))) }()
	time.Sleep(bound * 6 / 10)
	f.buildCheckpoint(f.build, 10, 10) // the users read model catches up, the partners one never
	rec := <-answer
	if took := time.Since(start); rec.Code != http.StatusServiceUnavailable || took > bound*3/2 ||
		!strings.Contains(rec.Body.String(), "partners read model") {
		t.Fatalf("%d %s after %s, want 503 naming the partners read model after about %s", rec.Code, rec.Body.String(), took, bound)
	}
}

// The embedded store commits the appends of several callers in one
// transaction when they wait for a writer (group commit): a dead letter
// of one caller's event says nothing of another caller's write in the
// same transaction, whose read must not answer read-model-parked; a
// letter on another stream of the same write (one correlation id) does.
func TestAfter_a_write_is_held_up_by_its_own_dead_letters_only(t *testing.T) {
	f := newFixture(t, time.Second)
	ctx := context.Background()
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	insert := `INSERT INTO events (event_id, stream, revision, type, data, metadata)
	           VALUES ($1, $2, 0, 'user.invited', '{}', $3) RETURNING tx_id, seq`
	poisoned := uuid.New()
	first, second := []byte(`{"correlationId":"first"}`), []byte(`{"correlationId":"second"}`)
	var commit, parked, other, sibling int64
	if err := tx.QueryRow(ctx, insert, poisoned, "user-a", first).Scan(&commit, &parked); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, insert, uuid.New(), "user-b", second).Scan(&commit, &other); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, insert, uuid.New(), "user-c", first).Scan(&commit, &sibling); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	f.exec(`INSERT INTO projection_dead_letters (projector, event_id, stream, commit_pos, prepare_pos, event_type, data, metadata, revision, recorded_at, status)
	        VALUES ('users', $1, 'user-a', $2, $3, 'user.invited', '{}', $4, 0, now(), 'parked')`, poisoned, commit, parked, first)
	f.checkpoint(commit, sibling)
	f.ok(admin, fmt.Sprintf("/v1/me?after=%d-%d", commit, other), &Me{})
	for what, at := range map[string]int64{"the parked event's": parked, "its write's other stream's": sibling} {
		if p := f.problem(admin, fmt.Sprintf("/v1/me?after=%d-%d", commit, at), http.StatusServiceUnavailable); !strings.HasSuffix(p.Type, "read-model-parked") {
			t.Errorf("a read after %s position: %+v, want read-model-parked", what, p)
		}
	}
}
