package readapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

func TestReads_reject_bad_parameters_naming_each_field(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	users := "/v1/accounts/" + acc.String() + "/users"
	garbage := base64.RawURLEncoding.EncodeToString([]byte(`{"s":"email","k":["a","not-a-uuid"]}`))
	for _, tc := range []struct {
		path   string
		fields []string
	}{
		{"/v1/accounts/nope", []string{"accountId"}},
		{"/v1/accounts/nope/users", []string{"accountId"}},
		{users + "/42", []string{"userId"}},
		{"/v1/accounts/x/users/y", []string{"accountId", "userId"}},
		{users + "?status=gone", []string{"status"}},
		{users + "?status=ACTIVE", []string{"status"}},
		{users + "?role=admin", []string{"role"}},
		{users + "?sort=age", []string{"sort"}},
		{users + "?sort=--email", []string{"sort"}},
		{users + "?limit=0", []string{"limit"}},
		{users + "?limit=501", []string{"limit"}},
		{users + "?limit=ten", []string{"limit"}},
		{users + "?cursor=%25%25%25", []string{"cursor"}},
		{users + "?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("[1,2]")), []string{"cursor"}},
		{users + "?cursor=" + garbage, []string{"cursor"}},
		{users + "?sort=invitedAt&cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{"s":"invitedAt","k":["yesterday","`+acc.String()+`"]}`)), []string{"cursor"}},
		{users + "?email=" + url.QueryEscape(string(make([]byte, 321))), []string{"email"}},
		{users + "?after=12", []string{"after"}},
		{"/v1/me?after=1-x", []string{"after"}},
		{"/v1/accounts/" + acc.String() + "?after=-1-2", []string{"after"}},
		{users + "?status=x&role=y&sort=z&limit=-1", []string{"limit", "status", "role", "sort"}},
	} {
		p := f.problem(admin, tc.path, http.StatusBadRequest)
		var got []string
		for _, e := range p.Errors {
			got = append(got, e.Field)
			if e.Reason == "" {
				t.Errorf("%s: field %s has no reason", tc.path, e.Field)
			}
		}
		if !slices.Equal(got, tc.fields) {
			t.Errorf("%s: fields %v, want %v", tc.path, got, tc.fields)
		}
	}
}

func TestReads_reject_a_malformed_after_header(t *testing.T) {
	f := newFixture(t, time.Second)
	req, _ := http.NewRequest(http.MethodGet, "/v1/me", nil)
	req.Header.Set(principalHeader, admin)
	req.Header.Set(afterHeader, "soon")
	rec := serve(f, req)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", rec.Code)
	}
}

// 0001-01-01 is a date like any other, though it is the zero time's: a
// range naming it is judged as given, never read as one left out (which
// answered a range of the last 3 months, or blamed from for missing).
func TestReads_judge_a_range_from_the_year_1_as_given(t *testing.T) {
	f := newFixture(t, time.Second)
	invoices := "/v1/accounts/" + contoso(f).String() + "/invoices"
	for _, tc := range []struct{ path, field string }{
		{invoices + "?from=0001-01-01", "to"},
		{invoices + "?to=0001-01-01", "from"},
		{invoices + "?period=last-6-months&from=0001-01-01", "period"},
		{invoices + "?from=0001-01-01&to=9999-12-31", "to"},
		{invoices + "?from=0001-01-02&to=0001-01-01", "to"},
		{"/v1/audit/events?from=0001-01-01T00:00:00Z&to=0000-12-31T23:00:00Z", "to"},
	} {
		caller := admin
		if strings.HasPrefix(tc.path, "/v1/audit/") {
			caller = operator
		}
		var p kit.Problem
		res := f.get(caller, tc.path, &p)
		if res.StatusCode != http.StatusBadRequest || len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
			t.Errorf("%s: %d %+v, want 400 naming %s", tc.path, res.StatusCode, p.Errors, tc.field)
		}
	}
}
