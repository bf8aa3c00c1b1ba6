package commands_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/licensing"
)

// An erased user acts as nobody and will never sign in again: a license
// given to them is a paid seat nobody uses. Assigning is refused
// (user-erased), as for a user who never came; what they hold may still be
// revoked, to free it. The users are read from their streams here (the
// lookup lists nobody).
func TestAssignLicenses_refuses_an_erased_user_and_revokes_what_they_hold(t *testing.T) {
	f := newFixture(t)
	l, _ := f.licensed(t, "office-e3", 5)
	ctx := context.Background()
	gone := f.viewer(t, "gone@fabrikam.example", true)
	assign := func(products ...string) string {
		t.Helper()
		var choices []licensing.Choice
		for _, p := range products {
			choices = append(choices, licensing.Choice{ProductID: p})
		}
		res, err := commands.AssignLicensesHandler(f.deps, l).Handle(ctx, commands.AssignLicenses{By: f.admin, AccountID: f.account,
			UserIDs: []uuid.UUID{gone}, Products: choices})
		if err != nil {
			t.Fatal(err)
		}
		return outcomesOf(res)
	}
	if got := assign("office-e3"); got != "[assigned:]" {
		t.Fatalf("before the erasure: %s", got)
	}
	if err := f.eraseUser(f.deps, gone); err != nil {
		t.Fatal(err)
	}
	l2, _ := f.licensed(t, "visio-plan-2", 5)
	l.Lookup = noLookup{append(l.Lookup.(noLookup).subs, l2.Lookup.(noLookup).subs...)}
	if got := assign("visio-plan-2"); got != "[refused:user-erased]" {
		t.Fatalf("after the erasure: %s, want refused:user-erased", got)
	}
	res, err := commands.RevokeLicensesHandler(f.deps, l).Handle(ctx, commands.RevokeLicenses{By: f.admin, AccountID: f.account,
		UserIDs: []uuid.UUID{gone}, ProductIDs: []string{"office-e3"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomesOf(res); got != "[revoked:]" {
		t.Fatalf("revoking what the erased user holds: %s", got)
	}
}
