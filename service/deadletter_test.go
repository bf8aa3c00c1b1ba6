package service_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/projections"
)

// poison makes the users projector refuse users with this first name
// (name "" lifts the refusal).
func (h *harness) poison(name string) {
	h.t.Helper()
	a, err := projections.ActiveBuild(context.Background(), h.svc.Pool(), "users")
	if err != nil {
		h.t.Fatal(err)
	}
	table := pgx.Identifier{a.Schema, "rm_users"}.Sanitize()
	sql := `ALTER TABLE ` + table + ` DROP CONSTRAINT no_poison`
	if name != "" {
		sql = `ALTER TABLE ` + table + ` ADD CONSTRAINT no_poison CHECK (first_name <> '` + name + `')` // a test constant
	}
	if _, err := h.svc.Pool().Exec(context.Background(), sql); err != nil {
		h.t.Fatal(err)
	}
}

// poisoned is an invitation of a user the poisoned projector refuses.
var poisoned = map[string]any{"email": "poison@northwind.example", "firstName": "Poison", "lastName": "Ivy", "language": "en", "country": "US", "roles": []string{"account_viewer"}}

// parkedLetter waits for a dead letter to be parked (what names it) and
// returns its id, as the admin route lists it.
func (h *harness) parkedLetter(op, what string) float64 {
	h.t.Helper()
	var id float64
	waitFor(h.t, what+" to be parked", 10*time.Second, func() bool {
		for _, it := range h.must(http.StatusOK, "GET", "/v1/admin/dead-letters", op, nil)["items"].([]any) {
			if d := it.(map[string]any); d["status"] == "parked" {
				id = d["id"].(float64)
				return true
			}
		}
		return false
	})
	return id
}

func deadLetters(h *harness, op string) map[string]string {
	out := map[string]string{}
	for _, it := range h.must(http.StatusOK, "GET", "/v1/admin/dead-letters", op, nil)["items"].([]any) {
		d := it.(map[string]any)
		out[d["eventType"].(string)+"#"+fmt.Sprint(d["id"])] = d["status"].(string)
	}
	return out
}

// poisonedInvitation starts a service whose users projector refuses
// users named "Poison", and invites one: it answers the harness, the
// account's administrator, an operator, the users path and the invitation.
func poisonedInvitation(t *testing.T) (h *harness, admin, op, users string, bad map[string]any) {
	h = start(t, options{})
	accountID, admin := h.registered()
	op = h.token("op-7", "ops@bizcenter.example", true)
	users = "/v1/accounts/" + accountID + "/users"
	h.poison("Poison")
	return h, admin, op, users, h.must(http.StatusCreated, "POST", users, admin, poisoned)
}

