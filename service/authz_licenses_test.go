package service_test

import "maps"

// orderReads: the account's Account Administrators, Account Managers,
// Reports Viewers and Account Viewers, and operators, read its
// subscriptions and licenses; other members get 403 (seed 001's roles).
// orderFinds: so too, then 404 for what is not the account's.
const (
	orderReads = "401 404 404  200 403 403 200 200 200  200"
	orderFinds = "401 404 404  404 403 403 404 404 404  404"
)

// licenseAuthz declares the license routes for authzTable.
var licenseAuthz = map[string][]probe{
	"GET /v1/catalog":                       {{want: "401 200 200  200 200 200 200 200 200  200", req: nothingMore}},
	"GET /v1/accounts/{accountId}/licenses": {{want: orderReads, req: func(f *fixture) request { return request{query: "?userIds=" + f.member} }}},
	"GET /v1/accounts/{accountId}/users/{userId}/licenses": {
		{want: orderReads, req: func(f *fixture) request { return user(f.member) }},
		{variant: "user of another account", want: orderFinds, req: func(f *fixture) request { return user(f.foreign()) }},
	},
	"GET /v1/accounts/{accountId}/subscriptions/{subscriptionId}/assignments": {{want: orderReads, req: fixtureSubscription}},
	"POST /v1/accounts/{accountId}/licenses/assign": {
		{want: sellers("200"), req: func(f *fixture) request {
			return request{body: map[string]any{"userIds": []string{f.member}, "products": products("office-e3")}}
		}},
		// Who may not assign learns nothing from the body: rights first.
		{variant: "with an invalid body", want: sellers("400"), req: func(f *fixture) request {
			return request{body: map[string]any{"userIds": []string{"nope"}, "products": products("office-e3")}}
		}},
	},
	"POST /v1/accounts/{accountId}/licenses/revoke": {{want: sellers("200"), req: func(f *fixture) request {
		return request{body: map[string]any{"userIds": []string{f.member}, "productIds": []string{"visio-plan-2"}}}
	}}},
	"POST /v1/accounts/{accountId}/subscriptions/{subscriptionId}/assign": {{want: sellers("200"), req: func(f *fixture) request {
		r := fixtureSubscription(f)
		r.body = map[string]any{"userIds": []string{f.member}}
		return r
	}}},
	"POST /v1/accounts/{accountId}/subscriptions/{subscriptionId}/unassign": {{want: sellers("200"), req: func(f *fixture) request {
		r := fixtureSubscription(f)
		r.body = map[string]any{"userIds": []string{f.member}}
		return r
	}}},
}

func init() { maps.Copy(authzTable, licenseAuthz) }
