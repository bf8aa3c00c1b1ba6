package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/httpapi"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// streamPage is the answer of GET /v1/audit/streams/{stream}.
type streamPage struct {
	Stream string `json:"stream"`
	Items  []struct {
		Revision uint64 `json:"revision"`
	} `json:"items"`
	Events     []json.RawMessage `json:"events"`
	NextCursor *string           `json:"nextCursor"`
}

// streamHistory serves a stream's history route over a PostgreSQL store
// holding n events in stream "s-1".
func streamHistory(t *testing.T, n int) *http.ServeMux {
	t.Helper()
	store := postgres.New(pgtest.Pool(t), postgres.Config{})
	var batch []eventstore.EventData
	for range n {
		batch = append(batch, eventstore.EventData{ID: uuid.New(), Type: "thing.happened", Data: []byte(`{}`), Metadata: []byte(`{"actor":"nora"}`)})
	}
	if _, err := store.Append(context.Background(), "s-1", eventstore.NoStream(), batch); err != nil {
		t.Fatal(err)
	}
	return auditMux(store, clock.System{})
}

// auditMux serves the audit routes over store, at the time clk tells.
func auditMux(store eventstore.Store, clk clock.Clock) *http.ServeMux {
	mux := http.NewServeMux()
	for _, r := range httpapi.AuditRoutes(store, nil, clk) {
		mux.Handle(r.Method+" "+r.Path, r.Handler)
	}
	return mux
}

func getStream(t *testing.T, mux *http.ServeMux, query string, out any) int {
	t.Helper()
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/audit/streams/s-1?"+query, nil))
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		t.Fatalf("%s: %d %s", query, rec.Code, rec.Body)
	}
	return rec.Code
}

// A stream longer than a page is read to its end by following nextCursor:
// it was cut at 1,000 events, silently.
func TestAuditStream_pages_50_by_default_to_the_end(t *testing.T) {
	mux := streamHistory(t, 1030)
	var first streamPage
	if code := getStream(t, mux, "", &first); code != http.StatusOK || len(first.Items) != kit.DefaultLimit ||
		first.NextCursor == nil || first.Stream != "s-1" || len(first.Events) != len(first.Items) {
		t.Fatalf("first page: %d, %d items, %d events, nextCursor %v", code, len(first.Items), len(first.Events), first.NextCursor)
	}
	for _, query := range []string{"limit=500", "from=0&limit=500"} { // a client keeps its query and adds the cursor
		var revisions []uint64
		cursor := ""
		for {
			var page streamPage
			if code := getStream(t, mux, query+cursor, &page); code != http.StatusOK {
				t.Fatalf("%s%s: %d", query, cursor, code)
			}
			for _, e := range page.Items {
				revisions = append(revisions, e.Revision)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = "&cursor=" + *page.NextCursor
		}
		if len(revisions) != 1030 {
			t.Fatalf("%s: read %d events, want 1030", query, len(revisions))
		}
		for i, r := range revisions {
			if r != uint64(i) {
				t.Fatalf("%s: event %d has revision %d", query, i, r)
			}
		}
	}
	var tail streamPage
	getStream(t, mux, "from=1020", &tail)
	if len(tail.Items) != 10 || tail.Items[0].Revision != 1020 || tail.NextCursor != nil {
		t.Fatalf("from 1020: %+v", tail)
	}
}

func TestAuditStream_refuses_a_bad_limit_cursor_or_after_naming_it(t *testing.T) {
	mux := streamHistory(t, 3)
	for query, field := range map[string]string{
		"limit=501":  "limit",
		"limit=1000": "limit",
		"limit=0":    "limit",
		"cursor=x":   "cursor",
		"cursor=" + kit.EncodeCursor(map[string]any{"next": uint64(1 << 63)}):   "cursor",
		"cursor=" + kit.EncodeCursor(map[string]any{"l": "another", "next": 1}): "cursor",
		"after=bogus": "after",
	} {
		var p kit.Problem
		if code := getStream(t, mux, query, &p); code != http.StatusBadRequest || len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("%s: %d %+v, want 400 naming %s", query, code, p, field)
		}
	}
	var page streamPage
	if code := getStream(t, mux, "after=1-0", &page); code != http.StatusOK || len(page.Items) != 3 {
		t.Errorf("after a position: %d %+v", code, page)
	}
}

