package service_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/integration"
)

// sse is one Server-Sent Event, or a comment line (a heartbeat).
type sse struct {
	id, event, data, comment string
}

// openFeed opens GET /v1/feed and hands over what arrives.
func (h *harness) openFeed(token, query, lastID string) (int, <-chan sse, func()) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.url+"/v1/feed"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	out := make(chan sse, 1000)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		close(out)
		return resp.StatusCode, out, func() {}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		h.t.Fatalf("feed content type %q", ct)
	}
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var e sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e != (sse{}) {
					out <- e
				}
				e = sse{}
			case strings.HasPrefix(line, ":"):
				e.comment = strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "id: "):
				e.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				e.data = line[6:]
			}
		}
	}()
	return resp.StatusCode, out, func() { resp.Body.Close() }
}

// backlog reads a follow=false feed to its end.
func (h *harness) backlog(token, query, lastID string) []sse {
	h.t.Helper()
	status, in, closeFeed := h.openFeed(token, query, lastID)
	defer closeFeed()
	if status != http.StatusOK {
		h.t.Fatalf("feed %s: %d", query, status)
	}
	var events []sse
	for e := range in {
		if e.data != "" {
			events = append(events, e)
		}
	}
	return events
}

func decodeCE(t *testing.T, e sse) integration.Event {
	t.Helper()
	var ce integration.Event
	if err := json.Unmarshal([]byte(e.data), &ce); err != nil {
		t.Fatal(err)
	}
	if err := integration.Validate([]byte(e.data)); err != nil {
		t.Fatalf("%s does not match its schema: %v", ce.Type, err)
	}
	if e.id != ce.Position || e.event != ce.Type {
		t.Fatalf("id %s event %s, but the CloudEvent says %s %s", e.id, e.event, ce.Position, ce.Type)
	}
	return ce
}

func TestFeed_members_see_their_accounts_events_and_resume_exactly(t *testing.T) {
	h := start(t, options{})
	account, admin := h.registered()
	op := h.token("op-1", "ops@bizcenter.example", true)
	other := h.must(http.StatusCreated, "POST", "/v1/accounts", op, registration("feed"))["accountId"].(string)
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+account+"/users", admin, invite("ji-woo@northwind.example", "reports_viewer"))

	// The log is read below its safe horizon: wait until the invitation
	// just appended is readable.
	var mine []sse
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if mine = h.backlog(admin, "?follow=false", ""); len(mine) > 0 && mine[len(mine)-1].event == "bizcenter.user.invited.v1" {
			break
		}
	}
	if len(mine) < 3 {
		t.Fatalf("%d events in the administrator's feed", len(mine))
	}
	for _, e := range mine {
		ce := decodeCE(t, e)
		if ce.AccountID != account {
			t.Fatalf("the administrator of %s sees %s of account %q", account, ce.Type, ce.AccountID)
		}
		if strings.Contains(e.data, "ji-woo") || strings.Contains(e.data, managerEmail) {
			t.Fatalf("%s carries personal data: %s", ce.Type, e.data)
		}
	}
	all := h.backlog(op, "?follow=false", "")
	sawOther := false
	for _, e := range all {
		sawOther = sawOther || decodeCE(t, e).AccountID == other
	}
	if !sawOther || len(all) <= len(mine) {
		t.Fatalf("the operator sees %d events (the other account's: %v), the administrator %d", len(all), sawOther, len(mine))
	}

	// Resuming after any event gives exactly the events after it.
	for i := range mine {
		rest := h.backlog(admin, "?follow=false", mine[i].id)
		if len(rest) != len(mine)-i-1 || len(rest) > 0 && rest[0].id != mine[i+1].id {
			t.Fatalf("after %s: %d events, want %d", mine[i].id, len(rest), len(mine)-i-1)
		}
	}
	invited := h.backlog(admin, "?follow=false&types=bizcenter.user.invited.v1", "")
	if len(invited) != 2 {
		t.Fatalf("%d user.invited events, want the manager's and Ji-woo's", len(invited))
	}
	for _, e := range invited {
		if e.event != "bizcenter.user.invited.v1" {
			t.Fatalf("a %s passed the type filter", e.event)
		}
	}
	if status, _ := h.call("GET", "/v1/feed?types=bizcenter.nope.v1", admin, nil); status != http.StatusBadRequest {
		t.Fatalf("an unknown type: %d", status)
	}
	// Commas alone name no type: they streamed every type.
	if status, body := h.call("GET", "/v1/feed?follow=false&types=,,,", admin, nil); status != http.StatusBadRequest || !namesField(body, "types") {
		t.Fatalf("types of commas alone: %d %v", status, body)
	}
	if status, _, _ := h.openFeed(admin, "", "not-a-position"); status != http.StatusBadRequest {
		t.Fatalf("a bad Last-Event-ID: %d", status)
	}
}

func TestFeed_follows_live_with_heartbeats(t *testing.T) {
	h := start(t, options{})
	account, admin := h.registered()
	past := h.backlog(admin, "?follow=false", "")
	status, in, closeFeed := h.openFeed(admin, "?heartbeat=1", past[len(past)-1].id)
	defer closeFeed()
	if status != http.StatusOK {
		t.Fatalf("feed: %d", status)
	}
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+account+"/users", admin, invite("live@northwind.example", "account_viewer"))
	var got []string
	beats := 0
	deadline := time.After(10 * time.Second)
	for beats == 0 || len(got) == 0 {
		select {
		case e := <-in:
			if strings.HasPrefix(e.comment, "heartbeat") {
				beats++
			} else if e.data != "" {
				got = append(got, decodeCE(t, e).Type)
			}
		case <-deadline:
			t.Fatalf("within 10s: events %v, %d heartbeats", got, beats)
		}
	}
	if got[0] != "bizcenter.user.invited.v1" {
		t.Fatalf("the first live event is %s, want the invitation (nothing before the Last-Event-ID again)", got[0])
	}
}

