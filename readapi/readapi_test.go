package readapi

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestRoutes_declare_what_the_openapi_document_needs(t *testing.T) {
	want := map[string]int{
		"GET /v1/accounts/{accountId}":                http.StatusNotFound,
		"GET /v1/accounts/{accountId}/users":          http.StatusNotFound,
		"GET /v1/accounts/{accountId}/users/{userId}": http.StatusNotFound,
		"GET /v1/me": http.StatusServiceUnavailable,
		"GET /v1/accounts/{accountId}/subscriptions":                      http.StatusNotFound,
		"GET /v1/accounts/{accountId}/subscriptions/{subscriptionId}":     http.StatusNotFound,
		"GET /v1/accounts/{accountId}/partners":                           http.StatusNotFound,
		"GET /v1/accounts/{accountId}/partner-visibility":                 http.StatusNotFound,
		"GET /v1/partners/{partnerId}":                                    http.StatusNotFound,
		"GET /v1/partners/{partnerId}/accounts":                           http.StatusNotFound,
		"GET /v1/partners/{partnerId}/accounts/{accountId}/subscriptions": http.StatusNotFound,
		// Billing (the account's Account Administrators and Account
		// Managers) and the partner's membership benefits.
		"GET /v1/accounts/{accountId}/billing-profiles":                    http.StatusForbidden,
		"GET /v1/accounts/{accountId}/billing-profiles/{billingProfileId}": http.StatusForbidden,
		"GET /v1/accounts/{accountId}/invoices":                            http.StatusForbidden,
		"GET /v1/accounts/{accountId}/invoices/{invoiceId}":                http.StatusForbidden,
		"GET /v1/partners/{partnerId}/benefits":                            http.StatusNotFound,
		"GET /v1/partners/{partnerId}/benefit-packages":                    http.StatusNotFound,
		"GET /v1/partners/{partnerId}/benefit-packages/{packageId}":        http.StatusNotFound,
		// Licenses (members).
		"GET /v1/accounts/{accountId}/licenses":                                   http.StatusNotFound,
		"GET /v1/accounts/{accountId}/users/{userId}/licenses":                    http.StatusNotFound,
		"GET /v1/accounts/{accountId}/subscriptions/{subscriptionId}/assignments": http.StatusNotFound,
		// The auditors' routes (operators only), which wait for ?after on
		// the audit read model.
		"GET /v1/audit/events":            http.StatusForbidden,
		"GET /v1/audit/correlations/{id}": http.StatusForbidden,
	}
	routes := Routes(Deps{})
	for _, r := range routes {
		key := r.Method + " " + r.Path
		status, ok := want[key]
		waits := r.Query["after"] != ""
		if !ok || r.Summary == "" || r.Access == "" || r.Response == nil || r.Handler == nil ||
			r.Success != http.StatusOK || !waits || !slices.Contains(r.Statuses, status) ||
			!slices.Contains(r.Statuses, http.StatusUnauthorized) {
			t.Errorf("%s: incomplete declaration %+v", key, r)
		}
	}
	if len(routes) != len(want) {
		t.Errorf("%d routes, want %d", len(routes), len(want))
	}
}

func TestListUsers_answers_the_contract_s_json_fields(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	var raw map[string]any
	f.ok(admin, usersPath(acc, url.Values{"status": {"pending"}, "sort": {"-invitedAt"}}), &raw)
	if _, ok := raw["nextCursor"]; !ok || raw["nextCursor"] != nil || raw["total"] != 2.0 {
		t.Fatalf("got %v, want nextCursor null and total 2", raw)
	}
	counts := raw["counts"].(map[string]any)
	for _, k := range []string{"all", "pending", "active", "expired"} {
		if _, ok := counts[k]; !ok {
			t.Errorf("counts lacks %s: %v", k, counts)
		}
	}
	item := raw["items"].([]any)[0].(map[string]any)
	for _, k := range []string{"userId", "email", "firstName", "lastName", "status", "roles", "invitedAt", "invitationExpiresAt", "activatedAt"} {
		if _, ok := item[k]; !ok {
			t.Errorf("item lacks %s: %v", k, item)
		}
	}
	if item["email"] != "Bob.Jones@CONTOSO.example" || item["activatedAt"] != nil || item["invitedAt"] != "2026-02-19T12:00:00Z" {
		t.Errorf("item %v: want bob first (newest invitation), activatedAt null, invitedAt in UTC", item)
	}
}
