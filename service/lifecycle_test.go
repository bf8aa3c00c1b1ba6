package service_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const managerEmail = "manager@northwind.example"

// registered registers an account and accepts its manager's invitation;
// it returns the account id and the manager's token.
func (h *harness) registered() (string, string) {
	h.t.Helper()
	op := h.token("op-1", "ops@bizcenter.example", true)
	out := h.must(http.StatusCreated, "POST", "/v1/accounts", op, map[string]any{
		"name": "Northwind", "agreementNumber": "AG-77", "purchaseAccountNumber": "PA-77",
		"manager": map[string]any{"email": managerEmail, "firstName": "Nora", "lastName": "Wind", "language": "en-US", "country": "US"},
	})
	accountID := out["accountId"].(string)
	tok := h.mailTokens(managerEmail, 1)[0]
	acc := h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": tok})
	admin := h.token("nora", managerEmail, false)
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+acc["position"].(string), admin, nil)
	return accountID, admin
}

func invite(email string, roles ...string) map[string]any {
	return map[string]any{"email": email, "firstName": "Test", "lastName": "Person", "language": "ko-KR", "country": "KR", "roles": roles}
}

func statusOf(t *testing.T, list map[string]any, email string) string {
	t.Helper()
	for _, it := range list["items"].([]any) {
		u := it.(map[string]any)
		if u["email"] == email {
			return u["status"].(string)
		}
	}
	t.Fatalf("%s not in %v", email, list["items"])
	return ""
}

func TestLifecycle_invite_accept_expire_resend_through_http(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"

	inv := h.must(http.StatusCreated, "POST", users, admin, invite("Jiwoo@Northwind.example", "reports_viewer"))
	if inv["status"] != "pending" {
		t.Fatalf("invited status %v", inv["status"])
	}
	list := h.must(http.StatusOK, "GET", users+"?after="+inv["position"].(string), admin, nil)
	if got := statusOf(t, list, "Jiwoo@Northwind.example"); got != "pending" {
		t.Fatalf("listed as %s, want pending", got)
	}
	if statusOf(t, list, managerEmail) != "active" {
		t.Fatal("the manager is not active")
	}

	// Accepting activates; accepting again is harmless.
	tok := h.mailTokens("Jiwoo@Northwind.example", 1)[0]
	acc := h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": tok})
	again := h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": tok})
	if acc["status"] != "active" || again["position"] != acc["position"] {
		t.Fatalf("accept %v, repeat %v", acc, again)
	}
	detail := h.must(http.StatusOK, "GET", users+"/"+inv["userId"].(string)+"?after="+acc["position"].(string), admin, nil)
	if detail["status"] != "active" || detail["activatedAt"] == nil {
		t.Fatalf("detail after accept: %v", detail)
	}

	// Sixty days without accepting: expired, decided at query time.
	late := h.must(http.StatusCreated, "POST", users, admin, invite("late@northwind.example", "account_viewer"))
	h.must(http.StatusOK, "GET", users+"?after="+late["position"].(string), admin, nil)
	// Mailed before the clock moves: the mailer sends no invitation that
	// has expired by the time it gets to it.
	oldToken := h.mailTokens("late@northwind.example", 1)[0]
	h.clock.Advance(60*24*time.Hour + time.Minute)
	expired := h.must(http.StatusOK, "GET", users+"?status=expired", admin, nil)
	if n := len(expired["items"].([]any)); n != 1 || statusOf(t, expired, "late@northwind.example") != "expired" {
		t.Fatalf("expired list: %v", expired)
	}
	code, body := h.call("POST", "/v1/invitations/accept", "", map[string]any{"token": oldToken})
	if code != http.StatusUnprocessableEntity || body["type"] != "https://bizcenter.dev/problems/invitation-expired" {
		t.Fatalf("accepting an expired invitation: %d %v", code, body)
	}

	// A resend starts a new sixty days with a new token; the old one is
	// dead, and says it was replaced.
	resent := h.must(http.StatusOK, "POST", users+"/"+late["userId"].(string)+"/invitation/resend", admin, nil)
	list = h.must(http.StatusOK, "GET", users+"?after="+resent["position"].(string), admin, nil)
	if statusOf(t, list, "late@northwind.example") != "pending" {
		t.Fatal("not pending after the resend")
	}
	tokens := h.mailTokens("late@northwind.example", 2)
	if code, body := h.call("POST", "/v1/invitations/accept", "", map[string]any{"token": tokens[0]}); code != http.StatusUnprocessableEntity ||
		problemType(body) != problems+"invitation-replaced" {
		t.Fatalf("the replaced token answered %d %v, want 422 invitation-replaced", code, body)
	}
	h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": tokens[1]})
	code, _ = h.call("POST", users+"/"+late["userId"].(string)+"/invitation/resend", admin, nil)
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("resend to an active user: %d, want 422", code)
	}
}

