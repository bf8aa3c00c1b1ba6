package readapi

import (
	"cmp"
	"github.com/bizcenter/bizcenter/internal/partnerseed"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

const day = 24 * time.Hour

// shop seeds contoso with four subscriptions: Office bought by alice
// (self-service), Rooms ordered by Litware's sam, Backup recorded by an
// operator for Northwind (expires in a day), and Archive, cancelled.
type shop struct {
	acc, litware, northwind, alice, sam uuid.UUID
	office, rooms, backup, archive      uuid.UUID
}

func newShop(f *fixture) shop {
	s := shop{acc: contoso(f)}
	s.alice = f.userID(s.acc, "alice@contoso.example")
	s.litware, s.northwind = f.partner("Litware"), f.partner("Northwind")
	s.sam = f.partnerUser(s.litware, "Sam@Litware.example", "Sam", "Seller", "sales_agent")
	f.associate(s.acc, s.litware, s.northwind)
	s.office = f.buy(s.acc, partnerseed.Order{Name: "Office for sales", Buyer: &s.alice, Amount: "1234.50", Currency: "EUR", Total: 25,
		PurchasedAt: t0.Add(-3 * day)})
	s.rooms = f.buy(s.acc, partnerseed.Order{Product: "teams-rooms", ProductName: "Teams Rooms", Name: "rooms", Partner: &s.litware,
		Buyer: &s.sam, Amount: "99.9900", Currency: "USD", PurchasedAt: t0.Add(-2 * day), Term: 30 * day})
	s.backup = f.buy(s.acc, partnerseed.Order{Product: "backup", ProductName: "Backup", Name: "Backup", Partner: &s.northwind,
		By: "ops-1", Amount: "10", Currency: "EUR", PurchasedAt: t0.Add(-day), Term: 2 * day})
	s.archive = f.buy(s.acc, partnerseed.Order{Name: "Archive", Buyer: &s.alice, Amount: "5.5", PurchasedAt: t0})
	f.partners.Cancel(s.acc, s.archive, "too_expensive", "pricey", "alice", t0.Add(time.Hour))
	return s
}

func (f *fixture) userID(accountID uuid.UUID, email string) uuid.UUID {
	f.t.Helper()
	var page UserPage
	f.ok("ops;operator", usersPath(accountID, url.Values{"email": {email}}), &page)
	return uuid.MustParse(page.Items[0].UserID)
}

func TestListSubscriptions_filters_by_origin_status_and_product(t *testing.T) {
	f := newFixture(t, time.Second)
	s := newShop(f)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"Archive", "Backup", "Office for sales", "rooms"}},
		{"origin=self_service", []string{"Archive", "Office for sales"}},
		{"origin=partner", []string{"Backup", "rooms"}},
		{"status=active", []string{"Backup", "Office for sales", "rooms"}},
		{"status=cancelled", []string{"Archive"}},
		{"status=expired", []string{}},
		{"productId=office-e3", []string{"Archive", "Office for sales"}},
		{"productId=office-e3&status=active&origin=self_service", []string{"Office for sales"}},
	} {
		var page SubscriptionPage
		f.ok(admin, subsPath(s.acc, tc.query), &page)
		if got := subNames(page); !slices.Equal(got, tc.want) || page.Total != len(tc.want) || page.NextCursor != nil {
			t.Errorf("%q: got %v total %d next %v, want %v", tc.query, got, page.Total, page.NextCursor, tc.want)
		}
		if want := (SubscriptionCounts{All: 4, Active: 3, Cancelled: 1}); page.Counts != want {
			t.Errorf("%q: counts %+v, want %+v", tc.query, page.Counts, want)
		}
	}
	f.clock.Advance(day) // backup expires at t0+day: expired from then on
	var page SubscriptionPage
	f.ok(admin, subsPath(s.acc, "status=expired"), &page)
	if got := subNames(page); !slices.Equal(got, []string{"Backup"}) || page.Items[0].Status != "expired" {
		t.Errorf("a day on, expired: %v", got)
	}
}

