package commands_test

import (
	"context"
	"testing"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
)

// An erased user acts as nobody: giving them a role (Account
// Administrator, say) gives nobody anything, yet listed them among the
// account's administrators and told every consumer about a person it had
// been told to forget. It is refused (user-erased), as a resend is;
// taking roles away still goes ahead.
func TestChangeUserRoles_gives_an_erased_user_no_role(t *testing.T) {
	f := newFixture(t)
	inv, err := f.invite(f.admin, "gone.roles@fabrikam.example", "reports_viewer", "account_viewer")
	if err != nil {
		t.Fatal(err)
	}
	gone := inv.UserID
	f.accept(t, gone)
	if err := f.eraseUser(f.deps, gone); err != nil {
		t.Fatal(err)
	}
	change := func(roles ...string) error {
		_, err := commands.ChangeUserRolesHandler(f.deps).Handle(context.Background(), commands.ChangeUserRoles{
			By: f.admin, AccountID: f.account, UserID: gone, Roles: roles})
		return err
	}
	if err := change("account_administrator"); !domain.IsRule(err, "user-erased") {
		t.Fatalf("making an erased user an administrator: want user-erased, got %v", err)
	}
	if err := change("account_viewer", "user_administrator"); !domain.IsRule(err, "user-erased") {
		t.Fatalf("swapping in a role for an erased user: want user-erased, got %v", err)
	}
	if err := f.demote(f.deps, f.admin, gone); err != nil {
		t.Fatalf("taking a role from an erased user: %v", err)
	}
}
