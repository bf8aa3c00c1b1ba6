package service_test

import (
	"net/http"
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
