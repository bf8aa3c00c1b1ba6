package service_test

import (
	"maps"
	"net/http"
	"strings"
	"time"
)

// billingReads: the account's Account Administrators and Account
// Managers, and operators, read its billing; other members get 403.
const billingReads = "401 404 404  200 403 403 200 403 403  200"

// billingAuthz are the billing and benefit routes of authzTable.
var billingAuthz = map[string][]probe{
	"POST /v1/accounts/{accountId}/billing-profiles": {{want: sellers("201"), req: func(f *fixture) request {
		return request{body: map[string]any{"name": f.fresh("profile")}}
	}}},
	"POST /v1/accounts/{accountId}/billing-profiles/{billingProfileId}/payment-methods": {{want: sellers("201"), req: func(f *fixture) request {
		r := fixtureProfile(f)
		r.body = card("4242424242424242", "123", 12, 2030)
		return r
	}}},
	"PATCH /v1/accounts/{accountId}/billing-profiles/{billingProfileId}/payment-methods/{paymentMethodId}": {{want: sellers("200"), req: func(f *fixture) request {
		r := fixtureCard(f)
		r.body = map[string]any{"securityCode": "321"}
		return r
	}}},
	"POST /v1/accounts/{accountId}/billing-profiles/{billingProfileId}/payment-methods/{paymentMethodId}/replace": {{want: sellers("201"), req: func(f *fixture) request {
		r := fixtureCard(f)
		r.body = card("5555555555554444", "123", 12, 2030)
		return r
	}}},
	"DELETE /v1/accounts/{accountId}/billing-profiles/{billingProfileId}/payment-methods/{paymentMethodId}": {{want: sellers("200"), req: fixtureCard}},
	"GET /v1/accounts/{accountId}/billing-profiles":                                                         {{want: billingReads, req: nothingMore}},
	"GET /v1/accounts/{accountId}/billing-profiles/{billingProfileId}": {{want: billingReads, req: func(f *fixture) request {
		out := f.must(http.StatusCreated, "POST", "/v1/accounts/"+f.account+"/billing-profiles", f.admin, map[string]any{"name": f.fresh("profile")})
		return request{vars: map[string]string{"billingProfileId": out["billingProfileId"].(string)}, query: "?after=" + out["position"].(string)}
	}}},
	"GET /v1/accounts/{accountId}/invoices":             {{want: billingReads, req: nothingMore}},
	"GET /v1/accounts/{accountId}/invoices/{invoiceId}": {{want: billingReads, req: fixtureInvoice}},

	// Benefits are the partner's: the customer's principals are none of
	// its users; operators may do anything.
	"POST /v1/partners/{partnerId}/benefit-packages": {{want: partnerOperator("201"), req: func(f *fixture) request {
		return request{vars: map[string]string{"partnerId": f.partnerA}, body: actionPack()}
	}}},
	"POST /v1/partners/{partnerId}/benefit-packages/{packageId}/benefits/{benefitId}/product-key": {{want: partnerOperator("200"), req: func(f *fixture) request {
		r := fixtureBenefit(f, "software")
		r.body = map[string]any{"language": "en-US", "os": "linux-x64"}
		return r
	}}},
	"PUT /v1/partners/{partnerId}/benefit-packages/{packageId}/benefits/{benefitId}/company-assignment": {{want: partnerOperator("200"), req: func(f *fixture) request {
		return fixtureBenefit(f, "cloud")
	}}},
	"POST /v1/partners/{partnerId}/benefit-packages/{packageId}/benefits/{benefitId}/assignees": {{want: partnerOperator("201"), req: func(f *fixture) request {
		r := fixtureBenefit(f, "visual_studio")
		r.body = map[string]any{"userId": partnerUser(f).vars["userId"]}
		return r
	}}},
	"PUT /v1/partners/{partnerId}/benefit-packages/{packageId}/benefits/{benefitId}/assignees/{userId}": {{want: partnerOperator("200"), req: func(f *fixture) request {
		r := fixtureAssignee(f)
		r.body = map[string]any{"userId": partnerUser(f).vars["userId"]}
		return r
	}}},
	"DELETE /v1/partners/{partnerId}/benefit-packages/{packageId}/benefits/{benefitId}/assignees/{userId}": {{want: partnerOperator("200"), req: fixtureAssignee}},
	"PUT /v1/partners/{partnerId}/benefit-packages/{packageId}/marketing-contact": {{want: partnerOperator("200"), req: func(f *fixture) request {
		r := fixtureBenefit(f, "go_to_market")
		r.body = marketingContact(partnerUser(f).vars["userId"])
		return r
	}}},
	"POST /v1/partners/{partnerId}/benefit-packages/{packageId}/benefits/{benefitId}/activation": {{want: partnerOperator("200"), req: func(f *fixture) request {
		r := fixtureBenefit(f, "go_to_market")
		f.must(http.StatusOK, "PUT", "/v1/partners/"+f.partnerA+"/benefit-packages/"+r.vars["packageId"]+"/marketing-contact", f.op,
			marketingContact(partnerUser(f).vars["userId"]))
		return r
	}}},
	"POST /v1/partners/{partnerId}/benefit-packages/{packageId}/cancel": {{want: partnerOperator("200"), req: func(f *fixture) request {
		r := fixtureBenefit(f, "software")
		r.body = map[string]any{"refund": true}
		return r
	}}},
	"GET /v1/partners/{partnerId}/benefits":         {{want: partnerOperator("200"), req: partnerA}},
	"GET /v1/partners/{partnerId}/benefit-packages": {{want: partnerOperator("200"), req: partnerA}},
	"GET /v1/partners/{partnerId}/benefit-packages/{packageId}": {{want: partnerOperator("200"), req: func(f *fixture) request {
		p := f.buyPack(f.partnerA, f.op)
		return request{vars: map[string]string{"partnerId": f.partnerA, "packageId": p.path[strings.LastIndex(p.path, "/")+1:]}, query: "?after=" + p.position}
	}}},
}

