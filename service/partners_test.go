package service_test

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// partner registers a partner organization and returns its id and the
// token of its first global admin.
func (h *harness) partner(name, adminEmail string) (string, string) {
	h.t.Helper()
	op := h.token("op-1", "ops@bizcenter.example", true)
	out := h.must(http.StatusCreated, "POST", "/v1/partners", op, map[string]any{
		"name": name, "admin": map[string]any{"email": adminEmail, "firstName": "Pat", "lastName": name},
	})
	return out["partnerId"].(string), h.token("sub-"+adminEmail, adminEmail, false)
}

// serve records, as an operator, that a partner serves an account.
func (h *harness) serve(accountID, partnerID string) string {
	h.t.Helper()
	op := h.token("op-1", "ops@bizcenter.example", true)
	return h.must(http.StatusOK, "PUT", "/v1/accounts/"+accountID+"/partners/"+partnerID, op, nil)["position"].(string)
}

// order buys a subscription as token: self-service when partnerID is "".
func (h *harness) order(accountID, token, partnerID, name string) (string, string) {
	h.t.Helper()
	body := purchase(name)
	if partnerID != "" {
		body["orderingPartnerId"] = partnerID
	}
	out := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/subscriptions", token, body)
	return out["subscriptionId"].(string), out["position"].(string)
}

func purchase(name string) map[string]any {
	return map[string]any{
		"productId": "office-e3", "productName": "Office E3", "name": name,
		"expiresAt": time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339),
		"price":     map[string]any{"amount": "1234.50", "currency": "USD"}, "totalLicenses": 100,
	}
}

// names are the subscription names of a list answer, sorted.
func names(t *testing.T, page map[string]any) []string {
	t.Helper()
	var out []string
	for _, it := range page["items"].([]any) {
		out = append(out, it.(map[string]any)["name"].(string))
	}
	slices.Sort(out)
	return out
}

func problemType(body map[string]any) string {
	s, _ := body["type"].(string)
	return s
}

const problems = "https://bizcenter.dev/problems/"

func TestPartnerVisibility_refusals(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	grants := "/v1/accounts/" + accountID + "/partner-visibility/grants"
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	b, _ := h.partner("Beta", "ben@beta.example")
	c, _ := h.partner("Gamma", "gil@gamma.example")

	h.serve(accountID, a)
	code, body := h.call("POST", grants, admin, map[string]any{"granteePartnerId": a, "sourcePartnerId": b})
	if code != http.StatusUnprocessableEntity || problemType(body) != problems+"too-few-partners" {
		t.Fatalf("one partner: %d %v", code, body)
	}
	h.serve(accountID, b)
	for _, tc := range []struct {
		name, grantee, source, want string
	}{
		{"same partner", a, a, "same-partner"},
		{"grantee not serving", c, a, "partner-not-associated"},
		{"source not serving", a, c, "partner-not-associated"},
	} {
		code, body := h.call("POST", grants, admin, map[string]any{"granteePartnerId": tc.grantee, "sourcePartnerId": tc.source})
		if code != http.StatusUnprocessableEntity || problemType(body) != problems+tc.want {
			t.Errorf("%s: %d %v", tc.name, code, body)
		}
	}
	code, body = h.call("POST", grants, admin, map[string]any{"granteePartnerId": "nope", "sourcePartnerId": b})
	if code != http.StatusBadRequest || !namesField(body, "granteePartnerId") {
		t.Errorf("bad id: %d %v", code, body)
	}
	// Only the customer's Account Administrators: not a user administrator,
	// and not a partner (who is no user of the account at all).
	_, userAdmin := h.member(accountID, admin, "uma@northwind.example", "user_administrator")
	if code, body := h.call("POST", grants, userAdmin, map[string]any{"granteePartnerId": a, "sourcePartnerId": b}); code != http.StatusForbidden {
		t.Errorf("user administrator: %d %v", code, body)
	}
	if code, body := h.call("POST", grants, aAdmin, map[string]any{"granteePartnerId": a, "sourcePartnerId": b}); code != http.StatusNotFound {
		t.Errorf("partner admin: %d %v", code, body)
	}
	if code, body := h.call("DELETE", grants+"/"+a+"/"+b, admin, nil); code != http.StatusNotFound {
		t.Errorf("revoking a grant that is not there: %d %v", code, body)
	}
}

