package service_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/domain/event"
)

// person invites someone of a country into the account and, when accept,
// accepts for them; it returns their user id.
func (h *harness) person(accountID, admin, email, country string, accept bool) string {
	h.t.Helper()
	body := invite(email, "account_viewer")
	body["country"] = country
	inv := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, body)
	if accept {
		acc := h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": h.mailTokens(email, 1)[0]})
		h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+acc["position"].(string), admin, nil)
	}
	return inv["userId"].(string)
}

// bought buys total licenses of a product self-service and waits for the
// subscription to be listed (assignments find subscriptions there).
func (h *harness) bought(accountID, admin, product string, total int) string {
	h.t.Helper()
	body := purchase(product + " for the team")
	body["productId"], body["totalLicenses"] = product, total
	out := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/subscriptions", admin, body)
	id := out["subscriptionId"].(string)
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/subscriptions/"+id+"?after="+out["position"].(string), admin, nil)
	return id
}

// assign calls the bulk route and returns the outcomes by user, each as
// "product:outcome[:reason]".
func (h *harness) assign(accountID, token, route string, body map[string]any) (map[string][]string, map[string]any) {
	h.t.Helper()
	out := h.must(http.StatusOK, "POST", "/v1/accounts/"+accountID+"/licenses/"+route, token, body)
	return byUser(out), out
}

func byUser(out map[string]any) map[string][]string {
	got := map[string][]string{}
	for _, r := range out["results"].([]any) {
		r := r.(map[string]any)
		s := r["productId"].(string) + ":" + r["outcome"].(string)
		if reason, ok := r["reason"].(string); ok {
			s += ":" + reason
		}
		got[r["userId"].(string)] = append(got[r["userId"].(string)], s)
	}
	return got
}

func products(ids ...string) []map[string]any {
	var out []map[string]any
	for _, id := range ids {
		out = append(out, map[string]any{"productId": id})
	}
	return out
}

func wantOutcomes(t *testing.T, got map[string][]string, user string, want ...string) {
	t.Helper()
	if !slices.Equal(got[user], want) {
		t.Errorf("user %s: %v, want %v", user, got[user], want)
	}
}

