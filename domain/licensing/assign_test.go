package licensing

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
)

func catalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func active(country string, holds ...string) User {
	u := User{ID: uuid.New(), InAccount: true, Active: true, Country: country, Holds: map[string][]uuid.UUID{}}
	for _, p := range holds {
		u.Holds[p] = []uuid.UUID{uuid.New()}
	}
	return u
}

func pool(free ...int) []Slot {
	var out []Slot
	for _, f := range free {
		out = append(out, Slot{SubscriptionID: uuid.New(), Free: f})
	}
	return out
}

func choose(products ...string) []Choice {
	var out []Choice
	for _, p := range products {
		out = append(out, Choice{ProductID: p})
	}
	return out
}

// outcomes are the results as "product:outcome[:reason[:detail]]" for each
// user in turn.
func outcomes(results []Result) []string {
	var out []string
	for _, r := range results {
		s := fmt.Sprintf("%s:%s", r.ProductID, r.Outcome)
		if r.Reason != "" {
			s += ":" + r.Reason
		}
		if r.Detail != "" {
			s += ":" + r.Detail
		}
		out = append(out, s)
	}
	return out
}

func expect(t *testing.T, results []Result, want ...string) {
	t.Helper()
	got := outcomes(results)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

func TestAssign_refuses_each_user_with_the_first_rule_they_break(t *testing.T) {
	c := catalog(t)
	stranger := User{ID: uuid.New()}
	pending := User{ID: uuid.New(), InAccount: true, Country: "US"}
	users := []User{stranger, pending, active("US", "office-e3"), active("KR"), active("US", "office-e1"), active("US")}
	results, grants := c.Assign(users, choose("office-e3", "teams-phone"), map[string][]Slot{"office-e3": pool(10), "teams-phone": pool(10)})
	expect(t, results,
		"office-e3:refused:user-not-in-account", "teams-phone:refused:user-not-in-account",
		"office-e3:refused:user-not-active", "teams-phone:refused:user-not-active",
		"office-e3:already_held", "teams-phone:assigned",
		"office-e3:assigned", "teams-phone:refused:not-sold-in-country:KR",
		"office-e3:refused:conflicts-with-held:office-e1", "teams-phone:refused:requires-product:office-e3",
		"office-e3:assigned", "teams-phone:assigned",
	)
	if len(grants) != 2 || len(grants[0].UserIDs) != 2 || len(grants[1].UserIDs) != 2 {
		t.Fatalf("grants %+v", grants)
	}
	if got := grants[0].ServicePlans; got != nil {
		t.Fatalf("Assign keeps the plans it is given (CheckChoices fills in all): %v", got)
	}
}

func TestAssign_refuses_both_products_that_conflict_in_one_request(t *testing.T) {
	c := catalog(t)
	results, grants := c.Assign([]User{active("US")}, choose("office-e1", "office-e5", "visio-plan-2"),
		map[string][]Slot{"office-e1": pool(1), "office-e5": pool(1), "visio-plan-2": pool(1)})
	expect(t, results, "office-e1:refused:conflicts-in-request:office-e5", "office-e5:refused:conflicts-in-request:office-e1", "visio-plan-2:assigned")
	if len(grants) != 1 {
		t.Fatalf("grants %+v", grants)
	}
}

func TestAssign_is_all_or_nothing_per_product_and_rechecks_what_requires_it(t *testing.T) {
	c := catalog(t)
	users := []User{active("US"), active("US"), active("US", "office-e3")}
	// Two users need office-e3 and one license is free: nobody gets it,
	// so their teams-phone (which requires it) is refused too, while the
	// third user, who holds office-e3, gets teams-phone.
	results, grants := c.Assign(users, choose("office-e3", "teams-phone"), map[string][]Slot{"office-e3": pool(1), "teams-phone": pool(5)})
	expect(t, results,
		"office-e3:refused:not-enough-licenses:available 1", "teams-phone:refused:requires-product:office-e3",
		"office-e3:refused:not-enough-licenses:available 1", "teams-phone:refused:requires-product:office-e3",
		"office-e3:already_held", "teams-phone:assigned")
	if len(grants) != 1 || grants[0].ProductID != "teams-phone" {
		t.Fatalf("grants %+v", grants)
	}
}

func TestAssign_fills_the_slots_in_order(t *testing.T) {
	c := catalog(t)
	slots := pool(1, 0, 2)
	results, grants := c.Assign([]User{active("US"), active("US"), active("US")}, choose("visio-plan-2"), map[string][]Slot{"visio-plan-2": slots})
	expect(t, results, "visio-plan-2:assigned", "visio-plan-2:assigned", "visio-plan-2:assigned")
	if len(grants) != 2 || grants[0].SubscriptionID != slots[0].SubscriptionID || len(grants[1].UserIDs) != 2 || grants[1].SubscriptionID != slots[2].SubscriptionID {
		t.Fatalf("grants %+v", grants)
	}
}

func TestAssign_without_a_pool_refuses_for_want_of_licenses(t *testing.T) {
	c := catalog(t)
	results, _ := c.Assign([]User{active("US")}, choose("dynamics-365-sales"), nil)
	expect(t, results, "dynamics-365-sales:refused:not-enough-licenses:available 0")
}

func TestRevoke_keeps_what_a_kept_product_requires(t *testing.T) {
	c := catalog(t)
	u := active("US", "office-e3", "teams-phone", "audio-conferencing")
	all := func(uuid.UUID) bool { return true }
	results, releases := c.Revoke([]User{u}, []string{"office-e3", "teams-phone", "visio-plan-2"}, all)
	expect(t, results, "office-e3:refused:required-by-held:teams-phone", "teams-phone:refused:required-by-held:audio-conferencing", "visio-plan-2:not_held")
	if len(releases) != 0 {
		t.Fatalf("releases %+v", releases)
	}
	results, releases = c.Revoke([]User{u, {ID: uuid.New()}}, []string{"audio-conferencing", "teams-phone", "office-e3"}, all)
	expect(t, results, "audio-conferencing:revoked", "teams-phone:revoked", "office-e3:revoked",
		"audio-conferencing:refused:user-not-in-account", "teams-phone:refused:user-not-in-account", "office-e3:refused:user-not-in-account")
	if len(releases) != 3 {
		t.Fatalf("releases %+v", releases)
	}
	none := func(uuid.UUID) bool { return false }
	results, _ = c.Revoke([]User{u}, []string{"audio-conferencing"}, none)
	expect(t, results, "audio-conferencing:refused:held-outside-your-subscriptions")
}

func TestCheckChoices_fills_in_every_plan_and_names_bad_fields(t *testing.T) {
	c := catalog(t)
	verr := &domain.ValidationError{}
	got := c.CheckChoices([]Choice{{ProductID: "visio-plan-2"}, {ProductID: "office-e3", ServicePlans: []string{"teams", "exchange-online-2"}}},
		func(string) bool { return false }, verr)
	if verr.Err() != nil || fmt.Sprint(got[0].ServicePlans) != "[visio-online visio-desktop]" || fmt.Sprint(got[1].ServicePlans) != "[exchange-online-2 teams]" {
		t.Fatalf("%v %v", got, verr.Err())
	}
	c.CheckChoices([]Choice{{ProductID: "nope"}, {ProductID: "visio-plan-2", ServicePlans: []string{}}, {ProductID: "office-e3", ServicePlans: []string{"visio-online"}},
		{ProductID: "visio-plan-2"}}, func(p string) bool { return p == "bought-elsewhere" }, verr)
	want := "invalid input: products[0].productId: not a product of the catalog or of the account's subscriptions; " +
		"products[1].servicePlans: at least one service plan; leave the field out for all of them; " +
		"products[2].servicePlans: \"visio-online\" is not a service plan of the product; products[3].productId: listed twice"
	if verr.Err() == nil || verr.Error() != want {
		t.Fatalf("got  %v\nwant %s", verr.Err(), want)
	}
}

func TestAssign_counts_a_product_only_for_users_whose_requirements_survive_a_shortage(t *testing.T) {
	c := catalog(t)
	users := []User{active("US"), active("US"), active("US", "office-e3")}
	// Both products are short when everyone is counted, in the same
	// round: office-e3 (two users, one free) and teams-phone (three, one
	// free). Without office-e3 the first two cannot have teams-phone, so
	// it is needed by the third user alone, for whom one license is free.
	results, grants := c.Assign(users, choose("office-e3", "teams-phone"), map[string][]Slot{"office-e3": pool(1), "teams-phone": pool(1)})
	expect(t, results,
		"office-e3:refused:not-enough-licenses:available 1", "teams-phone:refused:requires-product:office-e3",
		"office-e3:refused:not-enough-licenses:available 1", "teams-phone:refused:requires-product:office-e3",
		"office-e3:already_held", "teams-phone:assigned")
	if len(grants) != 1 || grants[0].ProductID != "teams-phone" || len(grants[0].UserIDs) != 1 {
		t.Fatalf("grants %+v", grants)
	}
}