func TestPartnerVisibility_grant_revoke_and_channel_change_through_the_partner_view(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	b, bAdmin := h.partner("Beta", "ben@beta.example")
	c, cAdmin := h.partner("Gamma", "gil@gamma.example")
	h.serve(accountID, a)
	h.serve(accountID, b)
	h.order(accountID, aAdmin, a, "alpha-order")
	h.order(accountID, bAdmin, b, "beta-order")
	_, pos := h.order(accountID, admin, "", "own-purchase")
	view := func(p, tok, pos string) (int, map[string]any) {
		return h.call("GET", "/v1/partners/"+p+"/accounts/"+accountID+"/subscriptions?after="+pos, tok, nil)
	}
	sees := func(p, tok, pos string, want ...string) {
		t.Helper()
		code, page := view(p, tok, pos)
		if code != http.StatusOK {
			t.Fatalf("partner %s view: %d %v", p, code, page)
		}
		if got := names(t, page); !slices.Equal(got, want) {
			t.Fatalf("partner %s sees %v, want %v", p, got, want)
		}
	}
	sees(a, aAdmin, pos, "alpha-order")
	sees(b, bAdmin, pos, "beta-order")

	all := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/subscriptions?after="+pos, admin, nil)
	if got := names(t, all); !slices.Equal(got, []string{"alpha-order", "beta-order", "own-purchase"}) {
		t.Fatalf("customer sees %v", got)
	}
	self := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/subscriptions?origin=self_service", admin, nil)
	if got := names(t, self); !slices.Equal(got, []string{"own-purchase"}) {
		t.Fatalf("self-service filter: %v", got)
	}

	grants := "/v1/accounts/" + accountID + "/partner-visibility/grants"
	pos = h.must(http.StatusCreated, "POST", grants, admin, map[string]any{"granteePartnerId": a, "sourcePartnerId": b})["position"].(string)
	sees(a, aAdmin, pos, "alpha-order", "beta-order")
	sees(b, bAdmin, pos, "beta-order")
	matrix := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/partner-visibility?after="+pos, admin, nil)
	if matrix["available"] != true || len(matrix["grants"].([]any)) != 1 {
		t.Fatalf("matrix %v", matrix)
	}

	pos = h.must(http.StatusOK, "DELETE", grants+"/"+a+"/"+b, admin, nil)["position"].(string)
	sees(a, aAdmin, pos, "alpha-order")

	// B hands the account over to C, which already serves it and ordered
	// for it: C inherits what B ordered and B's grant to see A's orders;
	// B sees nothing any more; the order still says B ordered it; and A's
	// grant to see B's orders ends rather than show A C's own order.
	h.serve(accountID, c)
	h.order(accountID, cAdmin, c, "gamma-order")
	h.must(http.StatusCreated, "POST", grants, admin, map[string]any{"granteePartnerId": a, "sourcePartnerId": b})
	h.must(http.StatusCreated, "POST", grants, admin, map[string]any{"granteePartnerId": b, "sourcePartnerId": a})
	op := h.token("op-1", "ops@bizcenter.example", true)
	pos = h.must(http.StatusOK, "POST", "/v1/accounts/"+accountID+"/channel-partner-changes", op,
		map[string]any{"fromPartnerId": b, "toPartnerId": c})["position"].(string)
	sees(c, cAdmin, pos, "alpha-order", "beta-order", "gamma-order")
	sees(a, aAdmin, pos, "alpha-order")
	if code, body := view(b, bAdmin, pos); code != http.StatusNotFound {
		t.Fatalf("the previous partner reads the account: %d %v", code, body)
	}
	_, page := view(c, cAdmin, pos)
	item := itemNamed(t, page, "beta-order")
	if item["orderingPartner"].(map[string]any)["partnerId"] != b || item["channelPartner"].(map[string]any)["partnerId"] != c {
		t.Fatalf("inherited order: %v", item)
	}
}

