package service_test

import (
	"strings"
	"testing"
)

// Fuzz targets of the partner and subscription command bodies; see
// fuzzBody for what each input must satisfy.

func FuzzRegisterPartner(f *testing.F) {
	fuzzBody(f, []string{
		`{"name":"Alpha","admin":{"email":"ann@alpha.example","firstName":"Ann","lastName":"Alpha"}}`,
		`{"name":"Alpha","admin":{"email":"ann@alpha.example","firstName":"Ann","lastName":"Alpha","roles":["sales_agent"]}}`,
		`{"name":"","admin":{"email":"ann","firstName":"\u0001","lastName":"` + strings.Repeat("x", 101) + `"}}`,
		`{"name":"Alpha","admin":null}`, `{"name":1}`, `{"admin":[]}`, `null`, `{}`, `{"name":"A"`,
	}, func(h *harness) fuzzRoute {
		return fuzzRoute{method: "POST", path: "/v1/partners", token: h.token("op-1", "ops@bizcenter.example", true)}
	})
}

func FuzzGrantPartnerVisibility(f *testing.F) {
	fuzzBody(f, []string{
		`{"granteePartnerId":"$a","sourcePartnerId":"$b"}`, `{"granteePartnerId":"$b","sourcePartnerId":"$a"}`,
		`{"granteePartnerId":"$a","sourcePartnerId":"$a"}`, `{"granteePartnerId":"$a","sourcePartnerId":"$c"}`,
		`{"granteePartnerId":"$a"}`, `{"granteePartnerId":"not-a-uuid","sourcePartnerId":7}`,
		`{"granteePartnerId":"00000000-0000-0000-0000-000000000000","sourcePartnerId":"$b"}`, `null`, `[]`, ``,
	}, func(h *harness) fuzzRoute {
		accountID, admin := h.registered()
		a, _ := h.partner("Alpha", "ann@alpha.example")
		b, _ := h.partner("Beta", "ben@beta.example")
		c, _ := h.partner("Gamma", "gil@gamma.example")
		h.serve(accountID, a)
		h.serve(accountID, b)
		return fuzzRoute{method: "POST", path: "/v1/accounts/" + accountID + "/partner-visibility/grants", token: admin,
			vars: map[string]string{"a": a, "b": b, "c": c}}
	})
}

func FuzzPurchaseSubscription(f *testing.F) {
	fuzzBody(f, []string{
		`{"productId":"office-e3","productName":"Office E3","name":"Team","expiresAt":"2027-05-01T00:00:00Z","price":{"amount":"1234.50","currency":"USD"},"totalLicenses":100}`,
		`{"productId":"office-e3","productName":"Office E3","name":"Team","expiresAt":"2027-05-01T00:00:00Z","price":{"amount":"0","currency":"krw"},"totalLicenses":1,"orderingPartnerId":"$a"}`,
		`{"productId":"Office E3","productName":"","name":"\u0000","expiresAt":"2020-01-01T00:00:00Z","price":{"amount":"-1e9","currency":"XXX"},"totalLicenses":0}`,
		`{"productId":"p","productName":"P","name":"N","expiresAt":"2099-01-01T00:00:00Z","price":{"amount":1.5,"currency":"USD"},"totalLicenses":1}`,
		`{"productId":"p","productName":"P","name":"N","expiresAt":"tomorrow","price":null,"totalLicenses":1e12}`,
		`{"productId":"p","orderingPartnerId":"nope"}`, `null`, `{}`, `{"price":{}}`,
	}, func(h *harness) fuzzRoute {
		accountID, admin := h.registered()
		a, _ := h.partner("Alpha", "ann@alpha.example")
		h.serve(accountID, a)
		return fuzzRoute{method: "POST", path: "/v1/accounts/" + accountID + "/subscriptions", token: admin, vars: map[string]string{"a": a}}
	})
}

func FuzzCancelSubscription(f *testing.F) {
	fuzzBody(f, []string{
		`{"reason":"too_expensive"}`, `{"reason":"other","feedback":"line one\nline two"}`,
		`{"reason":"other","feedback":"` + strings.Repeat("y", 2001) + `"}`, `{"reason":"bored"}`,
		`{"reason":null}`, `{"reason":"other","feedback":"\u0007"}`, `{}`, `[]`, `{"reason":`,
	}, func(h *harness) fuzzRoute {
		accountID, admin := h.registered()
		id, _ := h.order(accountID, admin, "", "fuzzed")
		return fuzzRoute{method: "POST", path: "/v1/accounts/" + accountID + "/subscriptions/" + id + "/cancel", token: admin}
	})
}

func FuzzDesignateManager(f *testing.F) {
	fuzzBody(f, []string{
		`{"email":"mia@northwind.example","firstName":"Mia","lastName":"Ng","language":"en","country":"US"}`,
		`{"email":"` + managerEmail + `","firstName":"N","lastName":"W","language":"en","country":"US"}`,
		`{"email":"mia@northwind.example","firstName":"Mia","lastName":"Ng","language":"en","country":"US","roles":["account_viewer"]}`,
		`{"email":"","firstName":"","lastName":"","language":"x","country":"ZZ"}`, `null`, `{}`, `{"email":[]}`,
	}, func(h *harness) fuzzRoute {
		accountID, _ := h.registered()
		return fuzzRoute{method: "PUT", path: "/v1/accounts/" + accountID + "/manager", token: h.token("op-1", "ops@bizcenter.example", true)}
	})
}