// A feed ends when the token it was opened with expires, saying so: the
// client comes back with a fresh token, which is checked again.
func TestFeed_ends_when_its_token_expires(t *testing.T) {
	h := start(t, options{})
	h.registered()
	short, err := auth.Mint(jwtSecret, "nora", managerEmail, false, 2*time.Second, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	status, in, closeFeed := h.openFeed(short, "?heartbeat=1", "")
	defer closeFeed()
	if status != http.StatusOK {
		t.Fatalf("feed: %d", status)
	}
	deadline := time.After(10 * time.Second)
	said := false
	for {
		select {
		case e, open := <-in:
			if !open {
				if !said {
					t.Fatal("the feed ended without saying the token expired")
				}
				return
			}
			said = said || e.comment == "token expired"
		case <-deadline:
			t.Fatal("the feed still streams 8 s after its token expired")
		}
	}
}

// feedRefuses checks that the feed refuses to start after position,
// given as Last-Event-ID or ?after=, with and without follow: a 400
// naming where it came from. (A followed feed's 200 is not read on: it
// would wait for events.)
func (h *harness) feedRefuses(token, position string) {
	h.t.Helper()
	for _, c := range []struct{ query, lastID, field string }{
		{"?follow=false", position, "Last-Event-ID"},
		{"?follow=false&after=" + position, "", "after"},
		{"", position, "Last-Event-ID"},
	} {
		req, _ := http.NewRequest("GET", h.url+"/v1/feed"+c.query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if c.lastID != "" {
			req.Header.Set("Last-Event-ID", c.lastID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			h.t.Fatal(err)
		}
		var out map[string]any
		if resp.StatusCode != http.StatusOK {
			_ = json.NewDecoder(resp.Body).Decode(&out)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !namesField(out, c.field) {
			h.t.Errorf("feed%s, Last-Event-ID %q: %d %v, want 400 naming %s", c.query, c.lastID, resp.StatusCode, out, c.field)
		}
	}
}

// An id past the end of the log (of another database, or of this one
// before a restore) is refused, naming where it came from: the feed
// would send nothing until the log reached it. The last event's id
// still resumes, with nothing after it.
func TestFeed_refuses_an_id_past_the_end_of_the_log(t *testing.T) {
	h := start(t, options{})
	op := h.token("auditor", "audit@bizcenter.example", true)
	h.registered()
	events := h.backlog(op, "?follow=false", "")
	if len(events) == 0 {
		t.Fatal("no event in the feed")
	}
	last, err := eventstore.ParsePosition(events[len(events)-1].id)
	if err != nil {
		t.Fatal(err)
	}
	h.feedRefuses(op, eventstore.Position{Commit: last.Commit + 1000, Prepare: 0}.String())
	if rest := h.backlog(op, "?follow=false", last.String()); len(rest) != 0 {
		t.Errorf("after the last event: %d events", len(rest))
	}
}

// Orders are read by Account Administrators, Account Managers, Reports
// Viewers and Account Viewers (seed 001, docs/roles.md): a User
// Administrator or an Agreement Administrator gets 403 for the account's
// subscriptions, and must not read them in the feed either (they read
// the rest of the account's events). Given an order role too, they read
// them.
func TestFeed_shows_orders_only_to_members_who_read_orders(t *testing.T) {
	h := start(t, options{})
	account, admin := h.registered()
	userAdminID, userAdmin := h.member(account, admin, "uma@northwind.example", "user_administrator")
	_, agreementAdmin := h.member(account, admin, "aga@northwind.example", "agreement_administrator")
	_, viewer := h.member(account, admin, "vic@northwind.example", "account_viewer")
	_, pos := h.order(account, admin, "", "E3 for the feed")
	h.must(http.StatusOK, "GET", "/v1/accounts/"+account+"/subscriptions?after="+pos, admin, nil)

	orders := func(token string) (orders, others int) {
		t.Helper()
		for _, e := range h.backlog(token, "?follow=false", "") {
			if strings.HasPrefix(decodeCE(t, e).Type, "bizcenter.subscription.") {
				orders++
			} else {
				others++
			}
		}
		return orders, others
	}
	var n int
	for deadline := time.Now().Add(10 * time.Second); n == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		n, _ = orders(viewer)
	}
	if n != 1 {
		t.Fatalf("the account viewer reads %d orders in the feed, want 1", n)
	}
	for name, token := range map[string]string{"user administrator": userAdmin, "agreement administrator": agreementAdmin} {
		if code, _ := h.call("GET", "/v1/accounts/"+account+"/subscriptions", token, nil); code != http.StatusForbidden {
			t.Fatalf("the %s lists the subscriptions: %d", name, code)
		}
		if n, others := orders(token); n != 0 || others == 0 {
			t.Errorf("the %s reads %d orders and %d other events in the feed; want none and some", name, n, others)
		}
	}

	out := h.must(http.StatusOK, "PUT", "/v1/accounts/"+account+"/users/"+userAdminID+"/roles", admin,
		map[string]any{"roles": []string{"user_administrator", "reports_viewer"}})
	h.must(http.StatusOK, "GET", "/v1/accounts/"+account+"?after="+out["position"].(string), admin, nil)
	if n, _ := orders(userAdmin); n != 1 {
		t.Errorf("made a reports viewer too, the user administrator reads %d orders, want 1", n)
	}
}
