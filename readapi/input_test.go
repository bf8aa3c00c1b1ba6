package readapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
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
