package readapi

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/internal/partnerseed"
)

// The entitlements sort in Go what the database used to: products by
// product_id, each one's active subscriptions by expiry, latest first,
// then by id; a product's name is that of its latest purchase, active or
// not.
func TestEntitlements_order_products_and_subscriptions_and_name_products_by_latest_purchase(t *testing.T) {
	f := newFixture(t, 0)
	acc := contoso(f)
	buy := func(product, productName, name string, purchasedAt time.Time, term time.Duration) uuid.UUID {
		return f.buy(acc, partnerseed.Order{Product: product, ProductName: productName, Name: name, PurchasedAt: purchasedAt, Term: term})
	}
	year := 365 * day
	// office-e3: the same expiry twice (ordered by id), one later, and a
	// latest purchase, under a new name, then cancelled.
	e3a := buy("office-e3", "Office E3", "a", t0.Add(-10*day), year)
	e3b := buy("office-e3", "Office E3", "b", t0.Add(-10*day), year)
	e3late := buy("office-e3", "Office E3 (2025)", "late", t0.Add(-5*day), 2*year)
	cancelled := buy("office-e3", "Microsoft 365 E3", "cancelled", t0.Add(-day), year)
	f.partners.Cancel(acc, cancelled, "too_expensive", "", "alice", t0)
	// backup: only an expired subscription, so listed with none.
	buy("backup", "Backup", "old", t0.Add(-40*day), 30*day)
	// teams-rooms: sorts after office-e3 by product_id.
	rooms := buy("teams-rooms", "Teams Rooms", "rooms", t0.Add(-3*day), year)

	var got Entitlements
	f.ok("ops;operator", "/v1/accounts/"+acc.String()+"/licenses", &got)

	first, second := e3a.String(), e3b.String()
	if strings.Compare(first, second) > 0 {
		first, second = second, first
	}
	want := []struct {
		id, name string
		subs     []string
	}{
		{"backup", "Backup", nil},
		{"office-e3", "Microsoft 365 E3", []string{e3late.String(), first, second}},
		{"teams-rooms", "Teams Rooms", []string{rooms.String()}},
	}
	if len(got.Products) != len(want) {
		t.Fatalf("products %+v, want %d", got.Products, len(want))
	}
	for i, w := range want {
		p := got.Products[i]
		if p.ProductID != w.id || p.ProductName != w.name {
			t.Errorf("product %d: %s %q, want %s %q", i, p.ProductID, p.ProductName, w.id, w.name)
		}
		var subs []string
		for _, s := range p.Subscriptions {
			subs = append(subs, s.SubscriptionID)
		}
		if strings.Join(subs, ",") != strings.Join(w.subs, ",") {
			t.Errorf("%s: subscriptions %v, want %v", w.id, subs, w.subs)
		}
		if p.TotalLicenses != 10*len(w.subs) || p.BuyMore != (len(w.subs) == 0) {
			t.Errorf("%s: total %d, buy more %v", w.id, p.TotalLicenses, p.BuyMore)
		}
	}
}