func TestSubscription_shows_buyers_partners_price_and_cancellation(t *testing.T) {
	f := newFixture(t, time.Second)
	s := newShop(f)
	get := func(id uuid.UUID) Subscription {
		var sub Subscription
		f.ok(admin, "/v1/accounts/"+s.acc.String()+"/subscriptions/"+id.String(), &sub)
		return sub
	}
	office, rooms, backup, archive := get(s.office), get(s.rooms), get(s.backup), get(s.archive)
	if office.Buyer != (Buyer{UserID: office.Buyer.UserID, Name: "Alice Smith", Kind: "customer"}) || *office.Buyer.UserID != s.alice.String() {
		t.Errorf("office buyer %+v", office.Buyer)
	}
	if office.Price != (Price{Amount: "1234.50", Currency: "EUR"}) || rooms.Price.Amount != "99.9900" || backup.Price.Amount != "10" {
		t.Errorf("prices %v %v %v: want the scale they were bought with", office.Price, rooms.Price, backup.Price)
	}
	if office.Origin != "self_service" || office.OrderingPartner != nil || office.ChannelPartner != nil || office.TotalLicenses != 25 ||
		office.Status != "active" || office.Cancellation != nil || office.AccountID != s.acc.String() {
		t.Errorf("office %+v", office)
	}
	if rooms.Buyer.Name != "Sam Seller" || rooms.Buyer.Kind != "partner" || rooms.Origin != "partner" ||
		*rooms.OrderingPartner != (PartnerRef{s.litware.String(), "Litware"}) || *rooms.ChannelPartner != *rooms.OrderingPartner {
		t.Errorf("rooms %+v buyer %+v", rooms, rooms.Buyer)
	}
	if backup.Buyer != (Buyer{Name: "ops-1", Kind: "operator"}) {
		t.Errorf("backup buyer %+v, want the operator", backup.Buyer)
	}
	if c := archive.Cancellation; archive.Status != "cancelled" || c == nil || c.Reason != "too_expensive" || c.Feedback != "pricey" ||
		!c.At.Equal(t0.Add(time.Hour)) || c.At.Location() != time.UTC {
		t.Errorf("archive %+v cancellation %+v", archive, c)
	}
	if !rooms.ExpiresAt.Equal(t0.Add(28*day)) || rooms.PurchasedAt.Location() != time.UTC {
		t.Errorf("rooms times %v %v", rooms.PurchasedAt, rooms.ExpiresAt)
	}
	// The buyer's name is read now: a partner user who was removed shows as
	// who recorded the purchase.
	f.partners.RemoveUser(s.litware, s.sam)
	if b := get(s.rooms).Buyer; b.Name != "sub-buyer" || b.Kind != "partner" {
		t.Errorf("after removal: %+v", b)
	}
}

func TestSubscription_of_another_account_or_unknown_is_404(t *testing.T) {
	f := newFixture(t, time.Second)
	s := newShop(f)
	other := f.account("Fabrikam")
	f.user(other, seedUser{email: "erin@fabrikam.example", first: "Erin", last: "Ray", active: true})
	for _, tc := range []struct{ caller, path string }{
		{admin, "/v1/accounts/" + other.String() + "/subscriptions/" + s.office.String()},
		{admin, "/v1/accounts/" + s.acc.String() + "/subscriptions/" + uuid.NewString()},
		{"erin@fabrikam.example", "/v1/accounts/" + s.acc.String() + "/subscriptions/" + s.office.String()},
		{"erin@fabrikam.example", subsPath(s.acc, "")},
		{"sam@litware.example", subsPath(s.acc, "")}, // partner users read through the partner routes
		{"ops;operator", subsPath(uuid.New(), "")},
	} {
		f.problem(tc.caller, tc.path, http.StatusNotFound)
	}
	f.ok("ops;operator", subsPath(s.acc, ""), &SubscriptionPage{})
}

