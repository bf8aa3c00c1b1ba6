package service_test

import (
	"net/http"
	"strings"
	"testing"
)

// Seed 001: people sign in to the business center with their work
// account, the email their company gave them, never a personal Microsoft
// account (Outlook.com) or another consumer mailbox. An invitation, a
// registration's manager and a manager's new email at such an address are
// bad input naming the field, and nothing is stored; a company's address
// at a domain that merely contains such a name goes through.
func TestWorkAccount_a_personal_mailbox_is_refused_naming_the_field(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"
	for _, email := range []string{"ji-woo@outlook.com", "Ji-Woo@Hotmail.com", "jiwoo@gmail.com", "jiwoo@naver.com"} {
		code, body := h.call("POST", users, admin, invite(email, "account_viewer"))
		if code != http.StatusBadRequest || !namesField(body, "email") || !strings.Contains(problemReasons(body), "work account") {
			t.Fatalf("invite %s: %d %v", email, code, body)
		}
	}
	if list := h.must(http.StatusOK, "GET", users+"?email=jiwoo", admin, nil); len(list["items"].([]any)) != 0 {
		t.Fatalf("stored: %v", list["items"])
	}
	h.must(http.StatusCreated, "POST", users, admin, invite("ji-woo@outlook.com.northwind.example", "account_viewer"))

	op := h.token("op-1", "ops@bizcenter.example", true)
	code, body := h.call("POST", "/v1/accounts", op, map[string]any{
		"name": "Fourth Coffee", "agreementNumber": "AG-4", "purchaseAccountNumber": "PA-4",
		"manager": map[string]any{"email": "owner@live.com", "firstName": "O", "lastName": "W", "language": "en", "country": "US"},
	})
	if code != http.StatusBadRequest || !namesField(body, "manager.email") {
		t.Fatalf("register with a personal manager: %d %v", code, body)
	}
	// The manager of the registered account has signed in: another
	// account, whose manager has not, takes the change of email.
	other := h.must(http.StatusCreated, "POST", "/v1/accounts", op, map[string]any{
		"name": "Fourth Coffee", "agreementNumber": "AG-4", "purchaseAccountNumber": "PA-4",
		"manager": map[string]any{"email": "owner@fourthcoffee.example", "firstName": "O", "lastName": "W", "language": "en", "country": "US"},
	})
	code, body = h.call("PUT", "/v1/accounts/"+other["accountId"].(string)+"/manager/email", op, map[string]any{"email": "owner@msn.com"})
	if code != http.StatusBadRequest || !namesField(body, "email") {
		t.Fatalf("manager's email to a personal mailbox: %d %v", code, body)
	}
}

// problemReasons joins the reasons of a problem document's errors.
func problemReasons(body map[string]any) string {
	var out []string
	errs, _ := body["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok {
			r, _ := m["reason"].(string)
			out = append(out, r)
		}
	}
	return strings.Join(out, "; ")
}
