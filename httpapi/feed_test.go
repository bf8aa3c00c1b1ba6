package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

const feedAccount = "0b9f8a4e-3c2d-4e5f-8a7b-1c2d3e4f5a6b"

func TestParseFeed_takes_an_account_in_any_UUID_form(t *testing.T) {
	for _, given := range []string{feedAccount, "0B9F8A4E-3C2D-4E5F-8A7B-1C2D3E4F5A6B", "%7B" + feedAccount + "%7D", "urn:uuid:" + feedAccount, "0b9f8a4e3c2d4e5f8a7b1c2d3e4f5a6b"} {
		fq, p := parseFeed(httptest.NewRequest("GET", "/v1/feed?account="+given, nil))
		if p != nil || fq.account != feedAccount {
			t.Errorf("%s: account %q, %+v", given, fq.account, p)
		}
	}
}

func TestParseFeed_names_the_bad_parameter(t *testing.T) {
	for query, field := range map[string]string{"account=nope": "account", "after=bogus": "after"} {
		_, p := parseFeed(httptest.NewRequest("GET", "/v1/feed?"+query, nil))
		if p == nil || len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("?%s: %+v, want 400 naming %s", query, p, field)
		}
	}
	r := httptest.NewRequest("GET", "/v1/feed?after=bogus", nil)
	r.Header.Set("Last-Event-ID", "bogus")
	if _, p := parseFeed(r); p == nil || p.Errors[0].Field != "Last-Event-ID" {
		t.Errorf("a bad Last-Event-ID: %+v", p)
	}
}

// pagesThenAway is a log whose first page reads and whose next read
// fails, as when the database goes away during a follow=false feed.
type pagesThenAway struct {
	eventstore.Store
	first []eventstore.RecordedEvent
	reads int
}

func (s *pagesThenAway) ReadAll(context.Context, eventstore.Position, int) ([]eventstore.RecordedEvent, error) {
	if s.reads++; s.reads == 1 && s.first != nil {
		return s.first, nil
	}
	return nil, &pgconn.ConnectError{}
}

// A follow=false feed whose log cannot be read says so: a 503 before
// anything is sent, an event named error once some was, where both
// ended as a log read to its end (a 200 with only the opening comment,
// for an operator with the database away).
func TestFeed_without_follow_says_when_the_log_could_not_be_read(t *testing.T) {
	get := func(store eventstore.Store) *httptest.ResponseRecorder {
		route := FeedRoutes(store, nil, slog.New(slog.DiscardHandler), nil, nil, nil)[0]
		req := httptest.NewRequestWithContext(kit.WithPrincipal(context.Background(), kit.Principal{Subject: "op", Operator: true}), "GET", "/v1/feed?follow=false", nil)
		w := httptest.NewRecorder()
		route.Handler(w, req)
		return w
	}
	if w := get(&pagesThenAway{}); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("the log away before anything was sent: %d %q", w.Code, w.Body.String())
	}
	last := eventstore.Position{Commit: 7, Prepare: 3}
	w := get(&pagesThenAway{first: []eventstore.RecordedEvent{{Type: "test.unpublished", Stream: "test-1", Position: last}}})
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, "event: error\ndata: {") || !strings.Contains(body, "resume with Last-Event-ID "+last.String()) {
		t.Fatalf("the log away after a page: %d %q", w.Code, body)
	}
}