// As of: one bound, a revision the stream has, and a time that has come
// (a time ahead would forecast statuses, an invitation expired, that no
// event records).
func TestAuditAsOf_refuses_two_bounds_a_revision_past_the_end_and_a_time_ahead(t *testing.T) {
	mux := streamHistory(t, 3)
	ahead := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for query, want := range map[string]int{"revision=1&at=2026-05-01T00:00:00Z": http.StatusBadRequest, "revision=3": http.StatusNotFound,
		"at=" + ahead: http.StatusBadRequest} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/audit/streams/s-1/as-of?"+query, nil))
		var p kit.Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != want {
			t.Fatalf("%s: %d %s, want %d", query, rec.Code, rec.Body, want)
		}
		if want == http.StatusNotFound && p.Detail != "the stream ends at revision 2" {
			t.Fatalf("%s: %q", query, p.Detail)
		}
	}
}

// An event of the stream that does not decode (its payload edited in the
// store, say) is an error the as-of view names, never the end of the
// replay: it answered the state before that event as the state asked for.
func TestAuditAsOf_refuses_to_replay_past_an_event_it_cannot_decode(t *testing.T) {
	store := postgres.New(pgtest.Pool(t), postgres.Config{})
	userID, stream := uuid.New(), "user-as-of-undecodable"
	now := time.Now().UTC()
	invited := user.Invited{UserID: userID, AccountID: uuid.New(), Email: "a@b.example", Roles: []user.Role{user.ReportsViewer},
		InvitationID: uuid.New(), InvitedBy: "op", SentAt: now, ExpiresAt: now.Add(time.Hour)}
	first := uuid.New()
	data, meta, _, err := event.EncodeAt(invited, stream, 0, event.Metadata{EventID: first, Actor: "op", OccurredAt: now})
	if err != nil {
		t.Fatal(err)
	}
	edited := eventstore.EventData{ID: uuid.New(), Type: user.RolesChanged{}.EventType(), Data: []byte(`{"roles":`),
		Metadata: []byte(`{"actor":"op","occurredAt":"` + now.Format(time.RFC3339Nano) + `"}`)}
	if _, err := store.Append(context.Background(), stream, eventstore.NoStream(), []eventstore.EventData{
		{ID: first, Type: invited.EventType(), Data: data, Metadata: meta}, edited}); err != nil {
		t.Fatal(err)
	}
	mux := auditMux(store, clock.NewManual(now.Add(time.Hour)))
	for _, query := range []string{"revision=1", "at=" + now.Add(time.Minute).Format(time.RFC3339)} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/audit/streams/"+stream+"/as-of?"+query, nil))
		var p kit.Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || rec.Code != http.StatusInternalServerError || !strings.Contains(p.Detail, "revision 1") {
			t.Fatalf("%s: %d %s, want a 500 naming revision 1", query, rec.Code, rec.Body)
		}
	}
	// Before it, the replay answers.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/audit/streams/"+stream+"/as-of?revision=0", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("revision=0: %d %s", rec.Code, rec.Body)
	}
}

// A partner with no users yet lists none as [] in the as-of view, as an
// account lists no domains: it answered "users": null, unlike every other
// list of the API.
func TestAuditAsOf_partner_without_users_lists_none_as_empty(t *testing.T) {
	store := postgres.New(pgtest.Pool(t), postgres.Config{})
	partnerID := uuid.New()
	stream, now, id := partner.Stream(partnerID), time.Now().UTC(), uuid.New()
	registered := partner.Registered{PartnerID: partnerID, Name: "Tailspin Resellers", RegisteredBy: "op"}
	data, meta, _, err := event.EncodeAt(registered, stream, 0, event.Metadata{EventID: id, Actor: "op", OccurredAt: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(context.Background(), stream, eventstore.NoStream(), []eventstore.EventData{
		{ID: id, Type: registered.EventType(), Data: data, Metadata: meta}}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	auditMux(store, clock.NewManual(now.Add(time.Minute))).ServeHTTP(rec,
		httptest.NewRequest(http.MethodGet, "/v1/audit/streams/"+stream+"/as-of?revision=0", nil))
	var body struct {
		State map[string]json.RawMessage `json:"state"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("as-of: %d %s", rec.Code, rec.Body)
	}
	if got := string(body.State["users"]); got != "[]" {
		t.Fatalf("users: %s, want []", got)
	}
}
