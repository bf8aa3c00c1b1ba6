package readapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// A cursor is the key of a row of one list: taken to another account, or
// with other filters, it went on after that key in a list it was never
// of, and the page skipped what came before it (a total of 6 beside 5
// items, and no nextCursor). It is refused, as a cursor of another sort
// is.
func TestLists_refuse_a_cursor_of_another_list(t *testing.T) {
	f := newFixture(t, time.Second)
	c := newChannel(f)
	other := f.account("Fabrikam")
	f.user(other, seedUser{email: "aaron@fabrikam.example", first: "Aaron", last: "Able"})
	f.user(other, seedUser{email: "zoe@fabrikam.example", first: "Zoe", last: "Zed"})
	f.associate(other, c.litware)

	accountsOf := "/v1/accounts/"
	var users UserPage
	f.ok(ops, usersPath(c.acc, url.Values{"limit": {"1"}}), &users)
	var subs SubscriptionPage
	f.ok(ops, subsPath(c.acc, "limit=1"), &subs)
	var partners AccountPartners
	f.ok(ops, accountsOf+c.acc.String()+"/partners?limit=1", &partners)
	for _, tc := range []struct {
		name, path, cursor string
	}{
		{"users of another account", usersPath(other, url.Values{}), *users.NextCursor},
		{"users with another status", usersPath(c.acc, url.Values{"status": {"pending"}}), *users.NextCursor},
		{"users with an email filter", usersPath(c.acc, url.Values{"email": {"contoso"}}), *users.NextCursor},
		{"subscriptions of another account", subsPath(other, ""), *subs.NextCursor},
		{"subscriptions as a partner sees them", partnerSubsPath(c.litware, c.acc) + "?", *subs.NextCursor},
		{"subscriptions of another origin", subsPath(c.acc, "origin=partner"), *subs.NextCursor},
		{"partners of another account", accountsOf + other.String() + "/partners?", *partners.NextCursor},
	} {
		sep := "&"
		if strings.HasSuffix(tc.path, "?") {
			sep = ""
		}
		p := f.problem(ops, tc.path+sep+"cursor="+url.QueryEscape(tc.cursor), http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != "cursor" {
			t.Errorf("%s: errors %+v, want one naming cursor", tc.name, p.Errors)
		}
	}

	// The same list goes on, whatever the page size and the order of the
	// query's parameters.
	var page UserPage
	f.ok(ops, usersPath(c.acc, url.Values{"status": {"all"}, "sort": {"name"}, "limit": {"1"}}), &page)
	f.ok(ops, "/v1/accounts/"+c.acc.String()+"/users?limit=3&sort=name&cursor="+url.QueryEscape(*page.NextCursor)+"&status=all", &page)
	if len(page.Items) != 3 {
		t.Errorf("the same list's second page has %d items, want 3", len(page.Items))
	}
}

// A cursor of the release before lists were named in cursors (it holds
// the sort and the keys, no list) goes on with its list, as that release
// took it: during a rolling deploy a client pages from an older instance
// to a newer one, and after it holds the older one's nextCursor; both were
// refused as malformed (400), though passed as they were given.
func TestLists_take_a_cursor_of_the_release_before(t *testing.T) {
	f := newFixture(t, time.Second)
	c := newChannel(f)
	var first, second UserPage
	f.ok(ops, usersPath(c.acc, url.Values{"status": {"all"}, "limit": {"1"}}), &first)
	f.ok(ops, usersPath(c.acc, url.Values{"status": {"all"}, "limit": {"1"}, "cursor": {*first.NextCursor}}), &second)
	var now cursor
	if !kit.DecodeCursor(*first.NextCursor, &now) || now.List == "" {
		t.Fatalf("cursor %q names no list", *first.NextCursor)
	}
	before := kit.EncodeCursor(struct {
		Sort string   `json:"s"`
		Keys []string `json:"k"`
	}{now.Sort, now.Keys})
	var page UserPage
	f.ok(ops, usersPath(c.acc, url.Values{"status": {"all"}, "limit": {"1"}, "cursor": {before}}), &page)
	if len(page.Items) != 1 || page.Items[0].UserID != second.Items[0].UserID {
		t.Fatalf("the release before's cursor read %+v, want %+v", page.Items, second.Items)
	}
}
