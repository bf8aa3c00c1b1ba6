package commands_test

import (
	"context"
	"testing"

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