func TestPartner_users_read_only_the_customers_they_serve(t *testing.T) {
	h := start(t, options{})
	accountID, _ := h.registered()
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	b, bAdmin := h.partner("Beta", "ben@beta.example")
	pos := h.serve(accountID, a)
	h.must(http.StatusOK, "GET", "/v1/partners/"+a+"/accounts/"+accountID+"/subscriptions?after="+pos, aAdmin, nil)
	for _, tc := range []struct{ name, path, token string }{
		{"a customer its partner does not serve", "/v1/partners/" + b + "/accounts/" + accountID + "/subscriptions", bAdmin},
		{"another partner's customer", "/v1/partners/" + a + "/accounts/" + accountID + "/subscriptions", bAdmin},
		{"another partner", "/v1/partners/" + a, bAdmin},
		{"the customer's own routes", "/v1/accounts/" + accountID + "/subscriptions", aAdmin},
	} {
		if code, body := h.call("GET", tc.path, tc.token, nil); code != http.StatusNotFound {
			t.Errorf("%s: %d %v", tc.name, code, body)
		}
	}
	accounts := h.must(http.StatusOK, "GET", "/v1/partners/"+a+"/accounts", aAdmin, nil)["items"].([]any)
	if len(accounts) != 1 || accounts[0].(map[string]any)["accountId"] != accountID {
		t.Fatalf("partner accounts %v", accounts)
	}
	if n := len(h.must(http.StatusOK, "GET", "/v1/partners/"+b+"/accounts", bAdmin, nil)["items"].([]any)); n != 0 {
		t.Fatalf("B serves nobody yet lists %d accounts", n)
	}
	// A partner's user management admin adds a sales agent, who orders.
	agent := h.must(http.StatusCreated, "POST", "/v1/partners/"+a+"/users", aAdmin, map[string]any{
		"email": "sam@alpha.example", "firstName": "Sam", "lastName": "Sales", "roles": []string{"sales_agent"}})
	samToken := h.token("sub-sam", "sam@alpha.example", false)
	if code, body := h.call("POST", "/v1/partners/"+a+"/users", aAdmin, map[string]any{
		"email": "x@alpha.example", "firstName": "X", "lastName": "Y", "roles": []string{"sales_agent", "emperor"}}); code != http.StatusBadRequest || !namesField(body, "roles[1]") {
		t.Fatalf("an unknown partner role: %d %v, want a 400 naming roles[1]", code, body)
	}
	if code, body := h.call("POST", "/v1/partners/"+a+"/users", samToken, map[string]any{
		"email": "x@alpha.example", "firstName": "X", "lastName": "Y", "roles": []string{"sales_agent"}}); code != http.StatusForbidden {
		t.Fatalf("a sales agent adds users: %d %v", code, body)
	}
	_, pos = h.order(accountID, samToken, a, "sam-order")
	page := h.must(http.StatusOK, "GET", "/v1/partners/"+a+"/accounts/"+accountID+"/subscriptions?after="+pos, aAdmin, nil)
	buyer := page["items"].([]any)[0].(map[string]any)["buyer"].(map[string]any)
	if buyer["userId"] != agent["userId"] || buyer["name"] != "Sam Sales" || buyer["kind"] != "partner" {
		t.Fatalf("buyer %v", buyer)
	}
	if code, body := h.call("POST", "/v1/accounts/"+accountID+"/subscriptions", bAdmin, func() map[string]any {
		p := purchase("b-order")
		p["orderingPartnerId"] = b
		return p
	}()); code != http.StatusNotFound {
		t.Fatalf("a partner not serving the account orders: %d %v", code, body)
	}
	me := h.must(http.StatusOK, "GET", "/v1/me", samToken, nil)
	if ps := me["partners"].([]any); len(ps) != 1 || ps[0].(map[string]any)["partnerId"] != a {
		t.Fatalf("me: %v", me)
	}
}

func TestPartner_resends_the_managers_invitation_of_a_customer_it_serves(t *testing.T) {
	h := start(t, options{})
	op := h.token("op-1", "ops@bizcenter.example", true)
	out := h.tailspin(op)
	accountID, manager := out["accountId"].(string), out["managerUserId"].(string)
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	_, bAdmin := h.partner("Beta", "ben@beta.example")
	h.serve(accountID, a)
	resend := "/v1/accounts/" + accountID + "/users/" + manager + "/invitation/resend"
	if code, body := h.call("POST", resend, bAdmin, nil); code != http.StatusNotFound {
		t.Fatalf("a partner not serving the customer resends: %d %v", code, body)
	}
	h.mailTokens("tom@tailspin.example", 1) // out before the resend, which would make it stale
	h.must(http.StatusOK, "POST", resend, aAdmin, nil)
	if got := h.mailTokens("tom@tailspin.example", 2); got[0] == got[1] {
		t.Fatal("the resent invitation carries the old token")
	}
	// A sales agent's roles do not reach the customer's administrator:
	// 403, since Sid sees the account (Alpha serves it).
	h.must(http.StatusCreated, "POST", "/v1/partners/"+a+"/users", aAdmin, map[string]any{
		"email": "sid@alpha.example", "firstName": "Sid", "lastName": "Sales", "roles": []string{"sales_agent"}})
	if code, body := h.call("POST", resend, h.token("sub-sid", "sid@alpha.example", false), nil); code != http.StatusForbidden {
		t.Fatalf("a sales agent resends: %d %v", code, body)
	}
}