func TestDeadLetters_park_a_poison_event_hold_its_stream_and_let_others_flow(t *testing.T) {
	h, admin, op, users, bad := poisonedInvitation(t)
	tok := h.mailTokens("poison@northwind.example", 1)[0]
	h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": tok})

	// Other streams flow past the parked event.
	good := h.must(http.StatusCreated, "POST", users, admin, invite("fine@northwind.example", "account_viewer"))
	list := h.must(http.StatusOK, "GET", users+"?after="+good["position"].(string), admin, nil)
	if statusOf(t, list, "fine@northwind.example") != "pending" {
		t.Fatal("a later user of another stream is not projected")
	}
	var parkedID float64
	waitFor(t, "the poison event to be parked and its follower to wait", 10*time.Second, func() bool {
		items := h.must(http.StatusOK, "GET", "/v1/admin/dead-letters", op, nil)["items"].([]any)
		statuses := map[string]string{}
		for _, it := range items {
			d := it.(map[string]any)
			statuses[d["eventType"].(string)] = d["status"].(string)
			if d["status"] == "parked" {
				parkedID = d["id"].(float64)
			}
		}
		return statuses["user.invited"] == "parked" && statuses["user.invitation_accepted"] == "waiting"
	})

	// Every instance tells them, on the admin route and in /metrics (only
	// the leader sees the handler fail).
	if n := h.projectorState("users").DeadLetters; n != 2 {
		t.Fatalf("users reports %d dead letters, want the parked event and the one waiting", n)
	}
	if _, metrics := h.call("GET", "/metrics", "", nil); !strings.Contains(metrics["raw"].(string), `bizcenter_projection{measure="dead_letters",projector="users"} 2`) {
		t.Fatal("metrics do not count the dead letters")
	}

	// A retry that still fails leaves it parked, with one attempt more
	// and the error it failed with now.
	attemptsOf := func() float64 {
		for _, it := range h.must(http.StatusOK, "GET", "/v1/admin/dead-letters", op, nil)["items"].([]any) {
			if d := it.(map[string]any); d["id"] == parkedID {
				return d["attempts"].(float64)
			}
		}
		t.Fatalf("dead letter %v is not listed", parkedID)
		return 0
	}
	before := attemptsOf()
	retry := fmt.Sprintf("/v1/admin/dead-letters/users/%d/retry", int(parkedID))
	if code, _ := h.call("POST", retry, op, nil); code != http.StatusConflict {
		t.Fatalf("a retry that fails again: %d, want 409", code)
	}
	if after := attemptsOf(); after != before+1 {
		t.Fatalf("attempts %v after a failed retry, %v before", after, before)
	}
	h.poison("")
	out := h.must(http.StatusOK, "POST", retry, op, nil)
	if out["applied"] != float64(2) {
		t.Fatalf("retry applied %v, want the parked event and the one waiting", out)
	}
	detail := h.must(http.StatusOK, "GET", users+"/"+bad["userId"].(string), admin, nil)
	if detail["status"] != "active" {
		t.Fatalf("after the retry: %v", detail)
	}
	if n := h.projectorState("users").DeadLetters; n != 0 {
		t.Fatalf("after the retry users reports %d dead letters", n)
	}

	// Skipping records who and why, and builds leave the event out too.
	h.poison("Venom")
	h.must(http.StatusCreated, "POST", users, admin, map[string]any{"email": "venom@northwind.example", "firstName": "Venom", "lastName": "Two", "language": "en", "country": "US", "roles": []string{"account_viewer"}})
	parkedID = h.parkedLetter(op, "the second poison event")
	skip := fmt.Sprintf("/v1/admin/dead-letters/users/%d/skip", int(parkedID))
	if code, body := h.call("POST", skip, op, map[string]any{}); code != http.StatusBadRequest || !namesField(body, "reason") {
		t.Fatalf("a skip without a reason: %d %v", code, body)
	}
	h.must(http.StatusOK, "POST", skip, op, map[string]any{"reason": "test data, never a real person"})
	for _, it := range h.must(http.StatusOK, "GET", "/v1/admin/dead-letters", op, nil)["items"].([]any) {
		if d := it.(map[string]any); d["id"] == parkedID && (d["status"] != "skipped" || d["resolvedBy"] != "op-7" || d["resolvedReason"] == nil) {
			t.Fatalf("skipped dead letter: %v", d)
		}
	}
	// A page at a time, as every list: the same letters, in the same order.
	all := h.must(http.StatusOK, "GET", "/v1/admin/dead-letters", op, nil)["items"].([]any)
	var paged []any
	cursor := ""
	for range len(all) + 1 {
		page := h.must(http.StatusOK, "GET", "/v1/admin/dead-letters?limit=1"+cursor, op, nil)
		paged = append(paged, page["items"].([]any)...)
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = "&cursor=" + next
	}
	if len(all) < 3 || fmt.Sprint(paged) != fmt.Sprint(all) {
		t.Fatalf("pages of one letter %v, the whole list %v", paged, all)
	}
	if code, body := h.call("GET", "/v1/admin/dead-letters?cursor=x", op, nil); code != http.StatusBadRequest || !namesField(body, "cursor") {
		t.Fatalf("a bad cursor: %d %v", code, body)
	}
	h.poison("")
	var buf bytes.Buffer
	if diffs, err := projections.Verify(context.Background(), h.svc.Pool(), h.svc.Store(), projections.Users{}, &buf, nil); err != nil || diffs != 0 {
		t.Fatalf("verify after a skip: %d diffs, %v\n%s", diffs, err, buf.String())
	}
}

