package commands_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/licensing"
)

func (f *fixture) cancel(l commands.Licensing, sub uuid.UUID) error {
	_, err := commands.CancelSubscriptionHandler(f.deps, l).Handle(context.Background(), commands.CancelSubscription{
		By: f.admin, AccountID: f.account, SubscriptionID: sub, Reason: "no_longer_needed"})
	return err
}

// Office 365 E3 is not cancelled while a user of it keeps Teams Phone,
// which requires it: the phone licence would be stranded. Once the phone
// is revoked, it is cancelled.
func TestCancelSubscription_refuses_while_a_product_requiring_it_is_assigned(t *testing.T) {
	f := newFixture(t)
	l, e3 := f.licensed(t, "office-e3", 5)
	_, phone := f.licensed(t, "teams-phone", 5)
	l.Lookup = noLookup{[]uuid.UUID{e3, phone}}
	u := f.viewer(t, "u@fabrikam.example", true)
	plain := f.viewer(t, "plain@fabrikam.example", true)
	res, err := commands.AssignLicensesHandler(f.deps, l).Handle(context.Background(), commands.AssignLicenses{By: f.admin, AccountID: f.account,
		UserIDs: []uuid.UUID{u}, Products: []licensing.Choice{{ProductID: "office-e3"}, {ProductID: "teams-phone"}}})
	if err != nil || outcomesOf(res) != "[assigned: assigned:]" {
		t.Fatalf("assigning E3 and the phone: %s %v", outcomesOf(res), err)
	}
	if _, err := commands.AssignLicensesHandler(f.deps, l).Handle(context.Background(), commands.AssignLicenses{By: f.admin, AccountID: f.account,
		UserIDs: []uuid.UUID{plain}, Products: []licensing.Choice{{ProductID: "office-e3"}}}); err != nil {
		t.Fatal(err)
	}
	if err := f.cancel(l, e3); !domain.IsRule(err, licensing.RequiredByHeld) {
		t.Fatalf("cancelling E3 while a holder keeps Teams Phone: want %s, got %v", licensing.RequiredByHeld, err)
	}
	if _, err := commands.RevokeLicensesHandler(f.deps, l).Handle(context.Background(), commands.RevokeLicenses{By: f.admin, AccountID: f.account,
		UserIDs: []uuid.UUID{u}, ProductIDs: []string{"teams-phone"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.cancel(l, e3); err != nil {
		t.Fatalf("cancelling E3 once the phone is revoked: %v", err)
	}
	// The dependent product's own subscription ends whatever it requires.
	if err := f.cancel(l, phone); err != nil {
		t.Fatalf("cancelling Teams Phone: %v", err)
	}
}
