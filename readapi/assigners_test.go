package readapi

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/internal/partnerseed"
	"github.com/bizcenter/bizcenter/projections"
)

// A partner's license assigners choose whom to give licenses and see what
// is available: the account's users, and the entitlements of what their
// partner sees (?partnerId).

func licensesPath(accountID, partnerID uuid.UUID, query string) string {
	return "/v1/accounts/" + accountID.String() + "/licenses?partnerId=" + partnerID.String() + query
}

// entitledSubs are the names of the subscriptions of the entitlements.
func entitledSubs(e Entitlements) []string {
	out := []string{}
	for _, p := range e.Products {
		for _, s := range p.Subscriptions {
			out = append(out, s.Name)
		}
	}
	slices.Sort(out)
	return out
}

func TestPartnerAssigner_reads_users_and_the_entitlements_its_partner_sees(t *testing.T) {
	f := newFixture(t, time.Second)
	licenses, _, err := projections.Ensure(context.Background(), f.pool, projections.Licenses{})
	if err != nil {
		t.Fatal(err)
	}
	c := newChannel(f)
	f.buy(c.acc, partnerseed.Order{Product: "visio-plan-2", ProductName: "Visio Plan 2", Name: "visio by northwind", Partner: &c.northwind})
	bob := f.user(c.acc, seedUser{email: "bob@contoso.example", first: "Bob", last: "Lee"})

	var users UserPage
	f.ok(sam, usersPath(c.acc, url.Values{"partnerId": {c.litware.String()}, "limit": {"2"}}), &users)
	if users.Total != 5 || len(users.Items) != 2 || users.NextCursor == nil {
		t.Errorf("sam's users page: total %d, %d items, cursor %v", users.Total, len(users.Items), users.NextCursor)
	}

	var e Entitlements
	f.ok(sam, licensesPath(c.acc, c.litware, ""), &e)
	if got := entitledSubs(e); !slices.Equal(got, []string{"by litware"}) || len(e.Products) != 1 || e.Products[0].TotalLicenses != 10 {
		t.Errorf("litware alone sees %v in %+v", got, e.Products)
	}

	// Bob holds a license of northwind's: not litware's to see, until granted.
	var visio string
	if err := f.pool.QueryRow(context.Background(), `SELECT subscription_id::text FROM rm_subscriptions WHERE name = 'visio by northwind'`).Scan(&visio); err != nil {
		t.Fatal(err)
	}
	f.exec(`INSERT INTO `+licenses.Schema+`.rm_license_assignments (subscription_id, user_id, account_id, product_id, service_plans, assigned_at, assigned_by)
	  VALUES ($1, $2, $3, 'visio-plan-2', '{}', $4, 'nora')`, visio, bob, c.acc, t0)
	f.grant(c.acc, c.litware, c.northwind)
	e = Entitlements{}
	f.ok(sam, licensesPath(c.acc, c.litware, "&userIds="+bob.String()), &e)
	if got := entitledSubs(e); !slices.Equal(got, []string{"by litware", "by northwind", "visio by northwind"}) {
		t.Errorf("litware granted northwind sees %v", got)
	}
	for _, p := range e.Products {
		if want := map[string]string{"office-e3": "none", "visio-plan-2": "all"}[p.ProductID]; p.Selected == nil || p.Selected.State != want {
			t.Errorf("%s selected %+v, want %s", p.ProductID, p.Selected, want)
		}
	}

	// Bob named twice is one user of the selection, who holds it all.
	e = Entitlements{}
	f.ok(sam, licensesPath(c.acc, c.litware, "&userIds="+bob.String()+","+bob.String()), &e)
	for _, p := range e.Products {
		if p.ProductID == "visio-plan-2" && (p.Selected == nil || p.Selected.State != "all") {
			t.Errorf("bob named twice: %s selected %+v, want all", p.ProductID, p.Selected)
		}
	}

	f.partners.Revoke(c.acc, c.litware, c.northwind)
	e = Entitlements{}
	f.ok(sam, licensesPath(c.acc, c.litware, "&userIds="+bob.String()), &e)
	if got := entitledSubs(e); !slices.Equal(got, []string{"by litware"}) || len(e.Products) != 1 || e.Products[0].Selected.State != "none" {
		t.Errorf("after the revoke litware sees %v, %+v", got, e.Products)
	}

	// Members and operators read as before; an operator may read as a partner.
	e = Entitlements{}
	f.ok(admin, "/v1/accounts/"+c.acc.String()+"/licenses", &e)
	if got := entitledSubs(e); len(got) != 5 {
		t.Errorf("a member sees %v", got)
	}
	e = Entitlements{}
	f.ok(ops, licensesPath(c.acc, c.adatum, ""), &e)
	if got := entitledSubs(e); !slices.Equal(got, []string{"by adatum"}) {
		t.Errorf("an operator reading as adatum sees %v", got)
	}
}

func TestPartnerAssigner_others_get_404(t *testing.T) {
	f := newFixture(t, time.Second)
	c := newChannel(f)
	netAdmin := "pat@litware.example"
	f.partnerUser(c.litware, netAdmin, "Pat", "Net", "partner_network_admin")
	stranger := f.partner("Stranger")
	f.partnerUser(stranger, "sue@stranger.example", "Sue", "Stranger", "global_admin")
	other := f.account("Fabrikam")
	f.associate(other, c.northwind)
	users := func(acc, partner uuid.UUID) string {
		return usersPath(acc, url.Values{"partnerId": {partner.String()}})
	}
	for _, tc := range []struct{ name, caller, path string }{
		{"a role that does not assign licenses, users", netAdmin, users(c.acc, c.litware)},
		{"a role that does not assign licenses, licenses", netAdmin, licensesPath(c.acc, c.litware, "")},
		{"a partner not serving the account, users", "sue@stranger.example", users(c.acc, stranger)},
		{"a partner not serving the account, licenses", "sue@stranger.example", licensesPath(c.acc, stranger, "")},
		{"a partner serving another account", sam, users(other, c.litware)},
		{"another partner's id", sam, licensesPath(c.acc, c.northwind, "")},
		{"without partnerId", sam, "/v1/accounts/" + c.acc.String() + "/licenses"},
		{"a member naming a partner", admin, users(c.acc, c.litware)},
		{"an operator naming a partner not serving", ops, licensesPath(c.acc, stranger, "")},
	} {
		if p := f.problem(tc.caller, tc.path, http.StatusNotFound); p.Detail != "no such resource" {
			t.Errorf("%s: detail %q", tc.name, p.Detail)
		}
	}
	if p := f.problem(sam, usersPath(c.acc, url.Values{"partnerId": {"litware"}}), http.StatusBadRequest); len(p.Errors) != 1 || p.Errors[0].Field != "partnerId" {
		t.Errorf("a bad partnerId: %+v", p.Errors)
	}
}
