package commands_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/eventstore"
)

// noLookup lists the subscriptions given and no user, so that every user
// is read from their stream.
type noLookup struct{ subs []uuid.UUID }

func (l noLookup) Subscriptions(context.Context, uuid.UUID) ([]uuid.UUID, error) { return l.subs, nil }

func (noLookup) ActiveUsers(context.Context, uuid.UUID, []uuid.UUID) (map[uuid.UUID]string, error) {
	return nil, nil
}

func (noLookup) AwaitPosition(context.Context, eventstore.Position) error { return nil }

// lagging is a lookup whose subscriptions read model has not yet listed
// those bought last (unlisted): AwaitPosition lists them, as its
// projector would.
type lagging struct {
	noLookup
	listed, unlisted *[]uuid.UUID
}

func (l lagging) Subscriptions(context.Context, uuid.UUID) ([]uuid.UUID, error) {
	return *l.listed, nil
}

func (l lagging) AwaitPosition(context.Context, eventstore.Position) error {
	*l.listed, *l.unlisted = append(*l.listed, *l.unlisted...), nil
	return nil
}

// licensed buys total licenses of a product for the fixture's account and
// returns what the license commands need.
func (f *fixture) licensed(t *testing.T, product string, total int) (commands.Licensing, uuid.UUID) {
	t.Helper()
	return f.licensedUntil(t, product, total, f.clock.Now().Add(365*24*time.Hour))
}

// licensedUntil is licensed with a subscription that expires at expiresAt.
func (f *fixture) licensedUntil(t *testing.T, product string, total int, expiresAt time.Time) (commands.Licensing, uuid.UUID) {
	t.Helper()
	cat, err := licensing.Default()
	if err != nil {
		t.Fatal(err)
	}
	res, err := commands.PurchaseSubscriptionHandler(f.deps).Handle(context.Background(), commands.PurchaseSubscription{By: f.admin, AccountID: f.account,
		Order: subscription.Order{ProductID: product, ProductName: product, Name: "team", ExpiresAt: expiresAt,
			Price: subscription.Price{Amount: "10", Currency: "USD"}, TotalLicenses: total}})
	if err != nil {
		t.Fatal(err)
	}
	return commands.Licensing{Catalog: cat, Lookup: noLookup{[]uuid.UUID{res.SubscriptionID}}}, res.SubscriptionID
}

// viewer invites an account viewer and, when accept, accepts for them.
func (f *fixture) viewer(t *testing.T, email string, accept bool) uuid.UUID {
	t.Helper()
	inv, err := f.invite(f.admin, email, "account_viewer")
	if err != nil {
		t.Fatal(err)
	}
	if accept {
		f.accept(t, inv.UserID)
	}
	return inv.UserID
}

func outcomesOf(res commands.LicenseResults) string {
	var out []string
	for _, r := range res.Results {
		out = append(out, string(r.Outcome)+":"+r.Reason)
	}
	return fmt.Sprint(out)
}

