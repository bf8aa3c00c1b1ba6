package commands_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/user"
)

// secondAdministrator invites and accepts kim as an Account Administrator.
func (f *fixture) secondAdministrator(t *testing.T) (uuid.UUID, commands.Actor) {
	t.Helper()
	kim, res := f.member(t, "kim", "account_administrator")
	return res.UserID, kim
}

func (f *fixture) eraseUser(deps commands.Deps, id uuid.UUID) error {
	_, err := commands.ErasePersonalDataHandler(deps).Handle(context.Background(), commands.ErasePersonalData{
		By: operator, AccountID: f.account, UserID: id, Reason: "verified request DSR-1"})
	return err
}

func (f *fixture) demote(deps commands.Deps, by commands.Actor, id uuid.UUID) error {
	_, err := commands.ChangeUserRolesHandler(deps).Handle(context.Background(), commands.ChangeUserRoles{
		By: by, AccountID: f.account, UserID: id, Roles: []string{"account_viewer"}})
	return err
}

func (f *fixture) accountEvents(t *testing.T, typ string) int {
	t.Helper()
	n := 0
	for _, r := range readAll(t, f, account.Stream(f.account)) {
		if r.Type == typ {
			n++
		}
	}
	return n
}

// Erasing the last active Account Administrator is refused as demoting
// them is, before their key goes; with another active administrator it
// goes ahead, and the account no longer counts the erased one.
func TestErasePersonalData_refuses_the_last_active_account_administrator(t *testing.T) {
	f := newFixture(t)
	boss := f.manager
	if err := f.eraseUser(f.deps, boss); !domain.IsRule(err, "last-account-administrator") {
		t.Fatalf("erasing the only active administrator: want last-account-administrator, got %v", err)
	}
	if f.keyErased(t, boss) {
		t.Fatal("the refused erasure destroyed the key")
	}
	kim, kimActor := f.secondAdministrator(t)
	if err := f.eraseUser(f.deps, boss); err != nil {
		t.Fatalf("erasing an administrator while another remains: %v", err)
	}
	if n := f.accountEvents(t, account.AdministratorRevoked{}.EventType()); n != 1 {
		t.Fatalf("%d administrator revocations after the erasure, want 1", n)
	}
	if err := f.demote(f.deps, kimActor, kim); !domain.IsRule(err, "last-account-administrator") {
		t.Fatalf("the last active administrator demoting herself after the other's erasure: %v", err)
	}
	if err := f.eraseUser(f.deps, kim); !domain.IsRule(err, "last-account-administrator") {
		t.Fatalf("erasing the last active administrator after the other's erasure: %v", err)
	}
}

// An administrator who never signed in may be erased whatever remains:
// the account has no fewer active administrators after.
func TestErasePersonalData_of_a_pending_administrator_goes_ahead(t *testing.T) {
	f := newFixture(t)
	res, err := f.invite(f.admin, "new@fabrikam.example", "account_administrator")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.eraseUser(f.deps, res.UserID); err != nil {
		t.Fatalf("erasing a pending administrator: %v", err)
	}
}

// An administrator whose key is gone (an erasure that stopped, or one
// recorded before erasures revoked the role) acts as nobody: they are
// not the administrator who remains.
func TestChangeUserRoles_does_not_count_an_erased_administrator_as_remaining(t *testing.T) {
	f := newFixture(t)
	boss := f.manager
	kim, kimActor := f.secondAdministrator(t)
	if _, err := f.deps.Personal.Erase(context.Background(), boss, user.Stream(boss), "op", "verified request DSR-2"); err != nil {
		t.Fatal(err)
	}
	if err := f.demote(f.deps, kimActor, kim); !domain.IsRule(err, "last-account-administrator") {
		t.Fatalf("demoting the last administrator beside an erased one: want last-account-administrator, got %v", err)
	}
	// Nor is the erased one the last: with both keys gone, neither acts,
	// and taking the role from one leaves no fewer acting administrators.
	if _, err := f.deps.Personal.Erase(context.Background(), kim, user.Stream(kim), "op", "verified request DSR-3"); err != nil {
		t.Fatal(err)
	}
	if err := f.demote(f.deps, operator, boss); err != nil {
		t.Fatalf("demoting an administrator whose key is gone: %v", err)
	}
}

// An erasure and a demotion of the last two active administrators, the
// demotion landing between the erasure's read of the account and its
// append: the erasure reads again and is refused.
func TestErasePersonalData_and_a_demotion_of_the_last_two_administrators_do_not_both_pass(t *testing.T) {
	f := newFixture(t)
	boss := f.manager
	kim, _ := f.secondAdministrator(t)
	var demoted error
	deps := f.beforeAppendTo(account.Stream(f.account), func() { demoted = f.demote(f.deps, operator, kim) })
	erased := f.eraseUser(deps, boss)
	if demoted != nil {
		t.Fatalf("the demotion in between: %v", demoted)
	}
	if !domain.IsRule(erased, "last-account-administrator") {
		t.Fatalf("the erasure after the demotion: want last-account-administrator, got %v", erased)
	}
	if f.keyErased(t, boss) {
		t.Fatal("the refused erasure destroyed the key")
	}
}

// Run at once, with no account turn, an erasure and a demotion of the
// last two active administrators: one passes, the other is refused.
func TestErasePersonalData_racing_a_demotion_leaves_one_administrator(t *testing.T) {
	f := newFixture(t)
	boss := f.manager
	kim, _ := f.secondAdministrator(t)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = f.eraseUser(f.deps, boss) })
	wg.Go(func() { errs[1] = f.demote(f.deps, operator, kim) })
	wg.Wait()
	ok, refused := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case domain.IsRule(err, "last-account-administrator"), errors.Is(err, domain.ErrConflict):
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || refused != 1 {
		t.Fatalf("erasure %v, demotion %v: want one success and one refusal", errs[0], errs[1])
	}
}