func TestListSubscriptions_rejects_bad_parameters_naming_each(t *testing.T) {
	f := newFixture(t, time.Second)
	s := newShop(f)
	p := f.problem(admin, subsPath(s.acc, "origin=shop&status=gone&productId=Office!&sort=colour&limit=501"), http.StatusBadRequest)
	var fields []string
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	slices.Sort(fields)
	if want := []string{"limit", "origin", "productId", "sort", "status"}; !slices.Equal(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
	for _, q := range []string{"cursor=nonsense", "cursor=" + url.QueryEscape("eyJzIjoibmFtZSJ9")} {
		if p := f.problem(admin, subsPath(s.acc, q), http.StatusBadRequest); len(p.Errors) != 1 || p.Errors[0].Field != "cursor" {
			t.Errorf("%s: %+v", q, p.Errors)
		}
	}
	f.problem(admin, "/v1/accounts/"+s.acc.String()+"/subscriptions/nope", http.StatusBadRequest)
}

// walkSubs follows nextCursor from the first page to the last.
func walkSubs(t *testing.T, f *fixture, caller, path string, query url.Values) []Subscription {
	t.Helper()
	var all []Subscription
	for range 100 {
		var page SubscriptionPage
		f.ok(caller, path+"?"+query.Encode(), &page)
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			return all
		}
		query.Set("cursor", *page.NextCursor)
	}
	t.Fatal("pagination did not end")
	return nil
}

func TestListSubscriptions_pages_walk_every_row_once_in_order_for_every_sort(t *testing.T) {
	f := newFixture(t, time.Second)
	s := newShop(f)
	names, amounts := []string{"alpha", "Alpha", "beta", "Gamma"}, []string{"10", "10.00", "9.5", "100"}
	for i := range 23 {
		f.buy(s.acc, partnerseed.Order{Name: names[i%4], ProductName: names[(i+1)%4], Product: "p" + names[i%3], Amount: amounts[i%4],
			Currency: "EUR", PurchasedAt: t0.Add(-time.Duration(i%5) * day), Term: time.Duration(1+i%3) * 100 * day})
	}
	key := map[string]func(Subscription) string{
		"name":        func(s Subscription) string { return strings.ToLower(s.Name) },
		"productName": func(s Subscription) string { return strings.ToLower(s.ProductName) },
		"purchasedAt": func(s Subscription) string { return s.PurchasedAt.Format(time.RFC3339Nano) },
		"expiresAt":   func(s Subscription) string { return s.ExpiresAt.Format(time.RFC3339Nano) },
		"price":       func(s Subscription) string { return priceKey(s.Price.Amount) },
	}
	path := "/v1/accounts/" + s.acc.String() + "/subscriptions"
	for name, k := range key {
		for _, sort := range []string{name, "-" + name} {
			got := walkSubs(t, f, admin, path, url.Values{"sort": {sort}, "limit": {"4"}})
			want := slices.Clone(got)
			slices.SortFunc(want, func(a, b Subscription) int {
				c := cmp.Or(strings.Compare(k(a), k(b)), strings.Compare(a.SubscriptionID, b.SubscriptionID))
				if sort[0] == '-' {
					return -c
				}
				return c
			})
			ids := map[string]bool{}
			for _, s := range got {
				ids[s.SubscriptionID] = true
			}
			if len(got) != 27 || len(ids) != 27 {
				t.Errorf("sort %s: %d rows, %d distinct, want 27", sort, len(got), len(ids))
			}
			if !slices.EqualFunc(got, want, func(a, b Subscription) bool { return a.SubscriptionID == b.SubscriptionID }) {
				t.Errorf("sort %s: pages not in order", sort)
			}
		}
	}
	got := walkSubs(t, f, admin, path, url.Values{"origin": {"self_service"}, "productId": {"palpha"}, "limit": {"2"}})
	for _, s := range got {
		if s.ProductID != "palpha" || s.Origin != "self_service" {
			t.Errorf("%+v does not match the filters", s)
		}
	}
	if len(got) != 8 {
		t.Errorf("filtered walk: %d rows, want 8", len(got))
	}
}

// priceKey makes amounts compare as numbers: the integer part padded to
// 12 digits, the fraction without trailing zeros (10 and 10.00 tie, and
// then sort by id, as in SQL).
func priceKey(amount string) string {
	i, frac, _ := strings.Cut(amount, ".")
	return strings.Repeat("0", 12-len(i)) + i + "." + strings.TrimRight(frac, "0")
}
