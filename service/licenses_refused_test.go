package service_test

import (
	"net/http"
	"testing"
)

// A user of the partner answering for a subscription whose partner roles
// do not assign licenses sees the subscription in their partner's list:
// the subscription's own routes answer 403, as the bulk routes and the
// subscription's new total do, not the 404 of what they cannot see.
func TestLicenses_a_partner_user_without_an_assigning_role_is_forbidden_on_a_subscription_it_sees(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	h.serve(accountID, a)
	alphaSub, pos := h.order(accountID, aAdmin, a, "alpha-e3")
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/subscriptions/"+alphaSub+"?after="+pos, admin, nil)
	us1 := h.person(accountID, admin, "us1@northwind.example", "US", true)
	added := h.must(http.StatusCreated, "POST", "/v1/partners/"+a+"/users", aAdmin,
		map[string]any{"email": "nia@alpha.example", "firstName": "Nia", "lastName": "Network", "roles": []string{"partner_network_admin"}})
	networkAdmin := h.token("sub-nia", "nia@alpha.example", false)

	list := h.must(http.StatusOK, "GET", "/v1/partners/"+a+"/accounts/"+accountID+"/subscriptions?after="+added["position"].(string), networkAdmin, nil)
	if names(t, list)[0] != "alpha-e3" {
		t.Fatalf("the partner network admin's list %v", list)
	}
	if code, body := h.call("POST", "/v1/accounts/"+accountID+"/licenses/assign", networkAdmin,
		map[string]any{"userIds": []string{us1}, "products": products("office-e3"), "partnerId": a}); code != http.StatusForbidden {
		t.Errorf("bulk assign: %d %v", code, body)
	}
	sub := "/v1/accounts/" + accountID + "/subscriptions/" + alphaSub
	for _, route := range []string{"/assign", "/unassign"} {
		if code, body := h.call("POST", sub+route, networkAdmin, map[string]any{"userIds": []string{us1}}); code != http.StatusForbidden {
			t.Errorf("%s: %d %v, want 403", route, code, body)
		}
	}
}

func TestLicenses_self_service_unassign_answers_not_held_for_a_user_holding_the_product_through_another_subscription(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	first := h.bought(accountID, admin, "visio-plan-2", 2)
	second := h.bought(accountID, admin, "visio-plan-2", 2)
	a := h.person(accountID, admin, "a@northwind.example", "US", true)
	b := h.person(accountID, admin, "b@northwind.example", "US", true)
	h.must(http.StatusOK, "POST", "/v1/accounts/"+accountID+"/subscriptions/"+first+"/assign", admin, map[string]any{"userIds": []string{a}})
	h.must(http.StatusOK, "POST", "/v1/accounts/"+accountID+"/subscriptions/"+second+"/assign", admin, map[string]any{"userIds": []string{b}})

	// b holds none of the first subscription's licenses: nothing of
	// the second is the customer's to be refused, and a goes back.
	out := h.must(http.StatusOK, "POST", "/v1/accounts/"+accountID+"/subscriptions/"+first+"/unassign", admin, map[string]any{"userIds": []string{a, b}})
	got := byUser(out)
	wantOutcomes(t, got, a, "visio-plan-2:revoked")
	wantOutcomes(t, got, b, "visio-plan-2:not_held")
	one := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users/"+b+"/licenses?after="+out["position"].(string), admin, nil)
	if ls := one["licenses"].([]any); len(ls) != 1 || ls[0].(map[string]any)["subscriptionId"] != second {
		t.Fatalf("b keeps the second subscription's license: %v", one)
	}
}