func TestLicenses_bulk_assign_answers_each_refusal_reason_through_http(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	e3 := h.bought(accountID, admin, "office-e3", 3)
	h.bought(accountID, admin, "teams-phone", 10)
	h.bought(accountID, admin, "office-e1", 5)
	visio := h.bought(accountID, admin, "visio-plan-2", 1)
	us1 := h.person(accountID, admin, "us1@northwind.example", "US", true)
	us2 := h.person(accountID, admin, "us2@northwind.example", "US", true)
	kr := h.person(accountID, admin, "kr@northwind.example", "KR", true)
	pending := h.person(accountID, admin, "pending@northwind.example", "US", false)
	e1 := h.person(accountID, admin, "e1@northwind.example", "US", true)
	otherID, otherAdmin := h.otherAccount()
	foreign := h.person(otherID, otherAdmin, "foreign@other.example", "US", true)

	got, _ := h.assign(accountID, admin, "assign", map[string]any{"userIds": []string{e1}, "products": products("office-e1")})
	wantOutcomes(t, got, e1, "office-e1:assigned")

	got, out := h.assign(accountID, admin, "assign", map[string]any{
		"userIds": []string{us1, kr, pending, foreign, e1}, "products": products("office-e3", "teams-phone")})
	wantOutcomes(t, got, us1, "office-e3:assigned", "teams-phone:assigned")
	wantOutcomes(t, got, kr, "office-e3:assigned", "teams-phone:refused:not-sold-in-country")
	wantOutcomes(t, got, pending, "office-e3:refused:user-not-active", "teams-phone:refused:user-not-active")
	wantOutcomes(t, got, foreign, "office-e3:refused:user-not-in-account", "teams-phone:refused:user-not-in-account")
	wantOutcomes(t, got, e1, "office-e3:refused:conflicts-with-held", "teams-phone:refused:requires-product")
	if s := out["summary"].(map[string]any); s["assigned"] != 3.0 || s["refused"] != 7.0 {
		t.Errorf("summary %v", s)
	}

	got, _ = h.assign(accountID, admin, "assign", map[string]any{"userIds": []string{us2}, "products": products("office-e1", "office-e5")})
	wantOutcomes(t, got, us2, "office-e1:refused:conflicts-in-request", "office-e5:refused:conflicts-in-request")

	// One Visio license for two users: neither gets it (all or nothing per
	// product); for one user it is enough.
	got, _ = h.assign(accountID, admin, "assign", map[string]any{"userIds": []string{us1, us2}, "products": products("visio-plan-2")})
	wantOutcomes(t, got, us1, "visio-plan-2:refused:not-enough-licenses")
	wantOutcomes(t, got, us2, "visio-plan-2:refused:not-enough-licenses")
	got, _ = h.assign(accountID, admin, "assign", map[string]any{"userIds": []string{us1, us1}, "products": products("visio-plan-2", "office-e3")})
	wantOutcomes(t, got, us1, "visio-plan-2:assigned", "office-e3:already_held")
	got, out = h.assign(accountID, admin, "assign", map[string]any{"userIds": []string{us2}, "products": products("visio-plan-2")})
	wantOutcomes(t, got, us2, "visio-plan-2:refused:not-enough-licenses")

	// Entitlements for a selection: office-e3 held by some of it (us1 and
	// kr of us1, kr, pending; an unknown id counts in no state).
	page := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/licenses?after="+out["position"].(string)+
		"&userIds="+strings.Join([]string{us1, kr, pending, foreign}, ","), admin, nil)
	ent := entitlement(t, page, "office-e3")
	sel := ent["selected"].(map[string]any)
	if ent["totalLicenses"] != 3.0 || ent["assignedLicenses"] != 2.0 || ent["availableLicenses"] != 1.0 || ent["buyMore"] != false ||
		sel["state"] != "some" || sel["count"] != 2.0 {
		t.Errorf("office-e3 %v", ent)
	}
	if v := entitlement(t, page, "visio-plan-2"); v["availableLicenses"] != 0.0 || v["buyMore"] != true || v["selected"].(map[string]any)["state"] != "some" {
		t.Errorf("visio %v", v)
	}
	if u := page["selection"].(map[string]any)["unknown"].([]any); len(u) != 1 || u[0] != foreign {
		t.Errorf("unknown %v", u)
	}
	mine := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/licenses?userIds="+us1, admin, nil)
	if s := entitlement(t, mine, "office-e3")["selected"].(map[string]any); s["state"] != "all" {
		t.Errorf("all of one: %v", s)
	}
	held := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users/"+us1+"/licenses", admin, nil)["licenses"].([]any)
	if len(held) != 3 || fmt.Sprint(held[0].(map[string]any)["servicePlans"]) != "[exchange-online-2 sharepoint-online-2 teams office-apps]" {
		t.Errorf("us1 holds %v", held)
	}

	// Revoking office-e3 alone would leave teams-phone without it.
	got, _ = h.assign(accountID, admin, "revoke", map[string]any{"userIds": []string{us1, us2, foreign}, "productIds": []string{"office-e3"}})
	wantOutcomes(t, got, us1, "office-e3:refused:required-by-held")
	wantOutcomes(t, got, us2, "office-e3:not_held")
	wantOutcomes(t, got, foreign, "office-e3:refused:user-not-in-account")
	got, out = h.assign(accountID, admin, "revoke", map[string]any{"userIds": []string{us1}, "productIds": []string{"teams-phone", "office-e3", "visio-plan-2"}})
	wantOutcomes(t, got, us1, "teams-phone:revoked", "office-e3:revoked", "visio-plan-2:revoked")
	sub := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/subscriptions/"+e3+"?after="+out["position"].(string), admin, nil)
	if sub["assignedLicenses"] != 1.0 {
		t.Errorf("office-e3 subscription after revoking %v", sub["assignedLicenses"])
	}
	if n := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/subscriptions/"+visio+"/assignments?after="+out["position"].(string), admin, nil)["items"].([]any); len(n) != 0 {
		t.Errorf("visio holders %v", n)
	}
}

