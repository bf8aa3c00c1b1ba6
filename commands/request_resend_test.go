package commands_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/user"
)

// Registration keeps the agreement and purchase account numbers trimmed;
// a request typed with spaces around them names the same account and
// resends (seed 001: all three match), while another case does not.
func TestRequestManagerResend_matches_numbers_typed_with_spaces_around(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := commands.RegisterAccountHandler(f.deps).Handle(ctx, commands.RegisterAccount{
		By: commands.Actor{Subject: "op", Operator: true}, Name: "Pending Co", AgreementNumber: "AG-7", PurchaseAccountNumber: "PA-7",
		Manager: user.Profile{Email: "pam@pending.example", FirstName: "Pam", LastName: "M", Language: "en", Country: "US"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resend := commands.RequestManagerResendHandler(f.deps)
	sent, err := resend.Handle(ctx, commands.RequestManagerResend{Email: "pam@pending.example", AgreementNumber: " AG-7 ", PurchaseAccountNumber: "PA-7\t"})
	if err != nil || !sent {
		t.Fatalf("numbers with spaces around: sent %v, %v", sent, err)
	}
	sent, err = resend.Handle(ctx, commands.RequestManagerResend{Email: "pam@pending.example", AgreementNumber: "ag-7", PurchaseAccountNumber: "pa-7"})
	if err != nil || sent {
		t.Fatalf("numbers in another case: sent %v, %v", sent, err)
	}
}

// resendRequestRacing runs a resend request for pat@fabrikam.example, the
// manager, with between run after the request read the account and
// before it reads the manager; it answers whether it resent.
func (f *fixture) resendRequestRacing(t *testing.T, manager uuid.UUID, between func()) bool {
	t.Helper()
	requesting := f.deps
	requesting.Store = &interleaved{Store: f.deps.Store, reading: user.Stream(manager), between: between}
	sent, err := commands.RequestManagerResendHandler(requesting).Handle(context.Background(), commands.RequestManagerResend{
		Email: "pat@fabrikam.example", AgreementNumber: "AG-1", PurchaseAccountNumber: "PA-1"})
	if err != nil {
		t.Fatalf("the resend request: %v", err)
	}
	return sent
}

// A whole designation of another manager runs after a resend request
// matched the manager on the account and before it reads the manager:
// the email given no longer names the manager, so nothing is resent. It
// used to give the former manager, who keeps Account Administrator, a
// fresh invitation that none of the customer's administrators sent.
func TestRequestManagerResend_never_lands_after_another_manager_is_designated(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	sent := f.resendRequestRacing(t, manager, func() {
		if err := f.designateKim(f.deps); err != nil {
			t.Error(err)
		}
	})
	if sent {
		t.Fatal("Pat's invitation was resent on a request naming pat@fabrikam.example after Kim became the manager")
	}
	f.resends(t, "kim@fabrikam.example", true)
}

// Nor after a change of the manager's email: the request names an email
// that is no longer the manager's.
func TestRequestManagerResend_never_lands_after_the_managers_email_changed(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	sent := f.resendRequestRacing(t, manager, func() { f.changeEmail(t, f.deps, "x@fabrikam.example") })
	if sent {
		t.Fatal("the manager's invitation was resent on a request naming pat@fabrikam.example after their email became x@fabrikam.example")
	}
	f.resends(t, "x@fabrikam.example", true)
}
