package service_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// Naming a partner on an account's command routes tells whoever is not
// that partner's user, or whose partner does not serve the account,
// exactly what it tells anyone of an account that does not exist: no one
// learns which accounts exist, nor which partners serve them.
func TestPartnerNamed_a_caller_who_may_not_act_learns_nothing_of_the_account(t *testing.T) {
	h := start(t, options{})
	accountID, _ := h.registered()
	serving, _ := h.partner("Fabrikam", "pat@fabrikam.example")
	h.serve(accountID, serving)
	lone, loneAdmin := h.partner("Tailspin", "tia@tailspin.example")
	stranger := h.token("sub-stranger", "stranger@elsewhere.example", false)
	missing := uuid.NewString()

	routes := []struct {
		name, path string
		body       func(partnerID string) map[string]any
	}{
		{"order", "/subscriptions", func(p string) map[string]any {
			b := purchase("probe")
			b["orderingPartnerId"] = p
			return b
		}},
		{"bulk assign", "/licenses/assign", func(p string) map[string]any {
			return map[string]any{"partnerId": p, "userIds": []string{uuid.NewString()}, "products": products("office-e3")}
		}},
		{"bulk revoke", "/licenses/revoke", func(p string) map[string]any {
			return map[string]any{"partnerId": p, "userIds": []string{uuid.NewString()}, "productIds": []string{"office-e3"}}
		}},
	}
	callers := []struct {
		name, token, partnerID string
	}{
		{"a stranger naming the serving partner", stranger, serving},
		{"a stranger naming a partner that does not exist", stranger, uuid.NewString()},
		{"the admin of a partner not serving the account", loneAdmin, lone},
	}
	for _, r := range routes {
		for _, c := range callers {
			// What a caller learns of an account that does not exist.
			code, body := h.call("POST", "/v1/accounts/"+missing+r.path, c.token, r.body(c.partnerID))
			want := strings.ReplaceAll(body["detail"].(string), missing, "{account}")
			if code != http.StatusNotFound {
				t.Fatalf("%s, %s, no such account: %d %v", r.name, c.name, code, body)
			}
			code, body = h.call("POST", "/v1/accounts/"+accountID+r.path, c.token, r.body(c.partnerID))
			got, _ := body["detail"].(string)
			if code != http.StatusNotFound || strings.ReplaceAll(got, accountID, "{account}") != want {
				t.Errorf("%s, %s: %d %q, want 404 %q as for an account that does not exist", r.name, c.name, code, got, want)
			}
		}
	}
}