// otherAccount registers a second account whose manager accepts; it
// returns its id and the manager's token.
func (h *harness) otherAccount() (string, string) {
	h.t.Helper()
	op := h.token("op-1", "ops@bizcenter.example", true)
	out := h.must(http.StatusCreated, "POST", "/v1/accounts", op, registration("other"))
	acc := h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": h.mailTokens("manager-other@acme.example", 1)[0]})
	tok := h.token("sub-other", "manager-other@acme.example", false)
	h.must(http.StatusOK, "GET", "/v1/accounts/"+out["accountId"].(string)+"?after="+acc["position"].(string), tok, nil)
	return out["accountId"].(string), tok
}

func entitlement(t *testing.T, page map[string]any, product string) map[string]any {
	t.Helper()
	for _, p := range page["products"].([]any) {
		if p := p.(map[string]any); p["productId"] == product {
			return p
		}
	}
	t.Fatalf("no %s in %v", product, page["products"])
	return nil
}

func TestLicenses_bulk_requests_name_bad_input(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	h.bought(accountID, admin, "office-e3", 3)
	route := "/v1/accounts/" + accountID + "/licenses/assign"
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"userIds": []string{}, "products": products("office-e3")}, "userIds"},
		{map[string]any{"userIds": []string{"nope"}, "products": products("office-e3")}, "userIds[0]"},
		{map[string]any{"userIds": []string{"0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f91"}, "products": products("no-such-product")}, "products[0].productId"},
		{map[string]any{"userIds": []string{"0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f91"},
			"products": []map[string]any{{"productId": "office-e3", "servicePlans": []string{"visio-online"}}}}, "products[0].servicePlans"},
		{map[string]any{"userIds": []string{"0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f91"}, "products": products("office-e3"), "partnerId": "x"}, "partnerId"},
	} {
		if code, body := h.call("POST", route, admin, tc.body); code != http.StatusBadRequest || !namesField(body, tc.field) {
			t.Errorf("%v: %d %v", tc.body, code, body)
		}
	}
	many := make([]string, 10_001)
	for i := range many {
		many[i] = fmt.Sprintf("0190f5a2-7c1e-7d3a-9b1e-%012d", i)
	}
	if code, body := h.call("POST", route, admin, map[string]any{"userIds": many, "products": products("office-e3")}); code != http.StatusBadRequest || !namesField(body, "userIds") {
		t.Errorf("10,001 users: %d %v", code, body)
	}
	if code, body := h.call("GET", "/v1/accounts/"+accountID+"/licenses?userIds=a,b", admin, nil); code != http.StatusBadRequest || !namesField(body, "userIds") {
		t.Errorf("bad selection: %d %v", code, body)
	}
}