func TestInviteUser_twenty_concurrent_requests_give_one_201_and_nineteen_409(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := h.call("POST", "/v1/accounts/"+accountID+"/users", admin, invite("same@northwind.example", "account_viewer"))
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[201] != 1 || count[409] != 19 {
		t.Fatalf("statuses %v, want one 201 and nineteen 409", count)
	}
}

func TestErrors_are_problem_documents_with_the_right_status(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"
	viewer := h.token("someone", "nobody@elsewhere.example", false)
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
		field                     string
	}{
		{"no token", "POST", users, "", invite("a@b.example", "account_viewer"), 401, ""},
		{"garbage token", "POST", users, "not-a-jwt", invite("a@b.example", "account_viewer"), 401, ""},
		{"not an operator", "POST", "/v1/accounts", admin, map[string]any{"name": "x"}, 403, ""},
		{"bad email", "POST", users, admin, invite("not-an-email", "account_viewer"), 400, "email"},
		{"unknown role", "POST", users, admin, invite("a@b.example", "account_viewer", "emperor"), 400, "roles[1]"},
		{"no role", "POST", users, admin, invite("a@b.example"), 400, "roles"},
		{"unknown field", "POST", users, admin, map[string]any{"emial": "x"}, 400, "emial"},
		{"wrong type", "POST", users, admin, map[string]any{"roles": "account_viewer"}, 400, "roles"},
		{"bad account id", "POST", "/v1/accounts/nope/users", admin, invite("a@b.example", "account_viewer"), 400, "accountId"},
		{"not a member", "POST", users, viewer, invite("a@b.example", "account_viewer"), 404, ""},
		{"unknown account", "POST", "/v1/accounts/0190a4c2-0000-7000-8000-000000000000/users", admin, invite("a@b.example", "account_viewer"), 404, ""},
		{"duplicate", "POST", users, admin, invite(managerEmail, "account_viewer"), 409, ""},
		{"unknown token", "POST", "/v1/invitations/accept", "", map[string]any{"token": "AAAA"}, 404, ""},
		{"empty token", "POST", "/v1/invitations/accept", "", map[string]any{}, 400, "token"},
		{"no route", "GET", "/v1/nothing", admin, nil, 404, ""},
		{"not the route's method", "PATCH", users, admin, nil, 405, ""},
		{"not a clean path", "GET", "/v1//openapi.json", "", nil, 404, ""},
		{"dot segment", "GET", "/v1/./openapi.json", "", nil, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := h.call(c.method, c.path, c.token, c.body)
			if code != c.status {
				t.Fatalf("status %d, want %d: %v", code, c.status, body)
			}
			if body["status"] != float64(c.status) || body["type"] == nil || body["title"] == nil {
				t.Fatalf("not a problem document: %v", body)
			}
			if c.field != "" && !namesField(body, c.field) {
				t.Fatalf("problem does not name %s: %v", c.field, body)
			}
		})
	}
}

func namesField(problem map[string]any, field string) bool {
	errs, _ := problem["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["field"] == field {
			return true
		}
	}
	return false
}

func TestOpenAPI_describes_every_mounted_route(t *testing.T) {
	h := start(t, options{})
	doc := h.must(http.StatusOK, "GET", "/v1/openapi.json", "", nil)
	paths := doc["paths"].(map[string]any)
	routes := h.svc.Server().Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes mounted", len(routes))
	}
	for _, r := range routes {
		ops, ok := paths[r.Path].(map[string]any)
		if !ok {
			t.Errorf("%s %s is mounted but not in the OpenAPI document", r.Method, r.Path)
			continue
		}
		op, ok := ops[strings.ToLower(r.Method)].(map[string]any)
		if !ok || op["summary"] == "" || op["responses"] == nil {
			t.Errorf("%s %s has no described operation", r.Method, r.Path)
		}
	}
	for _, want := range []string{"/v1/accounts", "/v1/accounts/{accountId}/users", "/v1/invitations/accept", "/healthz", "/readyz", "/metrics"} {
		if paths[want] == nil {
			t.Errorf("%s missing", want)
		}
	} // An embedded struct's fields are the body's own, as encoding/json has
	// them: the invitation's person fields beside its roles.
	invite := paths["/v1/accounts/{accountId}/users"].(map[string]any)["post"].(map[string]any)
	schema := invite["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
	for _, field := range []string{"email", "firstName", "roles"} {
		if schema["properties"].(map[string]any)[field] == nil {
			t.Errorf("the invitation's body schema has no %s: %v", field, schema)
		}
	}
	// The headers a route reads are parameters too.
	for path, header := range map[string]string{"/v1/accounts/{accountId}/users": "X-After-Position", "/v1/feed": "Last-Event-ID"} {
		found := false
		params, _ := paths[path].(map[string]any)["get"].(map[string]any)["parameters"].([]any)
		for _, p := range params {
			found = found || p.(map[string]any)["name"] == header && p.(map[string]any)["in"] == "header"
		}
		if !found {
			t.Errorf("GET %s does not name its header %s: %v", path, header, params)
		}
	}
}

