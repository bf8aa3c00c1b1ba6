package service_test

import (
	"net/http"
	"slices"
	"testing"
)

// TestFeed_a_partner_follows_its_orders_and_what_passes_between_it_and_others
// checks what the feed shows a partner's users: every event of the
// subscriptions it ordered (only the purchase names the partner; the
// changes, the cancellation name it in partnerid all the same), and the
// channel changes and visibility grants between it and another partner,
// which name two partners and so none in partnerid.
func TestFeed_a_partner_follows_its_orders_and_what_passes_between_it_and_others(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	b, bAdmin := h.partner("Beta", "ben@beta.example")
	c, cAdmin := h.partner("Gamma", "gil@gamma.example")
	h.serve(accountID, a)
	h.serve(accountID, b)
	subs := "/v1/accounts/" + accountID + "/subscriptions"
	alpha, _ := h.order(accountID, aAdmin, a, "alpha-order")
	h.order(accountID, bAdmin, b, "beta-order")
	h.order(accountID, admin, "", "own-purchase")
	h.must(http.StatusOK, "PUT", subs+"/"+alpha+"/total-licenses", admin, map[string]any{"total": 105})
	h.must(http.StatusOK, "POST", subs+"/"+alpha+"/cancel", admin, map[string]any{"reason": "other"})
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/partner-visibility/grants", admin,
		map[string]any{"granteePartnerId": a, "sourcePartnerId": b})
	h.serve(accountID, c)
	op := h.token("op-1", "ops@bizcenter.example", true)
	pos := h.must(http.StatusOK, "POST", "/v1/accounts/"+accountID+"/channel-partner-changes", op,
		map[string]any{"fromPartnerId": b, "toPartnerId": c})["position"].(string)
	// Who acts for which partner is read from the read models: wait until
	// they hold the change (and with it everything before).
	h.must(http.StatusOK, "GET", "/v1/partners/"+c+"/accounts/"+accountID+"/subscriptions?after="+pos, cAdmin, nil)

	feedOf := func(token string) []string {
		t.Helper()
		var seen []string
		for _, e := range h.backlog(token, "?follow=false", "") {
			ce := decodeCE(t, e)
			seen = append(seen, ce.Type[len("bizcenter."):len(ce.Type)-len(".v1")]+" "+ce.PartnerID)
		}
		return seen
	}
	for _, tc := range []struct {
		name, token string
		want        []string
	}{
		{"Alpha", aAdmin, []string{
			"partner.registered " + a,
			"partner.user_added " + a,
			"account.partner_associated " + a,
			"subscription.purchased " + a,
			"subscription.license_total_changed " + a,
			"subscription.cancelled " + a,
			"account.partner_visibility_granted ",
		}},
		{"Beta", bAdmin, []string{
			"partner.registered " + b,
			"partner.user_added " + b,
			"account.partner_associated " + b,
			"subscription.purchased " + b,
			"account.partner_visibility_granted ",
			"account.channel_partner_changed ",
		}},
		{"Gamma", cAdmin, []string{
			"partner.registered " + c,
			"partner.user_added " + c,
			"account.partner_associated " + c,
			"account.channel_partner_changed ",
		}},
	} {
		if got := feedOf(tc.token); !slices.Equal(got, tc.want) {
			t.Errorf("%s's feed:\n got  %q\n want %q", tc.name, got, tc.want)
		}
	}
	// The customer's own members get the same CloudEvents: the change of
	// a partner's order names the partner for them too.
	var changes []string
	for _, e := range h.backlog(admin, "?follow=false&types=bizcenter.subscription.license_total_changed.v1", "") {
		changes = append(changes, decodeCE(t, e).PartnerID)
	}
	if !slices.Equal(changes, []string{a}) {
		t.Errorf("the administrator's license changes name partners %q, want [%s]", changes, a)
	}
}

