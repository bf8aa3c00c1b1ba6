package service_test

import "maps"

// licenseAuthz declares the license routes for authzTable.
var licenseAuthz = map[string][]probe{
	"GET /v1/catalog":                       {{want: "401 200 200  200 200 200 200 200 200  200", req: nothingMore}},
	"GET /v1/accounts/{accountId}/licenses": {{want: memberReads, req: func(f *fixture) request { return request{query: "?userIds=" + f.member} }}},
	"GET /v1/accounts/{accountId}/users/{userId}/licenses": {
		{want: memberReads, req: func(f *fixture) request { return user(f.member) }},
		{variant: "user of another account", want: nobody, req: func(f *fixture) request { return user(f.foreign()) }},
	},
	"GET /v1/accounts/{accountId}/subscriptions/{subscriptionId}/assignments": {{want: memberReads, req: fixtureSubscription}},
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