func TestLicenses_self_service_is_all_or_nothing_and_a_total_below_the_assigned_count_is_refused(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	sub := h.bought(accountID, admin, "office-e3", 5)
	subPath := "/v1/accounts/" + accountID + "/subscriptions/" + sub
	a := h.person(accountID, admin, "a@northwind.example", "US", true)
	b := h.person(accountID, admin, "b@northwind.example", "DE", true)
	c := h.person(accountID, admin, "c@northwind.example", "KR", true)
	pending := h.person(accountID, admin, "p@northwind.example", "US", false)

	// 21 users at once is more than the self-service flow takes.
	var many []string
	for i := range 21 {
		many = append(many, fmt.Sprintf("0190f5a2-7c1e-7d3a-9b1e-%012d", i))
	}
	if code, body := h.call("POST", subPath+"/assign", admin, map[string]any{"userIds": many}); code != http.StatusBadRequest || !namesField(body, "userIds") {
		t.Fatalf("21 users: %d %v", code, body)
	}
	if code, body := h.call("POST", subPath+"/assign", admin, map[string]any{"userIds": []string{a}, "servicePlans": []string{"dial-in"}}); code != http.StatusBadRequest || !namesField(body, "servicePlans") {
		t.Fatalf("a plan of another product: %d %v", code, body)
	}
	// One user who may not have it: nobody gets it.
	code, body := h.call("POST", subPath+"/assign", admin, map[string]any{"userIds": []string{a, pending, b}})
	if code != http.StatusUnprocessableEntity || problemType(body) != problems+"assignment-refused" || !namesField(body, "userIds[1]") || namesField(body, "userIds[0]") {
		t.Fatalf("with a pending user: %d %v", code, body)
	}
	out := h.must(http.StatusOK, "POST", subPath+"/assign", admin, map[string]any{"userIds": []string{a, b, c}, "servicePlans": []string{"teams", "office-apps"}})
	if s := out["summary"].(map[string]any); s["assigned"] != 3.0 {
		t.Fatalf("assigned %v", out)
	}
	one := h.must(http.StatusOK, "GET", subPath+"?after="+out["position"].(string), admin, nil)
	if one["assignedLicenses"] != 3.0 {
		t.Fatalf("assigned licenses %v", one["assignedLicenses"])
	}
	holders := h.must(http.StatusOK, "GET", subPath+"/assignments?limit=2&after="+out["position"].(string), admin, nil)
	if items := holders["items"].([]any); len(items) != 2 || holders["nextCursor"] == nil ||
		fmt.Sprint(items[0].(map[string]any)["servicePlans"]) != "[teams office-apps]" {
		t.Fatalf("holders %v", holders)
	}
	rest := h.must(http.StatusOK, "GET", subPath+"/assignments?limit=2&cursor="+holders["nextCursor"].(string), admin, nil)
	if items := rest["items"].([]any); len(items) != 1 || rest["nextCursor"] != nil {
		t.Fatalf("second page %v", rest)
	}

	// The total never drops below the licenses assigned.
	code, body = h.call("PUT", subPath+"/total-licenses", admin, map[string]any{"total": 2})
	if code != http.StatusUnprocessableEntity || problemType(body) != problems+"below-assigned" {
		t.Fatalf("total below assigned: %d %v", code, body)
	}
	h.must(http.StatusOK, "PUT", subPath+"/total-licenses", admin, map[string]any{"total": 3})
	// No free license left: a fourth user is refused.
	code, body = h.call("POST", subPath+"/assign", admin, map[string]any{"userIds": []string{pending}})
	if code != http.StatusUnprocessableEntity || !namesField(body, "userIds[0]") {
		t.Fatalf("pending: %d %v", code, body)
	}
	out = h.must(http.StatusOK, "POST", subPath+"/unassign", admin, map[string]any{"userIds": []string{c, pending}})
	if got := byUser(out); !slices.Equal(got[c], []string{"office-e3:revoked"}) || !slices.Equal(got[pending], []string{"office-e3:not_held"}) {
		t.Fatalf("unassign %v", got)
	}
	h.must(http.StatusOK, "PUT", subPath+"/total-licenses", admin, map[string]any{"total": 2})
}

