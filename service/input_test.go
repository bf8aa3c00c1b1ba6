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
	t.Run("a type error names the JSON field", func(t *testing.T) {
		if code, out := h.rawCall("POST", users, "Bearer "+admin, `{"email":123}`); code != http.StatusBadRequest || !namesField(out, "email") {
			t.Fatalf("%d %v", code, out)
		}
	})
	t.Run("an unparseable query is refused, naming the parameter", func(t *testing.T) {
		for query, field := range map[string]string{"?email=%zz": "email", "?limit=1;x": "limit"} {
			if code, out := h.call("GET", users+query, admin, nil); code != http.StatusBadRequest || !namesField(out, field) {
				t.Errorf("%s: %d %v", query, code, out)
			}
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
