package service_test

import (
	"net/http"
	"testing"
)

// The account's own users see it: acting on its manager, which seed 001
// leaves to a partner serving the account (or an operator), they are
// refused for their role (403), its Account Administrator too, not told
// that their own account does not exist. Anyone else still gets 404.
func TestManagerRoutes_refuse_the_accounts_own_users_with_403(t *testing.T) {
	h := start(t, options{})
	accountID, nora := h.registered() // the manager, an active Account Administrator
	_, viewer := h.member(accountID, nora, "vic@northwind.example", "account_viewer")
	op := h.token("op-1", "ops@bizcenter.example", true)
	stranger := h.token("sub-tom", "tom@tailspin.example", false)
	h.tailspin(op) // Tom's account: he is no user of Northwind
	for path, body := range map[string]any{
		"/v1/accounts/" + accountID + "/manager":       person("mia@northwind.example"),
		"/v1/accounts/" + accountID + "/manager/email": map[string]any{"email": "mia@northwind.example"},
	} {
		for who, token := range map[string]string{"the account administrator": nora, "an account viewer": viewer} {
			if code, got := h.call("PUT", path, token, body); code != http.StatusForbidden {
				t.Errorf("%s on PUT %s: %d %v, want 403", who, path, code, got)
			}
		}
		if code, got := h.call("PUT", path, stranger, body); code != http.StatusNotFound {
			t.Errorf("a user of another account on PUT %s: %d %v, want 404", path, code, got)
		}
	}
}
