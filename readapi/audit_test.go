package readapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/projections"
)

const operator = "audit@bizcenter.example;operator"

// auditLog is the audit read model's build in a fixture, holding events
// at positions n-1 for n from 1.
type auditLog struct {
	f     *fixture
	build string
}

func newAuditLog(f *fixture) *auditLog {
	f.t.Helper()
	active, _, err := projections.Ensure(context.Background(), f.pool, projections.Audit{})
	if err != nil {
		f.t.Fatal(err)
	}
	return &auditLog{f: f, build: active.Schema}
}

// add writes events at positions from-1 to to-1 of one correlation.
func (l *auditLog) add(from, to int, correlation string) {
	l.f.t.Helper()
	for n := from; n <= to; n++ {
		l.f.exec(`INSERT INTO `+pgx.Identifier{l.build, "rm_audit_events"}.Sanitize()+` (commit_pos, prepare_pos, event_id, stream,
		    revision, event_type, schema_version, account_id, actor, correlation_id, causation_id, occurred_at, data)
		  VALUES ($1, 1, $2, 'user-x', $1, 'user.invited', 1, NULL, 'nora', $3, '', $4, '{}')`,
			n, uuid.New(), correlation, t0.Add(time.Duration(n)*time.Second))
	}
}

func (l *auditLog) checkpoint(commit int64) { l.f.buildCheckpoint(l.build, commit, 1) }

// walkAudit pages through a list from path (which has a query) and returns the
// positions read and how many pages it took.
func walkAudit(f *fixture, path string) (positions []string, pages int) {
	f.t.Helper()
	cursor := ""
	for {
		var page AuditPage
		f.ok(operator, path+cursor, &page)
		pages++
		for _, e := range page.Items {
			positions = append(positions, e.Position)
		}
		if page.NextCursor == nil {
			return positions, pages
		}
		cursor = "&cursor=" + *page.NextCursor
	}
}