func TestDeadLetters_a_rebuild_that_applies_them_resolves_them(t *testing.T) {
	h, admin, op, users, bad := poisonedInvitation(t)
	resend := users + "/" + bad["userId"].(string) + "/invitation/resend"
	h.must(http.StatusOK, "POST", resend, admin, nil)
	waitFor(t, "the poison event to be parked and the resend to wait", 10*time.Second, func() bool {
		d := deadLetters(h, op)
		return len(d) == 2 && d["user.invited#1"] == "parked" && d["user.invitation_resent#2"] == "waiting"
	})

	// The cause is in the live build's table only: the rebuild applies
	// both events, and must not leave them open for a retry to apply again.
	if _, err := projections.Rebuild(context.Background(), h.svc.Pool(), h.svc.Store(), projections.Users{}, nil); err != nil {
		t.Fatal(err)
	}
	for id, status := range deadLetters(h, op) {
		if status == "parked" || status == "waiting" {
			t.Fatalf("after the rebuild %s is still %s", id, status)
		}
	}
	if code, _ := h.call("POST", "/v1/admin/dead-letters/users/1/retry", op, nil); code == http.StatusOK {
		t.Fatal("a retry after the rebuild applied the events again")
	}
	last := h.must(http.StatusOK, "POST", resend, admin, nil)
	h.must(http.StatusOK, "GET", users+"?after="+last["position"].(string), admin, nil)
	var count int
	if err := h.svc.Pool().QueryRow(context.Background(), `SELECT invitation_count FROM rm_users WHERE user_id = $1`, bad["userId"]).Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != 3 {
		t.Fatalf("invitation_count %d after an invitation and two resends, want 3 (the stream flows again)", count)
	}
	var buf bytes.Buffer
	if diffs, err := projections.Verify(context.Background(), h.svc.Pool(), h.svc.Store(), projections.Users{}, &buf, nil); err != nil || diffs != 0 {
		t.Fatalf("verify after the rebuild: %d diffs, %v\n%s", diffs, err, buf.String())
	}
}

// A read of the write at a position whose event was parked does not
// answer as if it showed it (the checkpoint passed the position): a 503
// naming the dead letter, until an operator retries or skips it; then
// the read shows the write.
func TestAfter_a_write_parked_as_a_dead_letter_is_a_503_naming_it(t *testing.T) {
	h, admin, op, users, bad := poisonedInvitation(t)
	after := users + "/" + bad["userId"].(string) + "?after=" + bad["position"].(string)
	parked := h.parkedLetter(op, "the poison event")
	code, body := h.call("GET", after, admin, nil)
	if code != http.StatusServiceUnavailable || !strings.HasSuffix(body["type"].(string), "read-model-parked") ||
		!strings.Contains(body["detail"].(string), fmt.Sprintf("dead letter %d", int(parked))) {
		t.Fatalf("read after the parked write: %d %v, want a 503 naming dead letter %v", code, body, parked)
	}
	// Another stream's write reads as usual meanwhile.
	good := h.must(http.StatusCreated, "POST", users, admin, invite("fine@northwind.example", "account_viewer"))
	h.must(http.StatusOK, "GET", users+"/"+good["userId"].(string)+"?after="+good["position"].(string), admin, nil)

	h.poison("")
	h.must(http.StatusOK, "POST", fmt.Sprintf("/v1/admin/dead-letters/users/%d/retry", int(parked)), op, nil)
	h.must(http.StatusOK, "GET", after, admin, nil)
}

// A skip's reason is free text, read as every other route reads it: one
// PostgreSQL cannot store (a NUL), one of white space alone or with a
// hidden character is a 400 naming reason, never a 500 or a blank record
// of why; the letter stays parked, and a good reason then skips it.
func TestDeadLetters_a_skip_refuses_a_reason_that_is_no_text(t *testing.T) {
	h, _, op, _, _ := poisonedInvitation(t)
	parked := h.parkedLetter(op, "the poison event")
	skip := fmt.Sprintf("/v1/admin/dead-letters/users/%d/skip", int(parked))
	for _, reason := range []string{"test\x00data", "   ", "test\u202edata"} {
		if code, body := h.call("POST", skip, op, map[string]any{"reason": reason}); code != http.StatusBadRequest || !namesField(body, "reason") {
			t.Errorf("a skip with reason %q: %d %v, want 400 naming reason", reason, code, body)
		}
	}
	h.must(http.StatusOK, "POST", skip, op, map[string]any{"reason": "  test data,\nnever a real person  "})
	for _, it := range h.must(http.StatusOK, "GET", "/v1/admin/dead-letters", op, nil)["items"].([]any) {
		if d := it.(map[string]any); d["id"] == parked && (d["status"] != "skipped" || d["resolvedReason"] != "test data,\nnever a real person") {
			t.Fatalf("skipped dead letter: %v", d)
		}
	}
}