// person is the body that names someone without roles.
func person(email string) map[string]any {
	return map[string]any{"email": email, "firstName": "Mia", "lastName": "Ng", "language": "en", "country": "US"}
}

func TestPartner_designates_another_manager_and_changes_the_managers_email(t *testing.T) {
	h := start(t, options{})
	op := h.token("op-1", "ops@bizcenter.example", true)
	out := h.tailspin(op)
	accountID, tom := out["accountId"].(string), out["managerUserId"].(string)
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	_, bAdmin := h.partner("Beta", "ben@beta.example")
	h.serve(accountID, a)
	oldToken := h.mailTokens("tom@tailspin.example", 1)[0]

	email := "/v1/accounts/" + accountID + "/manager/email"
	if code, body := h.call("PUT", email, bAdmin, map[string]any{"email": "tom@tailspin.example"}); code != http.StatusNotFound {
		t.Fatalf("a partner not serving the customer: %d %v", code, body)
	}
	if code, body := h.call("PUT", email, aAdmin, map[string]any{"email": "not an email"}); code != http.StatusBadRequest || !namesField(body, "email") {
		t.Fatalf("bad email: %d %v", code, body)
	}
	changed := h.must(http.StatusOK, "PUT", email, aAdmin, map[string]any{"email": "Thomas@Tailspin.example"})
	if changed["managerUserId"] != tom {
		t.Fatalf("the manager changed person: %v", changed)
	}
	h.mailTokens("thomas@tailspin.example", 1) // the new invitation goes to the new address
	if code, body := h.call("POST", "/v1/invitations/accept", "", map[string]any{"token": oldToken}); code != http.StatusNotFound {
		t.Fatalf("the old link still works: %d %v", code, body)
	}
	// The resend request now matches the new email only.
	h.must(http.StatusAccepted, "POST", "/v1/invitations/resend-request", "", map[string]any{
		"email": "thomas@tailspin.example", "agreementNumber": "AG-9", "purchaseAccountNumber": "PA-9"})
	acc := h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": h.mailTokens("thomas@tailspin.example", 2)[1]})
	thomas := h.token("sub-thomas", "thomas@tailspin.example", false)
	me := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users/"+tom+"?after="+acc["position"].(string), thomas, nil)
	if me["email"] != "Thomas@Tailspin.example" || me["status"] != "active" {
		t.Fatalf("the manager after the change: %v", me)
	}
	if code, body := h.call("PUT", email, aAdmin, map[string]any{"email": "t@tailspin.example"}); code != http.StatusUnprocessableEntity {
		t.Fatalf("changing an active manager's email: %d %v", code, body)
	}

	// Designating another person invites them as Account Administrator.
	designated := h.must(http.StatusOK, "PUT", "/v1/accounts/"+accountID+"/manager", aAdmin, person("mia@tailspin.example"))
	tok := h.mailTokens("mia@tailspin.example", 1)[0]
	h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": tok})
	mia := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users/"+designated["managerUserId"].(string)+"?after="+designated["position"].(string), thomas, nil)
	if roles := mia["roles"].([]any); len(roles) != 1 || roles[0] != "account_administrator" {
		t.Fatalf("the designated manager: %v", mia)
	}
	// Taking an email another user holds is a conflict.
	h.must(http.StatusOK, "PUT", "/v1/accounts/"+accountID+"/manager", aAdmin, person("zed@tailspin.example"))
	if code, body := h.call("PUT", email, aAdmin, map[string]any{"email": "mia@tailspin.example"}); code != http.StatusConflict {
		t.Fatalf("taking another user's email: %d %v", code, body)
	}
}

