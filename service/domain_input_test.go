package service_test

import (
	"net/http"
	"strings"
	"testing"
)

// A domain to add whose xn-- label is no A-label of any name is bad
// input: 400 naming the field, and the account lists nothing.
func TestDomains_a_label_that_is_no_A_label_is_refused_naming_the_field(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	code, body := h.call("PUT", "/v1/accounts/"+accountID+"/domains/xn--a.com", admin, nil)
	if code != http.StatusBadRequest || !namesField(body, "domain") {
		t.Fatalf("xn--a.com: %d %v", code, body)
	}
	// A removal takes it: one an earlier release added must go.
	h.must(http.StatusOK, "DELETE", "/v1/accounts/"+accountID+"/domains/xn--a.com", admin, nil)
	out := h.must(http.StatusOK, "PUT", "/v1/accounts/"+accountID+"/domains/XN--BCHER-KVA.example", admin, nil)
	if d := out["domains"].([]any); len(d) != 1 || d[0] != "xn--bcher-kva.example" {
		t.Fatalf("domains %v", d)
	}
}

// Seed 001: an account's domain is its organization's, where its people's
// work accounts are. A consumer mail service's (gmail.com, Outlook.com)
// is nobody's organization, and an invitation there is refused as a
// personal mailbox: adding one is bad input naming the field, and
// nothing is listed or reserved (the first account to add outlook.com
// held it against every other). A removal takes it, as one an earlier
// release added must go.
func TestDomains_a_consumer_mail_domain_is_refused_naming_the_field(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	domains := "/v1/accounts/" + accountID + "/domains/"
	for _, d := range []string{"gmail.com", "Outlook.com.", "NAVER.COM"} {
		code, body := h.call("PUT", domains+d, admin, nil)
		if code != http.StatusBadRequest || !namesField(body, "domain") || !strings.Contains(problemReasons(body), "consumer mail") {
			t.Fatalf("%s: %d %v", d, code, body)
		}
	}
	h.must(http.StatusOK, "DELETE", domains+"gmail.com", admin, nil)
	out := h.must(http.StatusOK, "PUT", domains+"outlook.com.northwind.example", admin, nil)
	if d := out["domains"].([]any); len(d) != 1 || d[0] != "outlook.com.northwind.example" {
		t.Fatalf("domains %v", d)
	}
}