func init() { maps.Copy(authzTable, billingAuthz) }

// fixtureProfile creates a billing profile of the account.
func fixtureProfile(f *fixture) request {
	return request{vars: map[string]string{"billingProfileId": f.profile(f.account, f.admin, f.fresh("profile"))}}
}

// fixtureCard creates a billing profile with a card.
func fixtureCard(f *fixture) request {
	r := fixtureProfile(f)
	out := f.must(http.StatusCreated, "POST", "/v1/accounts/"+f.account+"/billing-profiles/"+r.vars["billingProfileId"]+"/payment-methods",
		f.admin, card("4242424242424242", "123", 12, 2030))
	r.vars["paymentMethodId"] = out["paymentMethodId"].(string)
	return r
}

// fixtureInvoice is the invoice of the fixture's subscription, once the
// billing read model has it.
func fixtureInvoice(f *fixture) request {
	deadline := time.Now().Add(10 * time.Second)
	for {
		items := f.must(http.StatusOK, "GET", "/v1/accounts/"+f.account+"/invoices", f.op, nil)["items"].([]any)
		if len(items) > 0 {
			return request{vars: map[string]string{"invoiceId": items[0].(map[string]any)["invoiceId"].(string)}}
		}
		if time.Now().After(deadline) {
			f.t.Fatal("no invoice of the fixture's subscription within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fixtureBenefit buys a package for partner A as an operator and names
// its benefit of a kind.
func fixtureBenefit(f *fixture, kind string) request {
	p := f.buyPack(f.partnerA, f.op)
	path := p.benefits[kind]
	pkg := strings.TrimPrefix(p.path, "/v1/partners/"+f.partnerA+"/benefit-packages/")
	return request{vars: map[string]string{"partnerId": f.partnerA, "packageId": pkg, "benefitId": path[strings.LastIndex(path, "/")+1:]}}
}

// fixtureAssignee assigns a fresh user of partner A to a Visual Studio
// subscription.
func fixtureAssignee(f *fixture) request {
	r := fixtureBenefit(f, "visual_studio")
	user := partnerUser(f).vars["userId"]
	f.must(http.StatusCreated, "POST", "/v1/partners/"+f.partnerA+"/benefit-packages/"+r.vars["packageId"]+"/benefits/"+r.vars["benefitId"]+"/assignees",
		f.op, map[string]any{"userId": user})
	r.vars["userId"] = user
	return r
}

func marketingContact(userID string) map[string]any {
	return map[string]any{"userId": userID, "alternateEmail": "marketing@alpha-mail.example", "phone": "+1 425 555 0100", "language": "en-US"}
}