func TestLicenses_two_bulk_requests_racing_for_the_last_licenses_assign_no_more_than_there_are(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	var people []string
	for i := range 9 {
		people = append(people, h.person(accountID, admin, fmt.Sprintf("p%d@northwind.example", i), "US", true))
	}
	// Two requests of three users each race for five licenses: one gets
	// them all, the other none; never six. Each round is a product of its
	// own, so that nobody holds it yet.
	for _, product := range []string{"project-plan-3", "visio-plan-2", "dynamics-365-sales"} {
		sub := h.bought(accountID, admin, product, 5)
		var wg sync.WaitGroup
		outs := make([]map[string]any, 2)
		for i, users := range [][]string{people[0:3], people[3:6]} {
			wg.Go(func() {
				_, outs[i] = h.call("POST", "/v1/accounts/"+accountID+"/licenses/assign", admin,
					map[string]any{"userIds": users, "products": products(product)})
			})
		}
		wg.Wait()
		won := 0
		for _, out := range outs {
			s, _ := out["summary"].(map[string]any)
			switch {
			case s["assigned"] == 3.0:
				won++
			case s["refused"] != 3.0:
				t.Fatalf("%s: a request got part of the product: %v", product, out)
			}
		}
		if won != 1 {
			t.Fatalf("%s: %d requests won 3 of 5 licenses: %v", product, won, outs)
		}
		got := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/subscriptions/"+sub+"?after="+h.settled(accountID, admin, people[8]), admin, nil)
		if got["assignedLicenses"] != 3.0 {
			t.Fatalf("%s: %v assigned", product, got["assignedLicenses"])
		}
	}

	// Eight requests of one or two users each (some overlapping), at once,
	// for 5 licenses: no more than 5 are assigned, and the answers add up
	// to the holders.
	sub := h.bought(accountID, admin, "office-e5", 5)
	var wg sync.WaitGroup
	var mu sync.Mutex
	assigned := 0
	for i := range 8 {
		wg.Go(func() {
			users := people[i : i+1+i%2]
			code, out := h.call("POST", "/v1/accounts/"+accountID+"/licenses/assign", admin, map[string]any{"userIds": users, "products": products("office-e5")})
			mu.Lock()
			defer mu.Unlock()
			if code != http.StatusOK {
				t.Errorf("request %d: %d %v", i, code, out)
				return
			}
			n, _ := out["summary"].(map[string]any)["assigned"].(float64)
			assigned += int(n)
		})
	}
	wg.Wait()
	if assigned != 5 {
		t.Fatalf("%d licenses answered assigned of 5", assigned)
	}
	holders := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/subscriptions/"+sub+"/assignments?after="+h.settled(accountID, admin, people[8]), admin, nil)
	if n := len(holders["items"].([]any)); n != assigned {
		t.Fatalf("%d holders, %d answered assigned", n, assigned)
	}
}

// Two requests at once give one user products that conflict: the
// account's license commands run one at a time, so one of them is refused
// for the product the other gave, and nobody ends up with both.
func TestLicenses_two_requests_at_once_never_give_one_user_conflicting_products(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	h.bought(accountID, admin, "office-e3", 10)
	h.bought(accountID, admin, "office-e5", 10)
	for i := range 6 {
		user := h.person(accountID, admin, fmt.Sprintf("c%d@northwind.example", i), "US", true)
		outs := make([]map[string]any, 2)
		var wg sync.WaitGroup
		for j, product := range []string{"office-e3", "office-e5"} {
			wg.Go(func() {
				_, outs[j] = h.call("POST", "/v1/accounts/"+accountID+"/licenses/assign", admin,
					map[string]any{"userIds": []string{user}, "products": products(product)})
			})
		}
		wg.Wait()
		got := map[string]int{}
		for _, out := range outs {
			for _, r := range byUser(out)[user] {
				got[r]++
			}
		}
		winners := got["office-e3:assigned"] + got["office-e5:assigned"]
		losers := got["office-e3:refused:conflicts-with-held"] + got["office-e5:refused:conflicts-with-held"]
		if winners != 1 || losers != 1 {
			t.Fatalf("user %d: outcomes %v, want one product assigned and the other refused", i, got)
		}
	}
}

// Many license commands of one account at once each get their turn: they
// used to hold every free connection of the pool waiting for the account's
// lock, and the command holding it could get none to read with, so all of
// them hung (from about 16 at once).
func TestLicenses_many_requests_of_one_account_at_once_all_answer(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	user := h.person(accountID, admin, "many@northwind.example", "US", true)
	const n = 32
	codes := make(chan int, n)
	for range n {
		go func() {
			code, _ := h.call("POST", "/v1/accounts/"+accountID+"/licenses/revoke", admin,
				map[string]any{"userIds": []string{user}, "productIds": []string{"office-e3"}})
			codes <- code
		}()
	}
	deadline := time.After(time.Minute)
	for i := range n {
		select {
		case code := <-codes:
			if code != http.StatusOK {
				t.Errorf("a request answered %d", code)
			}
		case <-deadline:
			t.Fatalf("%d of %d requests answered within a minute", i, n)
		}
	}
}

