package service_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawCall sends a body as given, byte for byte, with an Authorization
// header as given ("" for none).
func (h *harness) rawCall(method, path, authorization, body string) (int, map[string]any) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if json.Unmarshal(raw, &out) != nil {
		out = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, out
}

// Bad input on the real routes gets a 400 naming the field, and nothing is
// stored; a bad token does not shut routes open to anyone.
func TestInput_bad_bodies_queries_and_tokens(t *testing.T) {
	h := start(t, options{})
	account, admin := h.registered()
	users := "/v1/accounts/" + account + "/users"

	t.Run("a body that is not UTF-8 is refused, naming the field", func(t *testing.T) {
		body := `{"email":"jo@northwind.example","firstName":"Jo` + "\xe9" + `","lastName":"Doe","language":"en-US","country":"US","roles":["account_viewer"]}`
		if code, out := h.rawCall("POST", users, "Bearer "+admin, body); code != http.StatusBadRequest || !namesField(out, "firstName") {
			t.Fatalf("%d %v", code, out)
		}
		if list := h.must(http.StatusOK, "GET", users+"?email=jo@", admin, nil); len(list["items"].([]any)) != 0 {
			t.Fatalf("stored: %v", list)
		}
	})
	t.Run("a bad time names its field", func(t *testing.T) {
		body := purchase("Team")
		body["expiresAt"] = "not-a-date"
		if code, out := h.call("POST", "/v1/accounts/"+account+"/subscriptions", admin, body); code != http.StatusBadRequest || !namesField(out, "expiresAt") {
			t.Fatalf("%d %v", code, out)
		}
	})
	t.Run("a key given twice is refused, naming it, and nothing changes", func(t *testing.T) {
		// encoding/json kept the last one: a body saying two things was
		// read as one of them, and a check of the first missed the second.
		invited := h.must(http.StatusCreated, "POST", users, admin, invite("twice@northwind.example", "account_viewer"))
		user := invited["userId"].(string)
		for _, body := range []string{`{"roles":["reports_viewer"],"roles":["account_administrator"]}`, `{"roles":["reports_viewer"],"ROLES":["account_administrator"]}`} {
			if code, out := h.rawCall("PUT", users+"/"+user+"/roles", "Bearer "+admin, body); code != http.StatusBadRequest || !namesField(out, strings.Split(body, `"`)[5]) {
				t.Fatalf("%s: %d %v", body, code, out)
			}
		}
		if got := h.must(http.StatusOK, "GET", users+"/"+user+"?after="+invited["position"].(string), admin, nil)["roles"]; len(got.([]any)) != 1 || got.([]any)[0] != "account_viewer" {
			t.Fatalf("roles now %v", got)
		}
		sub, _ := h.order(account, admin, "", "Twice")
		if code, out := h.rawCall("PUT", "/v1/accounts/"+account+"/subscriptions/"+sub+"/total-licenses", "Bearer "+admin, `{"total":5,"total":500}`); code != http.StatusBadRequest || !namesField(out, "total") {
			t.Fatalf("total twice: %d %v", code, out)
		}
	})
	t.Run("a type error names the JSON field", func(t *testing.T) {
		if code, out := h.rawCall("POST", users, "Bearer "+admin, `{"email":123}`); code != http.StatusBadRequest || !namesField(out, "email") {
			t.Fatalf("%d %v", code, out)
		}
	})
	t.Run("an unknown field is named by its path", func(t *testing.T) {
		// encoding/json names the key alone: "servicePlan", of which product?
		for path, c := range map[string]struct{ body, field string }{
			"/v1/accounts/" + account + "/licenses/assign": {`{"userIds":[],"products":[{"productId":"a"},{"productId":"b","servicePlan":["x"]}]}`, "products[1].servicePlan"},
			users: {`{"email":"jo@northwind.example","":1}`, `""`},
		} {
			if code, out := h.rawCall("POST", path, "Bearer "+admin, c.body); code != http.StatusBadRequest || !namesField(out, c.field) {
				t.Errorf("%s: %d %v, want 400 naming %s", c.body, code, out, c.field)
			}
		}
	})
	t.Run("a date range from the year 1 is judged as given", func(t *testing.T) {
		// 0001-01-01 is the zero time's date: it was taken for no date,
		// and a range named with it answered the last 3 months.
		invoices := "/v1/accounts/" + account + "/invoices"
		for query, field := range map[string]string{"?from=0001-01-01": "to", "?period=last-6-months&to=0001-01-01": "period", "?from=0001-01-01&to=2026-05-01": "to"} {
			if code, out := h.call("GET", invoices+query, admin, nil); code != http.StatusBadRequest || !namesField(out, field) {
				t.Errorf("%s: %d %v, want 400 naming %s", query, code, out, field)
			}
		}
		// Given, from is not the bound missing.
		if _, out := h.call("GET", invoices+"?from=0001-01-01", admin, nil); namesField(out, "from") {
			t.Errorf("?from=0001-01-01 names from as missing: %v", out)
		}
		if code, page := h.call("GET", invoices+"?from=0001-01-01&to=0001-12-31", admin, nil); code != http.StatusOK || page["from"] != "0001-01-01" {
			t.Errorf("the year 1: %d %v", code, page)
		}
	})
	t.Run("an unparseable query is refused, naming the parameter", func(t *testing.T) {
		for query, field := range map[string]string{"?email=%zz": "email", "?limit=1;x": "limit"} {
			if code, out := h.call("GET", users+query, admin, nil); code != http.StatusBadRequest || !namesField(out, field) {
				t.Errorf("%s: %d %v", query, code, out)
			}
		}
	})
	t.Run("a parameter given twice or not taken is refused, naming it", func(t *testing.T) {
		// The first value won without a word, and a misspelt filter
		// answered the whole list as if filtered.
		for query, field := range map[string]string{
			"?status=pending&status=active": "status",
			"?stauts=pending":               "stauts",
			"?Status=pending":               "Status",
			"?after=1-1&after=2-2":          "after",
		} {
			if code, out := h.call("GET", users+query, admin, nil); code != http.StatusBadRequest || !namesField(out, field) {
				t.Errorf("%s: %d %v, want 400 naming %s", query, code, out, field)
			}
		}
		// Every read route takes ?after, also one with nothing to wait for;
		// a command route takes no parameter.
		for _, path := range []string{users + "?status=pending&limit=5", "/v1/catalog?after=1-1", "/v1/accounts/" + account + "/webhooks?after=1-1"} {
			if code, out := h.call("GET", path, admin, nil); code != http.StatusOK {
				t.Errorf("%s: %d %v", path, code, out)
			}
		}
		if code, out := h.call("POST", users+"?dryRun=true", admin, invite("dry@northwind.example", "account_viewer")); code != http.StatusBadRequest || !namesField(out, "dryRun") {
			t.Errorf("a command with ?dryRun: %d %v", code, out)
		}
	})
	t.Run("names and emails with hidden characters are refused, naming the field", func(t *testing.T) {
		for field, value := range map[string]string{
			"firstName": "Jo\u200b", "lastName": "Doe\u202e", "email": "jo\u200b@northwind.example",
		} {
			body := map[string]string{"email": "jo@northwind.example", "firstName": "Jo", "lastName": "Doe"}
			body[field] = value
			raw := `{"email":"` + body["email"] + `","firstName":"` + body["firstName"] + `","lastName":"` + body["lastName"] +
				`","language":"ko-KR","country":"KR","roles":["account_viewer"]}`
			if code, out := h.rawCall("POST", users, "Bearer "+admin, raw); code != http.StatusBadRequest || !namesField(out, field) {
				t.Errorf("%s %q: %d %v", field, value, code, out)
			}
		}
		for _, email := range []string{"@northwind.example", "jo doe@northwind.example", "jo@localhost", "jo@10.0.0.1", "jo@northwind.123"} {
			if code, out := h.call("POST", users, admin, invite(email, "account_viewer")); code != http.StatusBadRequest || !namesField(out, "email") {
				t.Errorf("%q: %d %v", email, code, out)
			}
		}
		op := h.token("op-1", "ops@bizcenter.example", true)
		if code, out := h.call("POST", "/v1/accounts", op, map[string]any{
			"name": "North\u00adwind", "agreementNumber": "AG-78", "purchaseAccountNumber": "PA-78",
			"manager": map[string]any{"email": "m@northwind.example", "firstName": "M", "lastName": "W", "language": "en-US", "country": "US"},
		}); code != http.StatusBadRequest || !namesField(out, "name") {
			t.Errorf("an account name with a soft hyphen: %d %v", code, out)
		}
		// Korean, and white space at the ends, which is trimmed.
		invited := h.must(http.StatusCreated, "POST", users, admin, map[string]any{"email": " 지우@northwind.example ", "firstName": " 지우 ",
			"lastName": "김", "language": "ko-KR", "country": "KR", "roles": []string{"account_viewer"}})
		got := h.must(http.StatusOK, "GET", users+"/"+invited["userId"].(string)+"?after="+invited["position"].(string), admin, nil)
		if got["email"] != "지우@northwind.example" || got["firstName"] != "지우" {
			t.Errorf("stored %v", got)
		}
	})
	t.Run("routes open to anyone ignore a bad token", func(t *testing.T) {
		if code, out := h.rawCall("POST", "/v1/invitations/resend-request", "Bearer garbage",
			`{"email":"nobody@northwind.example","agreementNumber":"AG-77","purchaseAccountNumber":"PA-77"}`); code != http.StatusAccepted {
			t.Errorf("resend-request: %d %v", code, out)
		}
		if code, out := h.rawCall("GET", "/healthz", "Bearer garbage", ""); code != http.StatusOK {
			t.Errorf("healthz: %d %v", code, out)
		}
		if code, out := h.rawCall("POST", "/v1/invitations/accept", "Bearer garbage", `{"token":"nope"}`); code == http.StatusUnauthorized {
			t.Errorf("accept: %d %v", code, out)
		}
	})
	t.Run("the bearer scheme is case-insensitive", func(t *testing.T) {
		if code, out := h.rawCall("GET", "/v1/me", "bearer "+admin, ""); code != http.StatusOK {
			t.Errorf("%d %v", code, out)
		}
	})
}
