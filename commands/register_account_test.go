package commands_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// stopsAt is a store that appends one stream at a time (as EventStoreDB
// does), and fails its first append to a stream named with prefix: a
// process that stopped there.
type stopsAt struct {
	eventstore.Store
	prefix  string
	stopped bool
}

func (s *stopsAt) Append(ctx context.Context, stream string, exp eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if !s.stopped && strings.HasPrefix(stream, s.prefix) {
		s.stopped = true
		return eventstore.AppendResult{}, errors.New("the process stopped here")
	}
	return s.Store.Append(ctx, stream, exp, events)
}

// A registration that stopped after claiming the agreement numbers, before
// its account or before its manager's invitation, is finished by the next
// one, where it left them claimed for good: every registration after was
// refused as already registered, and the account could never be.
func TestRegisterAccount_finishes_one_that_stopped_half_way(t *testing.T) {
	for _, stop := range []string{"account-", "user-"} {
		t.Run(stop, func(t *testing.T) {
			f := newFixture(t)
			cmd := commands.RegisterAccount{
				By: commands.Actor{Subject: "op", Operator: true}, Name: "Litware", AgreementNumber: "AG-9", PurchaseAccountNumber: "PA-9",
				Manager: user.Profile{Email: "pam@litware.example", FirstName: "Pam", LastName: "Lit", Language: "en", Country: "US"},
			}
			stopping := f.deps
			stopping.Store = &stopsAt{Store: f.deps.Store, prefix: stop}
			if _, err := commands.RegisterAccountHandler(stopping).Handle(context.Background(), cmd); err == nil {
				t.Fatal("the registration did not stop")
			}
			reg, err := commands.RegisterAccountHandler(f.deps).Handle(context.Background(), cmd)
			if err != nil {
				t.Fatalf("registering again: %v", err)
			}
			f.accept(t, reg.ManagerUserID)
			other := cmd
			other.Manager.Email = "someone@litware.example"
			if _, err := commands.RegisterAccountHandler(f.deps).Handle(context.Background(), other); !errors.Is(err, domain.ErrConflict) {
				t.Fatalf("once finished, a registration of the same numbers: %v, want a conflict", err)
			}
		})
	}
}
