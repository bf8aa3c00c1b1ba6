package readapi

import (
	"github.com/bizcenter/bizcenter/internal/partnerseed"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// channel seeds contoso served by Litware (sam), Northwind (nora) and
// Adatum (ada), each having ordered one subscription named after itself,
// plus one self-service subscription.
type channel struct {
	acc, litware, northwind, adatum uuid.UUID
}

const (
	sam  = "sam@litware.example"
	nora = "nora@northwind.example"
	ada  = "ada@adatum.example"
	ops  = "ops@bizcenter.example;operator"
)

func newChannel(f *fixture) channel {
	c := channel{acc: contoso(f), litware: f.partner("Litware"), northwind: f.partner("Northwind"), adatum: f.partner("Adatum")}
	f.partnerUser(c.litware, "Sam@Litware.example", "Sam", "Seller", "sales_agent")
	f.partnerUser(c.northwind, nora, "Nora", "North", "global_admin")
	f.partnerUser(c.adatum, ada, "Ada", "Adams", "admin_agent", "helpdesk_agent")
	f.associate(c.acc, c.litware, c.northwind, c.adatum)
	for name, p := range map[string]uuid.UUID{"by litware": c.litware, "by northwind": c.northwind, "by adatum": c.adatum} {
		f.buy(c.acc, partnerseed.Order{Name: name, Partner: &p})
	}
	f.buy(c.acc, partnerseed.Order{Name: "self-service"})
	return c
}

func (f *fixture) seen(caller string, partnerID, accountID uuid.UUID) []string {
	f.t.Helper()
	var page SubscriptionPage
	f.ok(caller, partnerSubsPath(partnerID, accountID), &page)
	return subNames(page)
}

func TestPartnerSubscriptions_show_own_orders_and_granted_sources(t *testing.T) {
	f := newFixture(t, time.Second)
	c := newChannel(f)
	if got := f.seen(sam, c.litware, c.acc); !slices.Equal(got, []string{"by litware"}) {
		t.Errorf("litware alone: %v", got)
	}
	f.grant(c.acc, c.litware, c.northwind)
	if got := f.seen("SAM@litware.example", c.litware, c.acc); !slices.Equal(got, []string{"by litware", "by northwind"}) {
		t.Errorf("litware granted northwind: %v", got)
	}
	if got := f.seen(nora, c.northwind, c.acc); !slices.Equal(got, []string{"by northwind"}) {
		t.Errorf("a grant is one way; northwind sees %v", got)
	}
	f.partners.Revoke(c.acc, c.litware, c.northwind)
	if got := f.seen(sam, c.litware, c.acc); !slices.Equal(got, []string{"by litware"}) {
		t.Errorf("after revoking: %v", got)
	}
	var page SubscriptionPage
	f.ok(ops, partnerSubsPath(c.adatum, c.acc)+"?status=active", &page)
	if got := subNames(page); !slices.Equal(got, []string{"by adatum"}) || page.Counts.All != 1 || page.Total != 1 {
		t.Errorf("operator reading adatum's view: %v %+v", got, page)
	}
}

func TestPartnerSubscriptions_after_a_channel_change_move_orders_and_grants(t *testing.T) {
	f := newFixture(t, time.Second)
	c := newChannel(f)
	f.grant(c.acc, c.litware, c.northwind) // to see northwind's orders: ends
	f.grant(c.acc, c.northwind, c.litware) // becomes adatum sees litware
	f.grant(c.acc, c.adatum, c.northwind)  // to see northwind's orders: ends
	f.partners.ChangeChannel(c.acc, c.northwind, c.adatum)

	if got := f.seen(ada, c.adatum, c.acc); !slices.Equal(got, []string{"by adatum", "by litware", "by northwind"}) {
		t.Errorf("adatum inherits northwind's orders and grant: %v", got)
	}
	if got := f.seen(sam, c.litware, c.acc); !slices.Equal(got, []string{"by litware"}) {
		t.Errorf("litware's grant to see northwind's orders ended, rather than show it adatum's: %v", got)
	}
	f.problem(nora, partnerSubsPath(c.northwind, c.acc), http.StatusNotFound) // no longer serves
	var page SubscriptionPage
	f.ok(ada, partnerSubsPath(c.adatum, c.acc)+"?origin=partner&sort=-name", &page)
	inherited := page.Items[0]
	if inherited.Name != "by northwind" || inherited.OrderingPartner.Name != "Northwind" || inherited.ChannelPartner.Name != "Adatum" {
		t.Errorf("inherited %+v: ordered by northwind, answered for by adatum", inherited)
	}

	var v PartnerVisibility
	f.ok(admin, "/v1/accounts/"+c.acc.String()+"/partner-visibility", &v)
	var grants [][2]string
	for _, g := range v.Grants {
		grants = append(grants, [2]string{g.GranteePartnerID, g.SourcePartnerID})
	}
	want := [][2]string{{c.adatum.String(), c.litware.String()}}
	slices.SortFunc(grants, func(a, b [2]string) int { return slices.Compare(a[:], b[:]) })
	slices.SortFunc(want, func(a, b [2]string) int { return slices.Compare(a[:], b[:]) })
	if !slices.Equal(grants, want) || !v.Available || len(v.Partners) != 2 {
		t.Errorf("grants %v, want %v; %+v", grants, want, v)
	}
	if v.Grants[0].GrantedBy != "alice" || v.Grants[0].GrantedAt.Location() != time.UTC {
		t.Errorf("grant %+v keeps who granted it and when, in UTC", v.Grants[0])
	}
	for _, row := range v.Matrix { // Adatum sees Litware; Litware sees nothing more
		granted := row.GranteePartnerID == c.adatum.String()
		if len(row.Sources) != 1 || row.Sources[0].Granted != granted || row.Sources[0].SourcePartnerID == row.GranteePartnerID {
			t.Errorf("matrix row %+v", row)
		}
	}
}

func TestPartnerRoutes_hide_what_the_caller_may_not_see_with_404(t *testing.T) {
	f := newFixture(t, time.Second)
	c := newChannel(f)
	other := f.account("Fabrikam")
	f.associate(other, c.northwind)
	stranger := f.partner("Stranger")
	for _, tc := range []struct{ name, caller, path string }{
		{"a customer its partner does not serve", sam, partnerSubsPath(c.litware, other)},
		{"another partner's view", sam, partnerSubsPath(c.northwind, c.acc)},
		{"another partner", sam, "/v1/partners/" + c.northwind.String()},
		{"another partner's accounts", sam, "/v1/partners/" + c.northwind.String() + "/accounts"},
		{"a customer user", admin, "/v1/partners/" + c.litware.String()},
		{"a customer user, subscriptions", admin, partnerSubsPath(c.litware, c.acc)},
		{"a partner not serving, operator", ops, partnerSubsPath(stranger, c.acc)},
		{"unknown partner, operator", ops, "/v1/partners/" + uuid.NewString()},
		{"unknown partner's accounts, operator", ops, "/v1/partners/" + uuid.NewString() + "/accounts"},
		{"a partner user, customer routes", sam, "/v1/accounts/" + c.acc.String() + "/partners"},
	} {
		if p := f.problem(tc.caller, tc.path, http.StatusNotFound); p.Detail != "no such resource" {
			t.Errorf("%s: detail %q", tc.name, p.Detail)
		}
	}
	f.problem("", "/v1/partners/"+c.litware.String(), http.StatusUnauthorized)
	p := f.problem(sam, partnerSubsPath(c.litware, c.acc)+"?status=old&limit=x", http.StatusBadRequest)
	if len(p.Errors) != 2 {
		t.Errorf("errors %+v, want status and limit", p.Errors)
	}
}

func TestPartner_lists_users_and_the_accounts_it_serves(t *testing.T) {
	f := newFixture(t, time.Second)
	c := newChannel(f)
	other := f.account("Alpine")
	f.associate(other, c.adatum)
	ben := f.partnerUser(c.adatum, "ben@adatum.example", "Ben", "Bo", "sales_agent")
	f.partners.ChangeRoles(c.adatum, ben, "admin_agent")
	var p Partner
	f.ok(ada, "/v1/partners/"+c.adatum.String(), &p)
	if p.Name != "Adatum" || p.RegisteredAt.Location() != time.UTC || len(p.Users) != 2 ||
		p.Users[0].Email != ada || !slices.Equal(p.Users[0].Roles, []string{"admin_agent", "helpdesk_agent"}) ||
		p.Users[1].FirstName != "Ben" || !slices.Equal(p.Users[1].Roles, []string{"admin_agent"}) {
		t.Errorf("partner %+v", p)
	}
	var accounts PartnerAccountPage
	f.ok(ada, "/v1/partners/"+c.adatum.String()+"/accounts", &accounts)
	if len(accounts.Items) != 2 || accounts.Items[0].Name != "Alpine" || accounts.Items[1].AgreementNumber != "AG-Contoso" ||
		accounts.Items[1].PurchaseAccountNumber != "PA-Contoso" || accounts.NextCursor != nil {
		t.Errorf("accounts %+v", accounts)
	}
	var first, second PartnerAccountPage
	f.ok(ops, "/v1/partners/"+c.adatum.String()+"/accounts?limit=1", &first)
	f.ok(ops, "/v1/partners/"+c.adatum.String()+"/accounts?limit=1&cursor="+url.QueryEscape(*first.NextCursor), &second)
	if first.Items[0].Name != "Alpine" || second.Items[0].Name != "Contoso" || second.NextCursor != nil {
		t.Errorf("pages %+v then %+v", first, second)
	}
	f.partners.RemoveUser(c.adatum, ben)
	f.problem("ben@adatum.example", "/v1/partners/"+c.adatum.String(), http.StatusNotFound)
}

func TestAccountPartners_and_visibility_with_one_partner(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	var v PartnerVisibility
	f.ok(admin, "/v1/accounts/"+acc.String()+"/partner-visibility", &v)
	if v.Available || len(v.Partners) != 0 || v.Grants == nil || v.Matrix == nil {
		t.Errorf("no partners: %+v", v)
	}
	litware := f.partner("Litware")
	f.associate(acc, litware)
	var ps AccountPartners
	f.ok(admin, "/v1/accounts/"+acc.String()+"/partners", &ps)
	if len(ps.Items) != 1 || ps.Items[0] != (AccountPartner{litware.String(), "Litware", t0}) {
		t.Errorf("partners %+v", ps)
	}
	f.ok(admin, "/v1/accounts/"+acc.String()+"/partner-visibility", &v)
	if v.Available || len(v.Partners) != 1 || len(v.Matrix) != 1 || len(v.Matrix[0].Sources) != 0 {
		t.Errorf("one partner: %+v", v)
	}
	f.problem(ops, "/v1/accounts/"+uuid.NewString()+"/partner-visibility", http.StatusNotFound)
}

func TestMe_lists_the_partners_the_caller_acts_for(t *testing.T) {
	f := newFixture(t, time.Second)
	c := newChannel(f)
	f.partnerUser(c.litware, "nora@NORTHWIND.example", "Nora", "North", "user_management_admin")
	var got Me
	f.ok(nora, "/v1/me", &got)
	want := []MyPartner{{c.litware.String(), "Litware", []string{"user_management_admin"}}, {c.northwind.String(), "Northwind", []string{"global_admin"}}}
	if len(got.Partners) != 2 || got.Accounts == nil ||
		!slices.EqualFunc(got.Partners, want, func(a, b MyPartner) bool { return a.PartnerID == b.PartnerID && slices.Equal(a.Roles, b.Roles) }) {
		t.Errorf("partners %+v, want %+v", got.Partners, want)
	}
	var raw map[string]any
	f.ok(admin, "/v1/me", &raw)
	if ps, ok := raw["partners"].([]any); !ok || len(ps) != 0 {
		t.Errorf("a customer user: %v, want partners []", raw)
	}
}

func TestAfter_waits_for_the_partners_read_model_too(t *testing.T) {
	f := newFixture(t, 60*time.Millisecond)
	acc := contoso(f)
	f.buildCheckpoint(f.build, 10, 10)
	f.problem(admin, subsPath(acc, "after=10-10"), http.StatusServiceUnavailable)
	f.buildCheckpoint(f.partners.Schema, 10, 10)
	f.ok(admin, subsPath(acc, "after=10-10"), &SubscriptionPage{})
	f.ok(admin, "/v1/me?after=10-10", &Me{})
}

// A read waits for the read models it reads, and for those alone: a user
// list for the partners one only when read for a partner, and a partner
// for the partners one alone, while its accounts are read from the users
// one too.
func TestAfter_waits_only_for_the_read_models_the_read_reads(t *testing.T) {
	f := newFixture(t, 60*time.Millisecond)
	c := newChannel(f)
	f.buildCheckpoint(f.build, 10, 10) // the partners read model is behind
	f.ok(admin, usersPath(c.acc, url.Values{"after": {"10-10"}}), &UserPage{})
	f.problem(sam, usersPath(c.acc, url.Values{"after": {"10-10"}, "partnerId": {c.litware.String()}}), http.StatusServiceUnavailable)
	f.buildCheckpoint(f.partners.Schema, 20, 20) // now the users read model is
	f.ok(sam, "/v1/partners/"+c.litware.String()+"?after=20-20", &Partner{})
	f.problem(sam, "/v1/partners/"+c.litware.String()+"/accounts?after=20-20", http.StatusServiceUnavailable)
}

// An account's partners come a page at a time, by name, as every list.
func TestAccountPartners_page_by_name(t *testing.T) {
	f := newFixture(t, time.Second)
	c := newChannel(f)
	path := "/v1/accounts/" + c.acc.String() + "/partners"
	var first, second AccountPartners
	f.ok(admin, path+"?limit=2", &first)
	if len(first.Items) != 2 || first.Items[0].Name != "Adatum" || first.Items[1].Name != "Litware" || first.NextCursor == nil {
		t.Fatalf("first page %+v", first)
	}
	f.ok(admin, path+"?limit=2&cursor="+*first.NextCursor, &second)
	if len(second.Items) != 1 || second.Items[0].Name != "Northwind" || second.NextCursor != nil {
		t.Fatalf("second page %+v", second)
	}
	f.problem(admin, path+"?limit=abc", http.StatusBadRequest)
	f.problem(admin, path+"?cursor=nope", http.StatusBadRequest)
}