// Every route refuses a query parameter it does not take with a 400
// naming it, before anything else (httpapi's queryTaken), /healthz and
// the catalog as much as a command: the document must list that 400 for
// every operation, or a client generated from it meets an answer it was
// told never comes.
func TestOpenAPI_lists_the_400_of_a_query_parameter_a_route_does_not_take(t *testing.T) {
	h := start(t, options{})
	paths := h.must(http.StatusOK, "GET", "/v1/openapi.json", "", nil)["paths"].(map[string]any)
	someID := regexp.MustCompile(`\{[^}]+\}`)
	for _, r := range h.svc.Server().Routes() {
		path := someID.ReplaceAllString(r.Path, "0190a4c2-0000-7000-8000-000000000000")
		code, body := h.call(r.Method, path+"?notAParameter=1", "", nil)
		if code != http.StatusBadRequest || !namesField(body, "notAParameter") {
			t.Errorf("%s %s?notAParameter=1: %d %v, want a 400 naming it", r.Method, path, code, body)
		}
		op, _ := paths[r.Path].(map[string]any)[strings.ToLower(r.Method)].(map[string]any)
		if responses, _ := op["responses"].(map[string]any); responses["400"] == nil {
			t.Errorf("%s %s answers 400, which its OpenAPI document does not list", r.Method, r.Path)
		}
	}
}

func TestHealth_and_readiness(t *testing.T) {
	h := start(t, options{})
	h.must(http.StatusOK, "GET", "/healthz", "", nil)
	h.must(http.StatusOK, "GET", "/readyz", "", nil)
	code, metrics := h.call("GET", "/metrics", "", nil)
	if code != http.StatusOK {
		t.Fatalf("metrics: %d", code)
	}
	// A counter of what nothing has happened to yet is there, at zero.
	if raw, _ := metrics["raw"].(string); !strings.Contains(raw, `bizcenter_resend_requests_total{outcome="queue_full"} 0`) {
		t.Fatalf("/metrics lacks the resend requests dropped with the queue full:\n%s", raw)
	}
}

// The history shows an expiry when it happened, at the invitation's end,
// not when the sweeper got to record it: after the service was down for
// days (or for the demo's user who expired 5 days ago), a change made
// since the expiry comes after it, and "expired" is dated as the
// invitation's expiresAt says.
func TestLifecycle_history_dates_an_expiry_at_the_invitations_end(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"
	inv := h.must(http.StatusCreated, "POST", users, admin, invite("away@northwind.example", "account_viewer"))
	user := users + "/" + inv["userId"].(string)
	h.clock.Advance(62 * 24 * time.Hour) // no sweep: the service was down
	roles := h.must(http.StatusOK, "PUT", user+"/roles", admin, map[string]any{"roles": []string{"reports_viewer"}})
	h.must(http.StatusOK, "GET", users+"?after="+roles["position"].(string), admin, nil) // the sweeper reads it
	h.clock.Advance(3 * 24 * time.Hour)
	if n, err := h.svc.Sweeper.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	var history []any
	deadline := time.Now().Add(10 * time.Second)
	for len(history) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("history never showed the expiry: %v", history)
		}
		time.Sleep(20 * time.Millisecond)
		history = h.must(http.StatusOK, "GET", user+"?after="+roles["position"].(string), admin, nil)["history"].([]any)
	}
	var kinds []string
	var expiredAt any
	for _, e := range history {
		entry := e.(map[string]any)
		kinds = append(kinds, entry["kind"].(string))
		if entry["kind"] == "expired" {
			expiredAt = entry["at"]
		}
	}
	if strings.Join(kinds, ",") != "invited,expired,roles_changed" || expiredAt != inv["invitationExpiresAt"] {
		t.Fatalf("history %v, expired at %v; want invited, expired, roles_changed, expired at %v", kinds, expiredAt, inv["invitationExpiresAt"])
	}
}
