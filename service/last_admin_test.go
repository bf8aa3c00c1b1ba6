package service_test

import (
	"net/http"
	"strings"
	"testing"
)

// Erasing the account's last active Account Administrator answers 422
// naming the rule, as demoting them does; with another one active, the
// erasure goes ahead.
func TestErasure_of_the_last_active_account_administrator_is_refused(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	op := h.token("op-1", "ops@bizcenter.example", true)
	users := "/v1/accounts/" + accountID + "/users/"
	me := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users?email=manager", admin, nil)["items"].([]any)[0].(map[string]any)["userId"].(string)
	body := map[string]any{"reason": "verified request DSR-7"}
	code, out := h.call("POST", users+me+"/erasure", op, body)
	if code != http.StatusUnprocessableEntity || problemType(out) != problems+"last-account-administrator" ||
		!strings.Contains(out["detail"].(string), "Account Administrator") {
		t.Fatalf("erasing the only active administrator: %d %v", code, out)
	}
	h.member(accountID, admin, "second@northwind.example", "account_administrator")
	h.must(http.StatusOK, "POST", users+me+"/erasure", op, body)
}
