package service_test

import (
	"net/http"
	"testing"
)

// Nobody but an Account Administrator adds roles to themselves: a User
// Administrator gave themselves Account Manager, and with it purchases
// and billing. Taking one's own roles away stays allowed, another
// administrator may add them, and an Account Administrator may step
// down to a lower role.
func TestChangeUserRoles_nobody_adds_roles_to_themselves(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users/"
	uma, umaToken := h.member(accountID, admin, "uma@northwind.example", "user_administrator", "reports_viewer")

	code, body := h.call("PUT", users+uma+"/roles", umaToken, map[string]any{"roles": []string{"user_administrator", "reports_viewer", "account_manager"}})
	if code != http.StatusForbidden {
		t.Fatalf("a user administrator making themselves account manager: %d %v, want 403", code, body)
	}
	h.must(http.StatusOK, "PUT", users+uma+"/roles", umaToken, map[string]any{"roles": []string{"user_administrator"}})
	h.must(http.StatusOK, "PUT", users+uma+"/roles", admin, map[string]any{"roles": []string{"user_administrator", "account_manager"}})
	// Their rights over others are as before.
	ria, _ := h.member(accountID, admin, "ria@northwind.example", "account_viewer")
	h.must(http.StatusOK, "PUT", users+ria+"/roles", umaToken, map[string]any{"roles": []string{"account_manager"}})
	second, secondToken := h.member(accountID, admin, "second@northwind.example", "account_administrator")
	h.must(http.StatusOK, "PUT", users+second+"/roles", secondToken, map[string]any{"roles": []string{"account_administrator", "reports_viewer"}})
	h.must(http.StatusOK, "PUT", users+second+"/roles", secondToken, map[string]any{"roles": []string{"user_administrator"}})
}
