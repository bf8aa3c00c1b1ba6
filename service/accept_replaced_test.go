package service_test

import (
	"net/http"
	"testing"
)

// The link of an invitation a resend replaced says so (422
// invitation-replaced): the person opened an older email, and "not
// found" told them nothing. Once they accepted the newer one, the older
// link changes nothing.
func TestAcceptInvitation_a_replaced_link_says_so(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"
	const email = "rae@northwind.example"
	userID := h.must(http.StatusCreated, "POST", users, admin, invite(email, "reports_viewer"))["userId"].(string)
	// The first email is out before the resend: a resend in its batch
	// makes it stale, and it is not sent.
	h.mailTokens(email, 1)
	h.must(http.StatusOK, "POST", users+"/"+userID+"/invitation/resend", admin, nil)
	tokens := h.mailTokens(email, 2)
	old, newer := tokens[0], tokens[1]

	code, body := h.call("POST", "/v1/invitations/accept", "", map[string]any{"token": old})
	if code != http.StatusUnprocessableEntity || problemType(body) != problems+"invitation-replaced" {
		t.Fatalf("the replaced link: %d %v", code, body)
	}
	h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": newer})
	if code, body := h.call("POST", "/v1/invitations/accept", "", map[string]any{"token": old}); code != http.StatusOK || body["status"] != "active" {
		t.Fatalf("the replaced link once active: %d %v", code, body)
	}
}