// A sales agent of a partner serving the account acts on the customer's
// manager and gets 403 (docs/roles.md): the OpenAPI document of both
// manager routes says so, as it says every answer a route gives.
func TestManagerRoutes_declare_the_403_a_partner_without_the_role_gets(t *testing.T) {
	h := start(t, options{})
	op := h.token("op-1", "ops@bizcenter.example", true)
	accountID := h.tailspin(op)["accountId"].(string)
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	h.serve(accountID, a)
	h.must(http.StatusCreated, "POST", "/v1/partners/"+a+"/users", aAdmin, map[string]any{
		"email": "sid@alpha.example", "firstName": "Sid", "lastName": "Sales", "roles": []string{"sales_agent"}})
	sid := h.token("sub-sid", "sid@alpha.example", false)
	paths := h.must(http.StatusOK, "GET", "/v1/openapi.json", "", nil)["paths"].(map[string]any)
	for path, body := range map[string]any{
		"/v1/accounts/{accountId}/manager":       person("mia@tailspin.example"),
		"/v1/accounts/{accountId}/manager/email": map[string]any{"email": "mia@tailspin.example"},
	} {
		if code, got := h.call("PUT", strings.Replace(path, "{accountId}", accountID, 1), sid, body); code != http.StatusForbidden {
			t.Fatalf("a sales agent on %s: %d %v", path, code, got)
		}
		responses := paths[path].(map[string]any)["put"].(map[string]any)["responses"].(map[string]any)
		if responses["403"] == nil {
			t.Errorf("PUT %s answers 403 but its OpenAPI responses are %v", path, slices.Sorted(maps.Keys(responses)))
		}
	}
}

func itemNamed(t *testing.T, page map[string]any, name string) map[string]any {
	t.Helper()
	for _, it := range page["items"].([]any) {
		if m := it.(map[string]any); m["name"] == name {
			return m
		}
	}
	t.Fatalf("no %s in %v", name, page)
	return nil
}

func TestPartner_roles_cannot_climb(t *testing.T) {
	h := start(t, options{})
	accountID, _ := h.registered()
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	h.serve(accountID, a)
	users := "/v1/partners/" + a + "/users"
	uma := h.must(http.StatusCreated, "POST", users, aAdmin, map[string]any{
		"email": "uma@alpha.example", "firstName": "Uma", "lastName": "M", "roles": []string{"user_management_admin"}})["userId"].(string)
	umaToken := h.token("sub-uma", "uma@alpha.example", false)
	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"adds a global admin", "POST", users, map[string]any{"email": "x@alpha.example", "firstName": "X", "lastName": "Y", "roles": []string{"global_admin"}}},
		{"raises herself", "PUT", users + "/" + uma + "/roles", map[string]any{"roles": []string{"global_admin"}}},
		{"changes her own roles", "PUT", users + "/" + uma + "/roles", map[string]any{"roles": []string{"sales_agent", "user_management_admin"}}},
	} {
		if code, body := h.call(tc.method, tc.path, umaToken, tc.body); code != http.StatusForbidden {
			t.Errorf("a user management admin %s: %d %v", tc.name, code, body)
		}
	}
	// A helpdesk agent may act on the customer's manager, but not make
	// one of the partner's own people the customer's administrator.
	h.must(http.StatusCreated, "POST", users, aAdmin, map[string]any{
		"email": "hal@alpha.example", "firstName": "Hal", "lastName": "D", "roles": []string{"helpdesk_agent"}})
	hal := h.token("sub-hal", "hal@alpha.example", false)
	code, body := h.call("PUT", "/v1/accounts/"+accountID+"/manager", hal, person("hal@alpha.example"))
	if code != http.StatusUnprocessableEntity || problemType(body) != problems+"partner-staff-as-manager" {
		t.Fatalf("a partner makes itself the customer's administrator: %d %v", code, body)
	}
}

