package readapi

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

const admin = "alice@contoso.example" // the active administrator of contoso

// contoso seeds an account whose users have every status:
// alice active, bob pending, carol pending for one more day, dave expired.
func contoso(f *fixture) uuid.UUID {
	acc := f.account("Contoso")
	day := 24 * time.Hour
	f.user(acc, seedUser{email: "Alice@Contoso.example", first: "Alice", last: "Smith", active: true,
		roles: []string{"account_administrator"}, invitedAt: t0.Add(-90 * day)})
	f.user(acc, seedUser{email: "Bob.Jones@CONTOSO.example", first: "Bob", last: "Jones",
		roles: []string{"user_administrator", "reports_viewer"}, invitedAt: t0.Add(-10 * day)})
	f.user(acc, seedUser{email: "carol@partner.example", first: "Carol", last: "Adams", invitedAt: t0.Add(-59 * day)})
	f.user(acc, seedUser{email: "dave@contoso.example", first: "Dave", last: "Brown",
		roles: []string{"reports_viewer"}, invitedAt: t0.Add(-61 * day)})
	return acc
}

func emails(p UserPage) []string {
	out := make([]string, len(p.Items))
	for i, u := range p.Items {
		out[i] = strings.ToLower(u.Email)
	}
	return out
}

func TestListUsers_filters_by_status_role_and_email_substring(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	for _, tc := range []struct {
		query url.Values
		want  []string
	}{
		{url.Values{}, []string{"alice@contoso.example", "bob.jones@contoso.example", "carol@partner.example", "dave@contoso.example"}},
		{url.Values{"status": {"all"}}, []string{"alice@contoso.example", "bob.jones@contoso.example", "carol@partner.example", "dave@contoso.example"}},
		{url.Values{"status": {"active"}}, []string{"alice@contoso.example"}},
		{url.Values{"status": {"pending"}}, []string{"bob.jones@contoso.example", "carol@partner.example"}},
		{url.Values{"status": {"expired"}}, []string{"dave@contoso.example"}},
		{url.Values{"role": {"reports_viewer"}}, []string{"bob.jones@contoso.example", "dave@contoso.example"}},
		{url.Values{"email": {"CONTOSO"}}, []string{"alice@contoso.example", "bob.jones@contoso.example", "dave@contoso.example"}},
		{url.Values{"email": {"b.JON"}}, []string{"bob.jones@contoso.example"}},
		{url.Values{"email": {"_"}}, []string{}}, // LIKE wildcards match themselves
		{url.Values{"email": {"contoso"}, "status": {"pending"}, "role": {"user_administrator"}}, []string{"bob.jones@contoso.example"}},
	} {
		var page UserPage
		f.ok(admin, usersPath(acc, tc.query), &page)
		if got := emails(page); !slices.Equal(got, tc.want) {
			t.Errorf("%v: got %v, want %v", tc.query, got, tc.want)
		}
		if page.Total != len(tc.want) || page.NextCursor != nil {
			t.Errorf("%v: total %d nextCursor %v, want %d and none", tc.query, page.Total, page.NextCursor, len(tc.want))
		}
		if want := (Counts{All: 4, Pending: 2, Active: 1, Expired: 1}); page.Counts != want {
			t.Errorf("%v: counts %+v, want the whole account's %+v", tc.query, page.Counts, want)
		}
	}
}

// Seed 002: to assign licenses, an administrator types a name and picks
// the person from the results. ?name= is a case-insensitive substring of
// the name written either way round (Korean names family name first, with
// or without a space), beside the email search of seed 000.
func TestListUsers_finds_people_by_name(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	f.user(acc, seedUser{email: "jiwoo@contoso.example", first: "지우", last: "김"})
	for _, tc := range []struct {
		query url.Values
		want  []string
	}{
		{url.Values{"name": {"bob"}}, []string{"bob.jones@contoso.example"}},
		{url.Values{"name": {"JONES"}}, []string{"bob.jones@contoso.example"}},
		{url.Values{"name": {"bob jo"}}, []string{"bob.jones@contoso.example"}},
		{url.Values{"name": {"smith alice"}}, []string{"alice@contoso.example"}},
		{url.Values{"name": {" ADA "}}, []string{"carol@partner.example"}}, // trimmed
		{url.Values{"name": {"김지우"}}, []string{"jiwoo@contoso.example"}},
		{url.Values{"name": {"지우"}}, []string{"jiwoo@contoso.example"}},
		{url.Values{"name": {"%"}}, []string{}},
		{url.Values{"name": {"o"}, "status": {"pending"}}, []string{"bob.jones@contoso.example", "carol@partner.example"}},
	} {
		var page UserPage
		f.ok(admin, usersPath(acc, tc.query), &page)
		if got := emails(page); !slices.Equal(got, tc.want) {
			t.Errorf("%v: got %v, want %v", tc.query, got, tc.want)
		}
		if page.Total != len(tc.want) {
			t.Errorf("%v: total %d, want %d", tc.query, page.Total, len(tc.want))
		}
	}
}

func TestListUsers_items_carry_status_roles_and_times_in_utc(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	var page UserPage
	f.ok(admin, usersPath(acc, url.Values{"sort": {"email"}}), &page)
	alice, bob := page.Items[0], page.Items[1]
	if alice.Status != "active" || alice.ActivatedAt == nil || alice.ActivatedAt.Location() != time.UTC {
		t.Errorf("alice = %+v, want active with activatedAt in UTC", alice)
	}
	if bob.Status != "pending" || bob.ActivatedAt != nil || !slices.Equal(bob.Roles, []string{"user_administrator", "reports_viewer"}) {
		t.Errorf("bob = %+v, want pending, no activatedAt, his two roles", bob)
	}
	if bob.Email != "Bob.Jones@CONTOSO.example" || bob.FirstName != "Bob" || !bob.InvitationExpiresAt.Equal(bob.InvitedAt.Add(invitationTTL)) {
		t.Errorf("bob = %+v", bob)
	}
}

