package readapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestGetAccount_counts_users_by_status_at_the_clock_s_now(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	var got Account
	f.ok(admin, "/v1/accounts/"+acc.String(), &got)
	want := Account{AccountID: acc.String(), Name: "Contoso", AgreementNumber: "AG-Contoso", PurchaseAccountNumber: "PA-Contoso",
		Domains: []string{"contoso.example"}, UserCounts: Counts{All: 4, Pending: 2, Active: 1, Expired: 1}}
	if got.AccountID != want.AccountID || got.Name != want.Name || got.AgreementNumber != want.AgreementNumber ||
		got.PurchaseAccountNumber != want.PurchaseAccountNumber || !slices.Equal(got.Domains, want.Domains) || got.UserCounts != want.UserCounts {
		t.Errorf("got %+v, want %+v", got, want)
	}
	f.clock.Advance(365 * 24 * time.Hour)
	f.ok(admin, "/v1/accounts/"+acc.String(), &got)
	if want := (Counts{All: 4, Active: 1, Expired: 3}); got.UserCounts != want {
		t.Errorf("a year on: %+v, want %+v", got.UserCounts, want)
	}
}

func TestGetAccount_answers_an_empty_account_to_an_operator(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := f.account("Empty")
	var got Account
	f.ok("ops@bizcenter.example;operator", "/v1/accounts/"+acc.String(), &got)
	if got.Name != "Empty" || got.UserCounts != (Counts{}) {
		t.Errorf("got %+v", got)
	}
}

func TestReads_hide_accounts_from_non_members_with_404(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	other := f.account("Fabrikam")
	fabrikamUser := f.user(other, seedUser{email: "erin@fabrikam.example", first: "Erin", last: "Ray", active: true})
	contosoUser := f.user(acc, seedUser{email: "frank@contoso.example", first: "Frank", last: "Fox"})
	for _, tc := range []struct{ name, caller, path string }{
		{"other account's active user", "erin@fabrikam.example", "/v1/accounts/" + acc.String()},
		{"other account's active user, users", "erin@fabrikam.example", "/v1/accounts/" + acc.String() + "/users"},
		{"other account's active user, a user", "erin@fabrikam.example", "/v1/accounts/" + acc.String() + "/users/" + contosoUser.String()},
		{"pending user of the account", "frank@contoso.example", "/v1/accounts/" + acc.String()},
		{"expired user of the account", "dave@contoso.example", "/v1/accounts/" + acc.String() + "/users"},
		{"unknown account", admin, "/v1/accounts/" + uuid.NewString()},
		{"unknown account, operator", "ops@bizcenter.example;operator", "/v1/accounts/" + uuid.NewString() + "/users"},
		{"user of another account", admin, "/v1/accounts/" + acc.String() + "/users/" + fabrikamUser.String()},
		{"unknown user", admin, "/v1/accounts/" + acc.String() + "/users/" + uuid.NewString()},
	} {
		if p := f.problem(tc.caller, tc.path, http.StatusNotFound); p.Detail != "no such resource" {
			t.Errorf("%s: detail %q reveals more than not found", tc.name, p.Detail)
		}
	}
}

func TestReads_let_members_in_case_insensitively_and_operators_everywhere(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	for _, caller := range []string{"ALICE@contoso.EXAMPLE", "ops@bizcenter.example;operator"} {
		f.ok(caller, "/v1/accounts/"+acc.String(), &Account{})
		f.ok(caller, "/v1/accounts/"+acc.String()+"/users", &UserPage{})
	}
}

func TestReads_need_a_principal(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	for _, path := range []string{"/v1/me", "/v1/accounts/" + acc.String(), "/v1/accounts/" + acc.String() + "/users",
		"/v1/accounts/" + acc.String() + "/users/" + uuid.NewString()} {
		f.problem("", path, http.StatusUnauthorized)
	}
}

// Counts come from per-hour tallies of expiry: at any moment, also inside
// an hour some of whose invitations have expired and some not, and on the
// instant one expires, they agree with the users counted one by one, for
// the account and for a list filtered by status. An invitation whose
// expiry is recorded is expired at every moment, before its end too (a
// clock behind the sweeper's), in the hour it ends in or another.
func TestCounts_agree_with_the_users_at_every_moment_of_an_hour(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := f.account("Tallies")
	const operator = "ops@bizcenter.example;operator"
	var expiries []time.Time
	recorded := map[time.Time]bool{}
	for k := range 15 {
		at := t0.Add(time.Duration(k) * 13 * time.Minute)
		id := f.user(acc, seedUser{email: fmt.Sprintf("p%d@tallies.example", k), first: "P", last: fmt.Sprint(k), invitedAt: at, active: k%5 == 4})
		if k%5 != 4 {
			expiries = append(expiries, at.Add(invitationTTL))
		}
		if k == 1 || k == 7 {
			f.exec(`UPDATE rm_users SET invitation_expiry_recorded = true WHERE user_id = $1`, id)
			recorded[at.Add(invitationTTL)] = true
		}
	}
	end := t0.Add(invitationTTL)
	for _, now := range []time.Time{t0, end.Add(-time.Minute), end, end.Add(26 * time.Minute), end.Add(39*time.Minute + time.Second),
		end.Add(time.Hour), end.Add(100 * time.Minute), end.Add(3 * time.Hour)} {
		f.clock.Set(now)
		expired := 0
		for _, e := range expiries {
			if recorded[e] || !e.After(now) {
				expired++
			}
		}
		want := Counts{All: 15, Active: 3, Pending: len(expiries) - expired, Expired: expired}
		var got Account
		f.ok(operator, "/v1/accounts/"+acc.String(), &got)
		if got.UserCounts != want {
			t.Errorf("at %v: %+v, want %+v", now.Sub(end), got.UserCounts, want)
		}
		for status, n := range map[string]int{"all": want.All, "pending": want.Pending, "active": want.Active, "expired": want.Expired} {
			var page UserPage
			f.ok(operator, usersPath(acc, url.Values{"status": {status}, "limit": {"1"}}), &page)
			if page.Total != n || page.Counts != want {
				t.Errorf("at %v, ?status=%s: total %d, counts %+v; want %d, %+v", now.Sub(end), status, page.Total, page.Counts, n, want)
			}
		}
	}
}