// A retry cut off from the database (its connection terminated while it
// waits for the projector's lock, as a restart of PostgreSQL does)
// answers 503 with Retry-After, as every route does then: it answered
// 409 still-failing with the connection's error as the event's, which
// sent the operator to fix an event that was never tried. The letter
// stays parked as it was.
func TestDeadLetters_a_retry_cut_off_from_the_database_is_a_503_not_still_failing(t *testing.T) {
	h, _, op, _, _ := poisonedInvitation(t)
	parked := h.parkedLetter(op, "the poison event")
	before := deadLetters(h, op)
	ctx := context.Background()
	tx, err := h.svc.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT FROM projection_versions WHERE name = 'users' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	answered := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v1/admin/dead-letters/users/%d/retry", h.url, int(parked)), nil)
		req.Header.Set("Authorization", "Bearer "+op)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			resp = &http.Response{Status: err.Error(), Header: http.Header{}, Body: io.NopCloser(strings.NewReader(""))}
		}
		answered <- resp
	}()
	const waiting = `FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
		AND query LIKE 'SELECT active_schema, version FROM projection_versions%FOR UPDATE'`
	waitFor(t, "the retry to wait for the projector's lock", 10*time.Second, func() bool {
		var n int
		_ = h.svc.Pool().QueryRow(ctx, `SELECT count(*) `+waiting).Scan(&n)
		return n > 0
	})
	if _, err := h.svc.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) `+waiting); err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-answered:
		checkUnavailable(t, "a retry whose connection the server terminates", resp)
	case <-time.After(10 * time.Second):
		t.Fatal("the retry did not answer within 10s")
	}
	_ = tx.Rollback(ctx)
	if after := deadLetters(h, op); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("dead letters %v after the cut retry, %v before", after, before)
	}
}

// A letter already resolved is no unknown id: a second retry, or a skip
// after a retry (two operators at once, a script run again), is a 409
// saying who resolved it, where it was a 404 "no parked dead letter with
// that id" for a letter the list shows. An id that names no letter is a
// 404, one no letter can have a 400.
func TestDeadLetters_one_already_resolved_is_a_409_naming_who_resolved_it(t *testing.T) {
	h, _, op, _, _ := poisonedInvitation(t)
	parked := h.parkedLetter(op, "the poison event")
	h.poison("")
	retry := fmt.Sprintf("/v1/admin/dead-letters/users/%d/retry", int(parked))
	h.must(http.StatusOK, "POST", retry, op, nil)
	for _, r := range []struct {
		path string
		body any
	}{
		{retry, nil},
		{fmt.Sprintf("/v1/admin/dead-letters/users/%d/skip", int(parked)), map[string]any{"reason": "too late"}},
	} {
		code, body := h.call("POST", r.path, op, r.body)
		detail, _ := body["detail"].(string)
		if code != http.StatusConflict || !strings.HasSuffix(fmt.Sprint(body["type"]), "already-resolved") || !strings.Contains(detail, "retried by op-7") {
			t.Errorf("%s of a letter already retried: %d %v, want 409 already-resolved naming op-7", r.path, code, body)
		}
	}
	if code, _ := h.call("POST", "/v1/admin/dead-letters/users/999/retry", op, nil); code != http.StatusNotFound {
		t.Errorf("a retry of no letter at all: %d, want 404", code)
	}
	// An id no letter can have is a 400 naming id, as the command refuses
	// it; -1 was a 404.
	for _, id := range []string{"abc", "0", "-1"} {
		if code, body := h.call("POST", "/v1/admin/dead-letters/users/"+id+"/retry", op, nil); code != http.StatusBadRequest || !namesField(body, "id") {
			t.Errorf("a retry of dead letter %s: %d %v, want 400 naming id", id, code, body)
		}
	}
}