// Two partners change a pending manager's email at once: whatever the
// outcome, the manager ends with one email, and no other address keeps a
// reservation (which would lend it the manager's rights).
func TestChangeManagerEmail_concurrent_changes_leave_no_stale_reservation(t *testing.T) {
	h := start(t, options{})
	op := h.token("op-1", "ops@bizcenter.example", true)
	out := h.tailspin(op)
	accountID, tom := out["accountId"].(string), out["managerUserId"].(string)
	emails := []string{"x@tailspin.example", "y@tailspin.example"}
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i, e := range emails {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = h.call("PUT", "/v1/accounts/"+accountID+"/manager/email", op, map[string]any{"email": e})
		}()
	}
	wg.Wait()
	for _, c := range codes {
		if c != http.StatusOK && c != http.StatusConflict {
			t.Fatalf("concurrent changes answered %v", codes)
		}
	}
	// The manager's email is taken (409); every other address is free.
	taken := 0
	for _, e := range append(emails, "tom@tailspin.example") {
		code, body := h.call("POST", "/v1/accounts/"+accountID+"/users", op, invite(e, "account_viewer"))
		switch code {
		case http.StatusConflict:
			taken++
		case http.StatusCreated:
			if body["userId"] == tom {
				t.Fatalf("inviting %s answered the manager's id", e)
			}
		default:
			t.Fatalf("inviting %s: %d %v", e, code, body)
		}
	}
	if taken != 1 {
		t.Fatalf("%d addresses are held after concurrent changes %v, want only the manager's", taken, codes)
	}
}

// A manager's email changed away and back is former and current at once:
// it stays reserved, and the address in between is free again.
func TestChangeManagerEmail_back_to_a_former_email_keeps_it_reserved(t *testing.T) {
	h := start(t, options{})
	op := h.token("op-1", "ops@bizcenter.example", true)
	out := h.tailspin(op)
	accountID := out["accountId"].(string)
	for _, e := range []string{"x@tailspin.example", "Tom@Tailspin.example"} {
		h.must(http.StatusOK, "PUT", "/v1/accounts/"+accountID+"/manager/email", op, map[string]any{"email": e})
	}
	if code, body := h.call("POST", "/v1/accounts/"+accountID+"/users", op, invite("tom@tailspin.example", "account_viewer")); code != http.StatusConflict {
		t.Fatalf("inviting the manager's current email: %d %v", code, body)
	}
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", op, invite("x@tailspin.example", "account_viewer"))
}

// tailspin registers the Tailspin account, its manager Tom pending, as an
// operator; the answer has accountId and managerUserId.
func (h *harness) tailspin(op string) map[string]any {
	h.t.Helper()
	return h.must(http.StatusCreated, "POST", "/v1/accounts", op, map[string]any{
		"name": "Tailspin", "agreementNumber": "AG-9", "purchaseAccountNumber": "PA-9",
		"manager": map[string]any{"email": "tom@tailspin.example", "firstName": "Tom", "lastName": "Spin", "language": "en", "country": "US"},
	})
}

// The first user of a partner is its global admin: roles left out mean
// global_admin, roles given must include it and are kept.
func TestPartner_first_user_is_its_global_admin_with_the_roles_given(t *testing.T) {
	h := start(t, options{})
	op := h.token("op-1", "ops@bizcenter.example", true)
	register := func(roles ...string) (int, map[string]any) {
		return h.call("POST", "/v1/partners", op, map[string]any{
			"name": "Gamma", "admin": map[string]any{"email": "gil@gamma.example", "firstName": "Gil", "lastName": "G", "roles": roles}})
	}
	for field, roles := range map[string][]string{"admin.roles": {"sales_agent"}, "admin.roles[1]": {"global_admin", "no_such_role"}} {
		if code, body := register(roles...); code != http.StatusBadRequest || !namesField(body, field) {
			t.Errorf("first user with roles %v: %d %v, want a 400 naming %s", roles, code, body, field)
		}
	}
	out := h.must(http.StatusCreated, "POST", "/v1/partners", op, map[string]any{
		"name": "Gamma", "admin": map[string]any{"email": "gil@gamma.example", "firstName": "Gil", "lastName": "G",
			"roles": []string{"global_admin", "helpdesk_agent"}}})
	gil := h.token("sub-gil", "gil@gamma.example", false)
	p := h.must(http.StatusOK, "GET", "/v1/partners/"+out["partnerId"].(string)+"?after="+out["position"].(string), gil, nil)
	users := p["users"].([]any)
	if len(users) != 1 {
		t.Fatalf("partner users %v", users)
	}
	if got := fmt.Sprint(users[0].(map[string]any)["roles"]); got != "[global_admin helpdesk_agent]" {
		t.Fatalf("first user's roles %s, want global_admin and helpdesk_agent", got)
	}
}
