package service_test

import (
	"net/http"
	"testing"
)

// An erased user acts as nobody and never signs in again, yet the users
// read model lists them active: licenses were assigned to them, paid
// seats nobody can use. Both routes refuse them (user-erased); what they
// held before may still be revoked.
func TestErasure_erased_user_is_refused_new_licenses(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	op := h.token("op-erase", "ops@bizcenter.example", true)
	e3 := h.bought(accountID, admin, "office-e3", 3)
	h.bought(accountID, admin, "visio-plan-2", 3)
	gone := h.person(accountID, admin, "gone.licensed@northwind.example", "US", true)
	got, _ := h.assign(accountID, admin, "assign", map[string]any{"userIds": []string{gone}, "products": products("office-e3")})
	wantOutcomes(t, got, gone, "office-e3:assigned")

	erased := h.must(http.StatusOK, "POST", "/v1/accounts/"+accountID+"/users/"+gone+"/erasure", op, map[string]any{"reason": "verified request #77"})
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+erased["position"].(string), admin, nil)

	got, _ = h.assign(accountID, admin, "assign", map[string]any{"userIds": []string{gone}, "products": products("visio-plan-2")})
	wantOutcomes(t, got, gone, "visio-plan-2:refused:user-erased")
	code, out := h.call("POST", "/v1/accounts/"+accountID+"/subscriptions/"+e3+"/unassign", admin, map[string]any{"userIds": []string{gone}})
	if code != http.StatusOK {
		t.Fatalf("unassigning the erased user: %d %v", code, out)
	}
	code, out = h.call("POST", "/v1/accounts/"+accountID+"/subscriptions/"+e3+"/assign", admin, map[string]any{"userIds": []string{gone}})
	if errs, _ := out["errors"].([]any); code != http.StatusUnprocessableEntity || len(errs) != 1 ||
		errs[0].(map[string]any)["reason"] != "user-erased" {
		t.Fatalf("self-service assignment to the erased user: %d %v", code, out)
	}
}
