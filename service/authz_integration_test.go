package service_test

import (
	"maps"
	"net/http"
)

// integrationAuthz are the authorization rows of the integration routes
// (the feed, the webhooks), merged into authzTable.
var integrationAuthz = map[string][]probe{
	// Anyone signed in reads the feed: it holds only what they may see
	// (TestFeed_*). follow=false ends the stream once the log is read.
	"GET /v1/feed": {{want: "401 200 200  200 200 200 200 200 200  200", req: func(*fixture) request {
		return request{query: "?follow=false"}
	}}},
	// Webhooks are the Account Administrators' (and operators').
	"POST /v1/accounts/{accountId}/webhooks": {{want: "401 404 404  201 403 403 403 403 403  201", req: func(*fixture) request {
		return request{body: map[string]any{"url": "https://hooks.example/bizcenter"}}
	}}},
	"GET /v1/accounts/{accountId}/webhooks": {{want: domainAdmin, req: nothingMore}},
	"DELETE /v1/accounts/{accountId}/webhooks/{webhookId}": {{want: domainAdmin, req: func(f *fixture) request {
		return request{vars: map[string]string{"webhookId": f.hook()}}
	}}},
	"POST /v1/accounts/{accountId}/webhooks/{webhookId}/resume": {{want: domainAdmin, req: func(f *fixture) request {
		return request{vars: map[string]string{"webhookId": f.hook()}}
	}}},
	"POST /v1/accounts/{accountId}/webhooks/{webhookId}/secret": {{want: domainAdmin, req: func(f *fixture) request {
		return request{vars: map[string]string{"webhookId": f.hook()}}
	}}},
}

// hook registers a webhook in the account under test and returns its id.
func (f *fixture) hook() string {
	out := f.must(http.StatusCreated, "POST", "/v1/accounts/"+f.account+"/webhooks", f.op, map[string]any{"url": "https://hooks.example/" + f.fresh("h")})
	return out["webhookId"].(string)
}

func init() { maps.Copy(authzTable, integrationAuthz) }
