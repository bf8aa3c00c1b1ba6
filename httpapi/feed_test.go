package httpapi

import (
	"net/http/httptest"
	"testing"
)

const feedAccount = "0b9f8a4e-3c2d-4e5f-8a7b-1c2d3e4f5a6b"

func TestParseFeed_takes_an_account_in_any_UUID_form(t *testing.T) {
	for _, given := range []string{feedAccount, "0B9F8A4E-3C2D-4E5F-8A7B-1C2D3E4F5A6B", "%7B" + feedAccount + "%7D", "urn:uuid:" + feedAccount, "0b9f8a4e3c2d4e5f8a7b1c2d3e4f5a6b"} {
		fq, p := parseFeed(httptest.NewRequest("GET", "/v1/feed?account="+given, nil))
		if p != nil || fq.account != feedAccount {
			t.Errorf("%s: account %q, %+v", given, fq.account, p)
		}
	}
}

func TestParseFeed_names_the_bad_parameter(t *testing.T) {
	for query, field := range map[string]string{"account=nope": "account", "after=bogus": "after"} {
		_, p := parseFeed(httptest.NewRequest("GET", "/v1/feed?"+query, nil))
		if p == nil || len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("?%s: %+v, want 400 naming %s", query, p, field)
		}
	}
	r := httptest.NewRequest("GET", "/v1/feed?after=bogus", nil)
	r.Header.Set("Last-Event-ID", "bogus")
	if _, p := parseFeed(r); p == nil || p.Errors[0].Field != "Last-Event-ID" {
		t.Errorf("a bad Last-Event-ID: %+v", p)
	}
}