func TestAudit_lists_page_50_by_default_through_every_event(t *testing.T) {
	f := newFixture(t, time.Second)
	l := newAuditLog(f)
	l.add(1, 120, "corr-a")
	for _, path := range []string{"/v1/audit/events?actor=nora", "/v1/audit/correlations/corr-a?x="} {
		var first AuditPage
		f.ok(operator, path, &first)
		if len(first.Items) != kit.DefaultLimit || first.NextCursor == nil {
			t.Fatalf("%s: %d items, nextCursor %v: want %d and a cursor", path, len(first.Items), first.NextCursor, kit.DefaultLimit)
		}
		positions, pages := walkAudit(f, path)
		if len(positions) != 120 || pages != 3 || positions[0] != "1-1" || positions[119] != "120-1" {
			t.Fatalf("%s: read %d events in %d pages, want 120 in 3 from 1-1 to 120-1", path, len(positions), pages)
		}
		for i := 1; i < len(positions); i++ {
			if positions[i] != fmt.Sprintf("%d-1", i+1) {
				t.Fatalf("%s: event %d at %s", path, i, positions[i])
			}
		}
		if got, _ := walkAudit(f, path+"&limit=500"); len(got) != 120 {
			t.Fatalf("%s with limit 500: %d events", path, len(got))
		}
		p := f.problem(operator, path+"&limit=501", http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != "limit" {
			t.Fatalf("%s limit 501: %+v, want 400 naming limit", path, p)
		}
		p = f.problem(operator, path+"&cursor=bogus", http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != "cursor" {
			t.Fatalf("%s bad cursor: %+v, want 400 naming cursor", path, p)
		}
	}
}

// The cursor these routes gave before they used the shared codec, a bare
// position, still goes on from there.
func TestAudit_events_takes_a_bare_position_as_cursor(t *testing.T) {
	f := newFixture(t, time.Second)
	l := newAuditLog(f)
	l.add(1, 5, "corr-a")
	var page AuditPage
	f.ok(operator, "/v1/audit/events?cursor=3-1", &page)
	if len(page.Items) != 2 || page.Items[0].Position != "4-1" || page.NextCursor != nil {
		t.Fatalf("after 3-1: %+v, want 4-1 and 5-1", page)
	}
}

func TestAudit_lists_wait_for_the_audit_read_model_to_pass_after(t *testing.T) {
	f := newFixture(t, 80*time.Millisecond)
	l := newAuditLog(f)
	l.add(1, 3, "corr-a")
	l.checkpoint(3)
	f.checkpoint(1000, 0) // the users read model is far ahead: it is not the one waited for
	for _, path := range []string{"/v1/audit/events?limit=1", "/v1/audit/correlations/corr-a?limit=1"} {
		p := f.problem(operator, path+"&after=bogus", http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != "after" {
			t.Fatalf("%s bogus after: %+v, want 400 naming after", path, p)
		}
		f.ok(operator, path+"&after=3-1", &AuditPage{})
		f.problem(operator, path+"&after=4-1", http.StatusServiceUnavailable)
	}

	// A wait that ends as the model passes the position, with a bound
	// no loaded machine reaches.
	f = newFixture(t, 10*time.Second)
	l = newAuditLog(f)
	l.add(1, 3, "corr-a")
	l.checkpoint(3)
	type answer struct {
		code int
		page AuditPage
		err  error
	}
	done := make(chan answer, 1)
	go func() { // no t.Fatal off the test's goroutine
		req := httptest.NewRequest(http.MethodGet, "/v1/audit/correlations/corr-b?after=4-1", nil)
		req.Header.Set(principalHeader, operator)
		rec := httptest.NewRecorder()
		f.mux.ServeHTTP(rec, req)
		var a answer
		a.code, a.err = rec.Code, json.Unmarshal(rec.Body.Bytes(), &a.page)
		done <- a
	}()
	time.Sleep(20 * time.Millisecond)
	l.add(4, 4, "corr-b")
	l.checkpoint(4)
	select {
	case a := <-done:
		if a.code != http.StatusOK || a.err != nil || len(a.page.Items) != 1 || a.page.Items[0].Position != "4-1" {
			t.Fatalf("once the model passed 4-1: %d %+v %v, want the event at 4-1", a.code, a.page, a.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still waiting once the audit model passed the position")
	}
}

func TestAudit_correlation_is_404_only_without_a_cursor(t *testing.T) {
	f := newFixture(t, time.Second)
	l := newAuditLog(f)
	l.add(1, 2, "corr-a")
	f.problem(operator, "/v1/audit/correlations/nothing", http.StatusNotFound)
	var page AuditPage
	f.ok(operator, "/v1/audit/correlations/corr-a?limit=2", &page)
	// A page past the last event is empty, not a 404.
	f.ok(operator, "/v1/audit/correlations/corr-a?cursor="+kit.EncodeCursor(auditKey{page.Items[1].Position}), &page)
	if len(page.Items) != 0 || page.NextCursor != nil {
		t.Fatalf("past the last event: %+v", page)
	}
}

// A time range that ends before it starts is a mistake to point out, as
// the invoices' range is, not an empty page.
func TestAudit_events_refuses_to_before_from(t *testing.T) {
	f := newFixture(t, time.Second)
	newAuditLog(f)
	p := f.problem(operator, "/v1/audit/events?from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z", http.StatusBadRequest)
	if len(p.Errors) != 1 || p.Errors[0].Field != "to" {
		t.Fatalf("to before from: %+v, want 400 naming to", p)
	}
	var page AuditPage
	f.ok(operator, "/v1/audit/events?from=2026-05-01T00:00:00Z&to=2026-05-01T00:00:00Z", &page)
}

// A from or to finer than the microsecond (occurred_at's precision)
// keeps the events export's --from and --to keep, by the metadata's time:
// the driver cut the bound to the microsecond below, so an event at that
// microsecond was listed after a later from and left out before a later
// to.
func TestAudit_events_time_bounds_finer_than_a_microsecond_keep_what_export_keeps(t *testing.T) {
	f := newFixture(t, time.Second)
	l := newAuditLog(f)
	l.add(1, 1, "corr-a") // occurred at t0 + 1s
	l.checkpoint(1)
	at := t0.Add(time.Second)
	for _, c := range []struct {
		query string
		want  int
	}{
		{"from=" + at.Add(100*time.Nanosecond).Format(time.RFC3339Nano), 0},
		{"from=" + at.Add(-100*time.Nanosecond).Format(time.RFC3339Nano), 1},
		{"to=" + at.Add(100*time.Nanosecond).Format(time.RFC3339Nano), 1},
		{"to=" + at.Format(time.RFC3339Nano), 0},
		{"from=" + at.Format(time.RFC3339Nano), 1},
	} {
		var page AuditPage
		f.ok(operator, "/v1/audit/events?"+c.query, &page)
		if len(page.Items) != c.want {
			t.Errorf("%s: %d events, want %d (the event occurred at %s)", c.query, len(page.Items), c.want, at.Format(time.RFC3339Nano))
		}
	}
}
