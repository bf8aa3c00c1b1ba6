package service_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/bizcenter/bizcenter/eventstore"
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
	// The designation, sent with an Idempotency-Key, records her as the
	// manager and as an administrator in one append.
	code, out := h.callWith("PUT", "/v1/accounts/"+accountID+"/manager", aAdmin, map[string]string{"Idempotency-Key": "designate-mia"}, person("mia@tailspin.example"))
	if code != http.StatusOK {
		t.Fatalf("designate Mia: %d %v", code, out)
	}
	mia := out["managerUserId"].(string)
	events, err := h.svc.Store().ReadStream(context.Background(), "account-"+accountID, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, FromEnd: true, Limit: 2})
	if err != nil || len(events) != 2 || events[1].Type != "account.manager_designated" || events[0].Type != "account.administrator_granted" {
		t.Fatalf("the account's last events %v, %v: want the designation and the grant", eventTypes(events), err)
	}
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

func eventTypes(events []eventstore.RecordedEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}