func TestAssignLicenses_reads_users_the_lookup_does_not_list_from_their_streams(t *testing.T) {
	f := newFixture(t)
	l, _ := f.licensed(t, "office-e3", 5)
	active, pending := f.viewer(t, "active@fabrikam.example", true), f.viewer(t, "pending@fabrikam.example", false)
	res, err := commands.AssignLicensesHandler(f.deps, l).Handle(context.Background(), commands.AssignLicenses{By: f.admin, AccountID: f.account,
		UserIDs: []uuid.UUID{active, pending, uuid.New()}, Products: []licensing.Choice{{ProductID: "office-e3"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomesOf(res); got != "[assigned: refused:user-not-active refused:user-not-in-account]" {
		t.Fatalf("outcomes %s", got)
	}
}

func TestAssignLicenses_run_again_with_its_idempotency_key_answers_the_same_and_appends_nothing(t *testing.T) {
	f := newFixture(t)
	l, sub := f.licensed(t, "visio-plan-2", 5)
	u := f.viewer(t, "u@fabrikam.example", true)
	ctx := commands.WithIdempotencyKey(context.Background(), "admin-1/assign/once")
	handler := commands.AssignLicensesHandler(f.deps, l)
	cmd := commands.AssignLicenses{By: f.admin, AccountID: f.account, UserIDs: []uuid.UUID{u}, Products: []licensing.Choice{{ProductID: "visio-plan-2"}}}
	first, err := handler.Handle(ctx, cmd)
	if err != nil || outcomesOf(first) != "[assigned:]" {
		t.Fatalf("first run %s %v", outcomesOf(first), err)
	}
	again, err := handler.Handle(ctx, cmd)
	if err != nil || outcomesOf(again) != "[assigned:]" || again.Position != first.Position {
		t.Fatalf("second run %s at %v (first at %v): %v", outcomesOf(again), again.Position, first.Position, err)
	}
	recs, err := f.deps.Store.ReadStream(context.Background(), subscription.Stream(sub), eventstore.ReadStreamOptions{})
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d events: %v", len(recs), err)
	}
	// Without the key the same request finds the license held.
	other, err := handler.Handle(context.Background(), cmd)
	if err != nil || outcomesOf(other) != "[already_held:]" {
		t.Fatalf("without the key %s %v", outcomesOf(other), err)
	}
}

// A self-service assignment on a subscription the read model does not
// list yet waits for it to be listed: a bulk request right after must
// see that user's new product.
func TestAssignSubscriptionLicenses_on_an_unlisted_subscription_is_seen_by_the_next_request(t *testing.T) {
	f := newFixture(t)
	l, e1 := f.licensed(t, "office-e1", 5)
	_, e3 := f.licensed(t, "office-e3", 5)
	listed, unlisted := []uuid.UUID{e1}, []uuid.UUID{e3}
	l.Lookup = lagging{listed: &listed, unlisted: &unlisted}
	u := f.viewer(t, "u@fabrikam.example", true)
	if _, err := commands.AssignSubscriptionLicensesHandler(f.deps, l).Handle(context.Background(), commands.AssignSubscriptionLicenses{
		By: f.admin, AccountID: f.account, SubscriptionID: e3, UserIDs: []uuid.UUID{u}}); err != nil {
		t.Fatal(err)
	}
	res, err := commands.AssignLicensesHandler(f.deps, l).Handle(context.Background(), commands.AssignLicenses{By: f.admin, AccountID: f.account,
		UserIDs: []uuid.UUID{u}, Products: []licensing.Choice{{ProductID: "office-e1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomesOf(res); got != "[refused:conflicts-with-held]" {
		t.Fatalf("office-e1 for a holder of office-e3: %s", got)
	}
}

// Self-service on a cancelled subscription says so, rather than that it
// has no license free.
func TestAssignSubscriptionLicenses_on_a_cancelled_subscription_is_refused_as_cancelled(t *testing.T) {
	f := newFixture(t)
	l, sub := f.licensed(t, "office-e3", 5)
	if _, err := commands.CancelSubscriptionHandler(f.deps, l).Handle(context.Background(), commands.CancelSubscription{
		By: f.admin, AccountID: f.account, SubscriptionID: sub, Reason: "no_longer_needed"}); err != nil {
		t.Fatal(err)
	}
	u := f.viewer(t, "u@fabrikam.example", true)
	_, err := commands.AssignSubscriptionLicensesHandler(f.deps, l).Handle(context.Background(), commands.AssignSubscriptionLicenses{
		By: f.admin, AccountID: f.account, SubscriptionID: sub, UserIDs: []uuid.UUID{u}})
	if !domain.IsRule(err, "subscription-cancelled") {
		t.Fatalf("assigning on a cancelled subscription: %v", err)
	}
}

// A license command decides at the time its turn in the account comes,
// not when it was asked: a subscription that expired while the command
// waited for the turn (behind another command of the account, or for
// the read model) gives no license, where it was recorded as assigned
// from an expired subscription, a license no one holds.
func TestAssignLicenses_decides_at_the_time_its_turn_comes(t *testing.T) {
	f := newFixture(t)
	u := f.viewer(t, "u@fabrikam.example", true)
	for _, selfService := range []bool{false, true} {
		l, sub := f.licensedUntil(t, "office-e3", 5, f.clock.Now().Add(time.Minute))
		// The turn comes two minutes later: the subscription has expired.
		l.Serial = &beforeTurn{Serial: checked("account"), before: func() { f.clock.Advance(2 * time.Minute) }}
		if selfService {
			_, err := commands.AssignSubscriptionLicensesHandler(f.deps, l).Handle(context.Background(), commands.AssignSubscriptionLicenses{
				By: f.admin, AccountID: f.account, SubscriptionID: sub, UserIDs: []uuid.UUID{u}})
			if !domain.IsRule(err, "subscription-expired") {
				t.Fatalf("self-service assignment on a subscription expired when the turn came: %v", err)
			}
		} else {
			res, err := commands.AssignLicensesHandler(f.deps, l).Handle(context.Background(), commands.AssignLicenses{By: f.admin, AccountID: f.account,
				UserIDs: []uuid.UUID{u}, Products: []licensing.Choice{{ProductID: "office-e3"}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := outcomesOf(res); got != "[refused:not-enough-licenses]" {
				t.Fatalf("bulk assignment from a subscription expired when the turn came: %s", got)
			}
		}
		recs, err := f.deps.Store.ReadStream(context.Background(), subscription.Stream(sub), eventstore.ReadStreamOptions{})
		if err != nil || len(recs) != 1 {
			t.Fatalf("the expired subscription's stream has %d events, want its purchase alone: %v", len(recs), err)
		}
	}
}