// settled is a position at or after every license event of the account:
// that of a revocation that records nothing (the user holds no Office E1).
func (h *harness) settled(accountID, admin, userID string) string {
	h.t.Helper()
	out := h.must(http.StatusOK, "POST", "/v1/accounts/"+accountID+"/licenses/revoke", admin,
		map[string]any{"userIds": []string{userID}, "productIds": []string{"office-e1"}})
	return out["position"].(string)
}

func TestLicenses_partner_roles_assign_from_what_their_partner_answers_for(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	b, bAdmin := h.partner("Beta", "ben@beta.example")
	h.serve(accountID, a)
	alphaSub, pos := h.order(accountID, aAdmin, a, "alpha-e3")
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/subscriptions/"+alphaSub+"?after="+pos, admin, nil)
	ownSub := h.bought(accountID, admin, "visio-plan-2", 5)
	us1 := h.person(accountID, admin, "us1@northwind.example", "US", true)
	_, viewer := h.member(accountID, admin, "vic@northwind.example", "account_viewer")
	h.must(http.StatusCreated, "POST", "/v1/partners/"+a+"/users", aAdmin,
		map[string]any{"email": "hal@alpha.example", "firstName": "Hal", "lastName": "Desk", "roles": []string{"helpdesk_agent"}})
	helpdesk := h.token("sub-hal", "hal@alpha.example", false)

	both := map[string]any{"userIds": []string{us1}, "products": products("office-e3", "visio-plan-2"), "partnerId": a}
	got, _ := h.assign(accountID, helpdesk, "assign", both)
	wantOutcomes(t, got, us1, "office-e3:assigned", "visio-plan-2:refused:not-enough-licenses")

	route := "/v1/accounts/" + accountID + "/licenses/assign"
	delete(both, "partnerId")
	if code, body := h.call("POST", route, helpdesk, both); code != http.StatusNotFound {
		t.Errorf("a partner user acting as the customer: %d %v", code, body)
	}
	if code, body := h.call("POST", route, viewer, both); code != http.StatusForbidden {
		t.Errorf("an account viewer: %d %v", code, body)
	}
	both["partnerId"] = b
	if code, body := h.call("POST", route, bAdmin, both); code != http.StatusNotFound {
		t.Errorf("a partner not serving the account: %d %v", code, body)
	}
	both["partnerId"] = a
	if code, body := h.call("POST", route, bAdmin, both); code != http.StatusNotFound {
		t.Errorf("a user of another partner: %d %v", code, body)
	}

	// On a subscription's own routes the partner is the one answering
	// for it.
	other := h.person(accountID, admin, "us2@northwind.example", "GB", true)
	h.must(http.StatusOK, "POST", "/v1/accounts/"+accountID+"/subscriptions/"+alphaSub+"/assign", helpdesk, map[string]any{"userIds": []string{other}})
	if code, body := h.call("POST", "/v1/accounts/"+accountID+"/subscriptions/"+ownSub+"/assign", helpdesk, map[string]any{"userIds": []string{other}}); code != http.StatusNotFound {
		t.Errorf("the customer's own subscription: %d %v", code, body)
	}
	got, _ = h.assign(accountID, helpdesk, "revoke", map[string]any{"userIds": []string{us1, other}, "productIds": []string{"office-e3"}, "partnerId": a})
	wantOutcomes(t, got, us1, "office-e3:revoked")
	wantOutcomes(t, got, other, "office-e3:revoked")
}

func TestDocs_events_md_describes_the_license_events(t *testing.T) {
	doc, err := os.ReadFile("../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"subscription.licenses_assigned", "subscription.licenses_unassigned"} {
		if event.Version(typ) != 1 || !strings.Contains(string(doc), "\n## "+typ+" (v1)") {
			t.Errorf("%s: version %d, or docs/events.md has no section ## %s (v1)", typ, event.Version(typ), typ)
		}
	}
}
