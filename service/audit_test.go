package service_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// callWith sends a request with extra headers.
func (h *harness) callWith(method, path, token string, headers map[string]string, body any) (int, map[string]any) {
	h.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, h.url+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func TestAudit_history_as_of_correlation_and_filters(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	op := h.token("auditor", "audit@bizcenter.example", true)
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	code, inv := h.callWith("POST", "/v1/accounts/"+accountID+"/users", admin,
		map[string]string{"traceparent": "00-" + trace + "-00f067aa0ba902b7-01"}, invite("aud@northwind.example", "reports_viewer"))
	if code != http.StatusCreated {
		t.Fatalf("invite: %d %v", code, inv)
	}
	invitedAt := h.clock.Now()
	h.clock.Advance(time.Hour)
	tok := h.mailTokens("aud@northwind.example", 1)[0]
	acc := h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": tok})
	stream := "user-" + inv["userId"].(string)

	hist := h.must(http.StatusOK, "GET", "/v1/audit/streams/"+stream, op, nil)
	events := hist["events"].([]any)
	if len(events) != 2 || len(hist["items"].([]any)) != 2 || hist["nextCursor"] != nil {
		t.Fatalf("history %v", hist)
	}
	first := events[0].(map[string]any)
	meta := first["metadata"].(map[string]any)
	if first["type"] != "user.invited" || meta["actor"] != "nora" || meta["correlationId"] != trace {
		t.Fatalf("first event %v", first)
	}

	at := func(q string) string {
		return h.must(http.StatusOK, "GET", "/v1/audit/streams/"+stream+"/as-of?"+q, op, nil)["state"].(map[string]any)["status"].(string)
	}
	if s := at("revision=0"); s != "pending" {
		t.Fatalf("as of revision 0: %s", s)
	}
	if s := at("at=" + url.QueryEscape(invitedAt.Add(time.Minute).Format(time.RFC3339))); s != "pending" {
		t.Fatalf("as of a minute after the invitation: %s", s)
	}
	if s := at("at=" + url.QueryEscape(h.clock.Now().Format(time.RFC3339))); s != "active" {
		t.Fatalf("as of now: %s", s)
	}

	// ?after waits for the audit read model itself.
	after := "after=" + acc["position"].(string)
	corr := h.must(http.StatusOK, "GET", "/v1/audit/correlations/"+trace+"?"+after, op, nil)["items"].([]any)
	if len(corr) != 2 {
		t.Fatalf("correlated events after %s: %v", after, corr)
	}
	types := []string{corr[0].(map[string]any)["type"].(string), corr[1].(map[string]any)["type"].(string)}
	if types[0] != "reservation.claimed" || types[1] != "user.invited" {
		t.Fatalf("correlated events %v", types)
	}

	accepted := h.must(http.StatusOK, "GET", "/v1/audit/events?type=user.invitation_accepted&account="+accountID+"&"+after, op, nil)["items"].([]any)
	if len(accepted) == 0 || accepted[len(accepted)-1].(map[string]any)["stream"] != stream {
		t.Fatalf("the acceptance after its own position: %v", accepted)
	}
	filtered := h.must(http.StatusOK, "GET", "/v1/audit/events?actor=nora&type=user.invited&account="+accountID, op, nil)["items"].([]any)
	if len(filtered) != 1 || filtered[0].(map[string]any)["stream"] != stream {
		t.Fatalf("filtered %v", filtered)
	}
	seen, cursor := 0, ""
	for {
		page := h.must(http.StatusOK, "GET", "/v1/audit/events?limit=2&account="+accountID+"&cursor="+cursor, op, nil)
		seen += len(page["items"].([]any))
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	all := h.must(http.StatusOK, "GET", "/v1/audit/events?limit=500&account="+accountID, op, nil)["items"].([]any)
	if seen != len(all) || seen < 4 {
		t.Fatalf("paging saw %d events, one page %d", seen, len(all))
	}
	if code, _ := h.call("GET", "/v1/audit/events", admin, nil); code != http.StatusForbidden {
		t.Fatalf("a customer on the audit routes: %d", code)
	}
	// A cursor pages its own stream: another's started at its revision,
	// leaving out the events before it.
	streamCursor := h.must(http.StatusOK, "GET", "/v1/audit/streams/"+stream+"?limit=1", op, nil)["nextCursor"].(string)
	if rest := h.must(http.StatusOK, "GET", "/v1/audit/streams/"+stream+"?limit=1&cursor="+streamCursor, op, nil)["events"].([]any); len(rest) != 1 ||
		rest[0].(map[string]any)["type"] != "user.invitation_accepted" {
		t.Fatalf("the second page of the stream: %v", rest)
	}
	if code, body := h.call("GET", "/v1/audit/streams/account-"+accountID+"?cursor="+streamCursor, op, nil); code != http.StatusBadRequest || !namesField(body, "cursor") {
		t.Fatalf("another stream's cursor: %d %v", code, body)
	}
	// The release before named no stream in its cursors: an older
	// instance's nextCursor goes on at a newer one (a rolling deploy).
	before := cursorBefore(t, streamCursor, &struct {
		Next uint64 `json:"next"`
	}{})
	if rest := h.must(http.StatusOK, "GET", "/v1/audit/streams/"+stream+"?limit=1&cursor="+before, op, nil)["events"].([]any); len(rest) != 1 ||
		rest[0].(map[string]any)["type"] != "user.invitation_accepted" {
		t.Fatalf("the release before's cursor: %v", rest)
	}

	if code, body := h.call("GET", "/v1/audit/events?from=yesterday", op, nil); code != http.StatusBadRequest || !namesField(body, "from") {
		t.Fatalf("bad from: %d %v", code, body)
	}
}

// Text PostgreSQL cannot take, and numbers past what the stores keep,
// are a 400 naming the field: they were a 500, or wrapped round to a
// negative position and read the log from its start.
func TestAudit_and_feed_refuse_text_and_numbers_the_stores_cannot_take(t *testing.T) {
	h := start(t, options{})
	op := h.token("auditor", "audit@bizcenter.example", true)
	for path, field := range map[string]string{
		"/v1/audit/events?actor=%00":                         "actor",
		"/v1/audit/events?type=%FF":                          "type",
		"/v1/audit/events?cursor=9223372036854775808-0":      "cursor",
		"/v1/audit/events?after=bogus&limit=1":               "after",
		"/v1/audit/events?limit=501":                         "limit",
		"/v1/audit/correlations/x?after=bogus":               "after",
		"/v1/audit/streams/user-x?limit=1000":                "limit",
		"/v1/audit/streams/user-x?after=bogus":               "after",
		"/v1/audit/correlations/%00":                         "id",
		"/v1/audit/streams/%FF":                              "stream",
		"/v1/audit/streams/a%00b/as-of?revision=1":           "stream",
		"/v1/audit/streams/user-x?from=18446744073709551615": "from",
		"/v1/feed?follow=false&after=18446744073709551615-0": "after",
		"/v1/me?after=9223372036854775808-1":                 "after",
	} {
		code, out := h.call("GET", path, op, nil)
		if code != http.StatusBadRequest || !namesField(out, field) {
			t.Errorf("%s: %d %v, want 400 naming %s", path, code, out, field)
		}
	}
}

// A position past the end of the log, which no command answered, is a 400
// once the wait for it runs out, not a 503 inviting retries for ever.
func TestAfter_past_the_end_of_the_log_is_a_400(t *testing.T) {
	h := start(t, options{})
	_, admin := h.registered()
	code, out := h.call("GET", "/v1/me?after=99999999-0", admin, nil)
	if code != http.StatusBadRequest || !namesField(out, "after") {
		t.Fatalf("%d %v, want 400 naming after", code, out)
	}
}

// Given in X-After-Position, such a position is refused naming the
// header, as a malformed one is: the client sent no ?after to correct.
func TestAfter_past_the_end_of_the_log_in_the_header_names_the_header(t *testing.T) {
	h := start(t, options{})
	_, admin := h.registered()
	code, out := h.callWith("GET", "/v1/me", admin, map[string]string{"X-After-Position": "99999999-0"}, nil)
	if code != http.StatusBadRequest || !namesField(out, "X-After-Position") || namesField(out, "after") {
		t.Fatalf("%d %v, want 400 naming X-After-Position alone", code, out)
	}
}

// A body said to be other than JSON in UTF-8 and a follow that is neither
// true nor false are refused, naming the field (they were taken).
func TestContent_type_and_follow_are_read_strictly(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	for _, ct := range []string{"application/jsonx", "application/json; charset=latin1", "text/plain"} {
		code, out := h.callWith("POST", "/v1/accounts/"+accountID+"/users", admin, map[string]string{"Content-Type": ct}, invite("ct@northwind.example", "reports_viewer"))
		if code != http.StatusBadRequest || !namesField(out, "body") {
			t.Errorf("Content-Type %q: %d %v, want 400 naming body", ct, code, out)
		}
	}
	if code, out := h.callWith("POST", "/v1/accounts/"+accountID+"/users", admin, map[string]string{"Content-Type": "application/json; charset=UTF-8"}, invite("ct@northwind.example", "reports_viewer")); code != http.StatusCreated {
		t.Errorf("JSON in UTF-8: %d %v", code, out)
	}
	op := h.token("auditor", "audit@bizcenter.example", true)
	// Taken as true, the feed would stay open: hence the client's bound.
	req, _ := http.NewRequest("GET", h.url+"/v1/feed?follow=maybe", nil)
	req.Header.Set("Authorization", "Bearer "+op)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("follow=maybe: %v, want 400 naming follow", err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusBadRequest || !namesField(out, "follow") {
		t.Errorf("follow=maybe: %d %v, want 400 naming follow", resp.StatusCode, out)
	}
}