func TestListUsers_expired_once_sixty_days_pass(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	path := usersPath(acc, url.Values{"email": {"carol"}})
	var before, after UserPage
	f.ok(admin, path, &before)
	f.clock.Advance(24 * time.Hour) // carol's 60 days are over: expires_at == now
	f.ok(admin, path, &after)
	if before.Items[0].Status != "pending" || after.Items[0].Status != "expired" {
		t.Fatalf("carol: %s then %s, want pending then expired", before.Items[0].Status, after.Items[0].Status)
	}
	if want := (Counts{All: 4, Pending: 1, Active: 1, Expired: 2}); after.Counts != want {
		t.Errorf("counts %+v, want %+v", after.Counts, want)
	}
	var expired UserPage
	f.ok(admin, usersPath(acc, url.Values{"status": {"expired"}}), &expired)
	if got := emails(expired); !slices.Equal(got, []string{"carol@partner.example", "dave@contoso.example"}) {
		t.Errorf("expired: %v", got)
	}
}

// crowd seeds n users with many ties on name, invitedAt and status.
func crowd(f *fixture, acc uuid.UUID, n int) {
	names := []string{"Ann Lee", "Ann Lee", "Bo Ng", "Cy Ox"}
	for i := range n {
		first, last, _ := strings.Cut(names[i%len(names)], " ")
		f.user(acc, seedUser{email: "u" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + "@crowd.example",
			first: first, last: last, active: i%3 == 0, invitedAt: t0.Add(-time.Duration(i%4) * 24 * time.Hour * 30)})
	}
}

// walk follows nextCursor from the first page to the last.
func walk(t *testing.T, f *fixture, acc uuid.UUID, query url.Values) []User {
	t.Helper()
	var all []User
	for range 100 {
		var page UserPage
		f.ok(admin, usersPath(acc, query), &page)
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			return all
		}
		query.Set("cursor", *page.NextCursor)
	}
	t.Fatal("pagination did not end")
	return nil
}

func TestListUsers_pages_walk_every_row_once_in_order_for_every_sort(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	crowd(f, acc, 29)
	key := map[string]func(User) string{
		"email":     func(u User) string { return strings.ToLower(u.Email) },
		"name":      func(u User) string { return strings.ToLower(u.FirstName + " " + u.LastName) },
		"invitedAt": func(u User) string { return u.InvitedAt.Format(time.RFC3339Nano) },
		"status":    func(u User) string { return u.Status + " " + strings.ToLower(u.Email) },
	}
	for name, k := range key {
		for _, sort := range []string{name, "-" + name} {
			got := walk(t, f, acc, url.Values{"sort": {sort}, "limit": {"4"}})
			want := slices.Clone(got)
			slices.SortFunc(want, func(a, b User) int {
				c := cmp.Or(strings.Compare(k(a), k(b)), strings.Compare(a.UserID, b.UserID))
				if sort[0] == '-' {
					return -c
				}
				return c
			})
			ids := map[string]bool{}
			for _, u := range got {
				ids[u.UserID] = true
			}
			if len(got) != 33 || len(ids) != 33 {
				t.Errorf("sort %s: %d rows, %d distinct, want 33", sort, len(got), len(ids))
			}
			if !slices.EqualFunc(got, want, func(a, b User) bool { return a.UserID == b.UserID }) {
				t.Errorf("sort %s: pages not in order", sort)
			}
		}
	}
}

func TestListUsers_pages_keep_the_filters_and_report_the_filtered_total(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	crowd(f, acc, 29)
	got := walk(t, f, acc, url.Values{"status": {"active"}, "email": {"@CROWD"}, "limit": {"2"}})
	var first UserPage
	f.ok(admin, usersPath(acc, url.Values{"status": {"active"}, "email": {"@crowd"}, "limit": {"2"}}), &first)
	if len(got) != 10 || first.Total != 10 || len(first.Items) != 2 || first.Counts.All != 33 {
		t.Errorf("walked %d, total %d, first page %d, all %d; want 10, 10, 2, 33", len(got), first.Total, len(first.Items), first.Counts.All)
	}
	for _, u := range got {
		if u.Status != "active" || !strings.HasSuffix(u.Email, "@crowd.example") {
			t.Errorf("%s (%s) does not match the filters", u.Email, u.Status)
		}
	}
}

func TestListUsers_limit_defaults_to_50(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	crowd(f, acc, 50)
	var page UserPage
	f.ok(admin, usersPath(acc, url.Values{}), &page)
	if len(page.Items) != 50 || page.NextCursor == nil || page.Total != 54 {
		t.Errorf("%d items, next %v, total %d; want 50, a cursor, 54", len(page.Items), page.NextCursor, page.Total)
	}
	f.ok(admin, usersPath(acc, url.Values{"cursor": {*page.NextCursor}}), &page)
	if len(page.Items) != 4 || page.NextCursor != nil {
		t.Errorf("second page: %d items, next %v; want 4 and none", len(page.Items), page.NextCursor)
	}
}

func TestListUsers_rejects_a_cursor_of_another_sort(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	var page UserPage
	f.ok(admin, usersPath(acc, url.Values{"sort": {"name"}, "limit": {"1"}}), &page)
	p := f.problem(admin, usersPath(acc, url.Values{"sort": {"-name"}, "cursor": {*page.NextCursor}}), http.StatusBadRequest)
	if len(p.Errors) != 1 || p.Errors[0].Field != "cursor" {
		t.Errorf("errors %+v, want one naming cursor", p.Errors)
	}
}