// TestFeed_a_change_of_channel_partner_hands_the_feed_of_its_orders_over
// checks that a change of channel partner ends what the previous partner
// follows of the orders it placed there: they are the new partner's now
// (DOMAIN.md "Partner visibility"), and the API shows the previous one
// none of them. What happened to them before the move stays in its feed;
// what happens after is in the new partner's, which showed none of it.
func TestFeed_a_change_of_channel_partner_hands_the_feed_of_its_orders_over(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	b, bAdmin := h.partner("Beta", "ben@beta.example")
	h.serve(accountID, a)
	subs := "/v1/accounts/" + accountID + "/subscriptions"
	order, _ := h.order(accountID, aAdmin, a, "alpha-order")
	h.must(http.StatusOK, "PUT", subs+"/"+order+"/total-licenses", admin, map[string]any{"total": 105})
	op := h.token("op-1", "ops@bizcenter.example", true)
	h.must(http.StatusOK, "POST", "/v1/accounts/"+accountID+"/channel-partner-changes", op,
		map[string]any{"fromPartnerId": a, "toPartnerId": b})
	h.must(http.StatusOK, "PUT", subs+"/"+order+"/total-licenses", admin, map[string]any{"total": 110})
	pos := h.must(http.StatusOK, "POST", subs+"/"+order+"/cancel", admin, map[string]any{"reason": "other"})["position"].(string)
	// The scope is read from the read models: wait until they hold it all.
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/subscriptions?after="+pos, admin, nil)

	orders := func(token string) []string { return h.ordersInFeed(token, "") }
	if got, want := orders(aAdmin), []string{"subscription.purchased " + a, "subscription.license_total_changed " + a}; !slices.Equal(got, want) {
		t.Errorf("Alpha, moved off the account, follows its order there:\n got  %q\n want %q", got, want)
	}
	// Beta follows the order from the change on, as it reads it through
	// the API: it is Beta's now, though it names Alpha, who placed it.
	if got, want := orders(bAdmin), []string{"subscription.license_total_changed " + a, "subscription.cancelled " + a}; !slices.Equal(got, want) {
		t.Errorf("Beta, handed the account, follows the order it took over:\n got  %q\n want %q", got, want)
	}
}

// TestFeed_a_partner_follows_each_order_it_took_over_from_its_own_change
// checks that what a partner follows of the orders it took over starts at
// the change that handed each of them to it, not at the last change that
// brought it some: Gamma, taking Alpha's order, then Beta's, follows
// Alpha's from the first change on. And a partner that handed orders it
// took over on to another keeps in its feed what happened to them while
// they were its (as the orders it placed itself): the API showed them to
// it then.
func TestFeed_a_partner_follows_each_order_it_took_over_from_its_own_change(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	a, aAdmin := h.partner("Alpha", "ann@alpha.example")
	b, bAdmin := h.partner("Beta", "ben@beta.example")
	c, cAdmin := h.partner("Gamma", "gil@gamma.example")
	d, dAdmin := h.partner("Delta", "dan@delta.example")
	h.serve(accountID, a)
	h.serve(accountID, b)
	h.serve(accountID, c)
	subs := "/v1/accounts/" + accountID + "/subscriptions"
	order, _ := h.order(accountID, aAdmin, a, "alpha-order")
	h.order(accountID, bAdmin, b, "beta-order")
	op := h.token("op-1", "ops@bizcenter.example", true)
	change := func(from, to string) {
		t.Helper()
		h.must(http.StatusOK, "POST", "/v1/accounts/"+accountID+"/channel-partner-changes", op,
			map[string]any{"fromPartnerId": from, "toPartnerId": to})
	}
	change(a, c)
	h.must(http.StatusOK, "PUT", subs+"/"+order+"/total-licenses", admin, map[string]any{"total": 105})
	change(b, c)
	h.must(http.StatusOK, "PUT", subs+"/"+order+"/total-licenses", admin, map[string]any{"total": 110})
	h.serve(accountID, d)
	change(c, d)
	pos := h.must(http.StatusOK, "POST", subs+"/"+order+"/cancel", admin, map[string]any{"reason": "other"})["position"].(string)
	// The scope is read from the read models: wait until they hold it all.
	h.must(http.StatusOK, "GET", subs+"?after="+pos, admin, nil)

	orders := func(token string) []string { return h.ordersInFeed(token, a) }
	for _, tc := range []struct {
		name, token string
		want        []string
	}{
		{"Alpha", aAdmin, []string{"subscription.purchased"}},
		{"Beta", bAdmin, nil},
		{"Gamma", cAdmin, []string{"subscription.license_total_changed", "subscription.license_total_changed"}},
		{"Delta", dAdmin, []string{"subscription.cancelled"}},
	} {
		if got := orders(tc.token); !slices.Equal(got, tc.want) {
			t.Errorf("%s follows of Alpha's order:\n got  %q\n want %q", tc.name, got, tc.want)
		}
	}
}

// ordersInFeed lists the subscription events of token's feed: of the
// orders of partner, by type, or, partner "", of all orders, as "type
// partnerid".
func (h *harness) ordersInFeed(token, partner string) []string {
	h.t.Helper()
	var got []string
	for _, e := range h.backlog(token, "?follow=false", "") {
		ce := decodeCE(h.t, e)
		if !ce.OfSubscription() || partner != "" && ce.PartnerID != partner {
			continue
		}
		typ := ce.Type[len("bizcenter.") : len(ce.Type)-len(".v1")]
		if partner == "" {
			typ += " " + ce.PartnerID
		}
		got = append(got, typ)
	}
	return got
}
