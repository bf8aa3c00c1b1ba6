package service_test

import (
	"net/http"
	"testing"
)

// A designated manager counts among the account's administrators: the
// last active one cannot demote herself, and with her there another may
// be demoted.
func TestDesignatedManager_counts_as_an_account_administrator(t *testing.T) {
	h := start(t, options{})
	op := h.token("op-1", "ops@bizcenter.example", true)
	accountID := h.tailspin(op)["accountId"].(string) // its manager, Tom, never accepts
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	h.serve(accountID, a)
	users := "/v1/accounts/" + accountID + "/users"

	// A new person: Mia, the only active administrator once she accepts.
	mia := h.must(http.StatusOK, "PUT", "/v1/accounts/"+accountID+"/manager", aAdmin, person("mia@tailspin.example"))["managerUserId"].(string)
	h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": h.mailTokens("mia@tailspin.example", 1)[0]})
	miaToken := h.token("sub-mia", "mia@tailspin.example", false)
	code, body := h.call("PUT", users+"/"+mia+"/roles", miaToken, map[string]any{"roles": []string{"reports_viewer"}})
	if code != http.StatusUnprocessableEntity || problemType(body) != problems+"last-account-administrator" {
		t.Fatalf("the only active administrator, a designated manager, demotes herself: %d %v", code, body)
	}

	// An existing user: Xavier, made administrator by the designation,
	// may demote Mia, since he stays.
	xavier, xavierToken := h.member(accountID, miaToken, "xavier@tailspin.example", "reports_viewer")
	h.must(http.StatusOK, "PUT", "/v1/accounts/"+accountID+"/manager", aAdmin, person("xavier@tailspin.example"))
	h.must(http.StatusOK, "PUT", users+"/"+mia+"/roles", xavierToken, map[string]any{"roles": []string{"reports_viewer"}})
	code, body = h.call("PUT", users+"/"+xavier+"/roles", xavierToken, map[string]any{"roles": []string{"reports_viewer"}})
	if code != http.StatusUnprocessableEntity || problemType(body) != problems+"last-account-administrator" {
		t.Fatalf("the last active administrator, a designated existing user, demotes himself: %d %v", code, body)
	}
}
