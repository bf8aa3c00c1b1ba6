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
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// interleaved runs between once, just before the first append that at
// picks: a whole command between two steps of another.
type interleaved struct {
	eventstore.Store
	mu      sync.Mutex
	at      func(stream string, events []eventstore.EventData) bool
	between func()
}

func (s *interleaved) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	s.mu.Lock()
	run := s.between
	if run != nil && s.at(stream, events) {
		s.between = nil
	} else {
		run = nil
	}
	s.mu.Unlock()
	if run != nil {
		run()
	}
	return s.Store.Append(ctx, stream, expected, events)
}

var operator = commands.Actor{Subject: "op", Operator: true}

// pendingManager designates pat@fabrikam.example the account's manager:
// a new user, pending (only a pending manager's email may change).
func (f *fixture) pendingManager(t *testing.T) uuid.UUID {
	t.Helper()
	d, err := commands.DesignateManagerHandler(f.deps).Handle(context.Background(), commands.DesignateManager{By: operator, AccountID: f.account,
		Manager: user.Profile{Email: "pat@fabrikam.example", FirstName: "Pat", LastName: "M", Language: "en", Country: "US"}})
	if err != nil {
		t.Fatal(err)
	}
	return d.ManagerUserID
}

// changeEmail runs ChangeManagerEmail as an operator through deps.
func (f *fixture) changeEmail(t *testing.T, deps commands.Deps, email string) {
	t.Helper()
	_, err := commands.ChangeManagerEmailHandler(deps).Handle(context.Background(), commands.ChangeManagerEmail{
		By: operator, AccountID: f.account, Email: email})
	if err != nil {
		t.Errorf("change the manager's email to %s: %v", email, err)
	}
}

// heldOnly checks, by inviting each address, that of emails exactly want
// is reserved in the account (a manager's email nobody holds could be
// given to a second user, with the manager's rights).
func (f *fixture) heldOnly(t *testing.T, want string, emails ...string) {
	t.Helper()
	for _, e := range emails {
		res, err := f.invite(operator, e, "account_viewer")
		switch {
		case e == want && !errors.Is(err, domain.ErrConflict):
			t.Errorf("inviting the manager's email %s: want a conflict, got %v (user %v)", e, err, res.UserID)
		case e != want && err != nil:
			t.Errorf("inviting %s, not the manager's: %v", e, err)
		}
	}
}

// Two changes of the manager's email to the same address race: the
// loser's append to the user conflicts after the winner made the same
// change. The address is the manager's, so it stays reserved.
func TestChangeManagerEmail_to_one_address_at_once_keeps_it_reserved(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	loser := f.deps
	loser.Store = &interleaved{Store: f.deps.Store,
		at:      func(stream string, _ []eventstore.EventData) bool { return stream == user.Stream(manager) },
		between: func() { f.changeEmail(t, f.deps, "x@fabrikam.example") },
	}
	f.changeEmail(t, loser, "x@fabrikam.example")
	f.heldOnly(t, "x@fabrikam.example", "x@fabrikam.example", "pat@fabrikam.example")
}

// A change back to an email the manager left: an invitation of that
// email between the change's claim and its append to the user is refused
// (the claim is in flight), and the manager has the email.
func TestChangeManagerEmail_back_to_a_left_email_refuses_an_invitation_meanwhile(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	f.changeEmail(t, f.deps, "x@fabrikam.example")
	f.changeEmail(t, f.deps, "y@fabrikam.example")
	back := f.deps
	back.Store = &interleaved{Store: f.deps.Store,
		at: func(stream string, _ []eventstore.EventData) bool { return stream == user.Stream(manager) },
		between: func() {
			if res, err := f.invite(operator, "x@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrConflict) {
				t.Errorf("inviting an email the manager is being given: want a conflict, got %v (user %v)", err, res.UserID)
			}
		},
	}
	f.changeEmail(t, back, "x@fabrikam.example")
	f.heldOnly(t, "x@fabrikam.example", "x@fabrikam.example", "y@fabrikam.example", "pat@fabrikam.example")
}

// An invitation takes over an email the manager left just before a change
// back to it claims it: the change is refused, and the email is the new
// user's while the manager keeps theirs.
func TestChangeManagerEmail_back_to_an_email_taken_meanwhile_is_refused(t *testing.T) {
	f := newFixture(t)
	f.pendingManager(t)
	f.changeEmail(t, f.deps, "x@fabrikam.example")
	f.changeEmail(t, f.deps, "y@fabrikam.example")
	x := reservation.UserEmailStream(f.account, "x@fabrikam.example")
	back := f.deps
	back.Store = &interleaved{Store: f.deps.Store,
		at: func(stream string, _ []eventstore.EventData) bool { return stream == x },
		between: func() {
			if _, err := f.invite(operator, "x@fabrikam.example", "account_viewer"); err != nil {
				t.Errorf("inviting an email the manager left: %v", err)
			}
		},
	}
	_, err := commands.ChangeManagerEmailHandler(back).Handle(context.Background(), commands.ChangeManagerEmail{
		By: operator, AccountID: f.account, Email: "x@fabrikam.example"})
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("changing the manager's email to one just given to another user: want a conflict, got %v", err)
	}
	for _, e := range []string{"x@fabrikam.example", "y@fabrikam.example"} {
		if res, err := f.invite(operator, e, "account_viewer"); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("inviting %s, a user's: want a conflict, got %v (user %v)", e, err, res.UserID)
		}
	}
	f.resends(t, "y@fabrikam.example", true)
}

// Two changes to different emails race: the loser's append to the user
// conflicts after the winner changed it; the loser tries again and wins.
// The winner's email, left, is free; the account names the final email.
func TestChangeManagerEmail_to_two_addresses_at_once_ends_with_one(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	later := f.deps
	later.Store = &interleaved{Store: f.deps.Store,
		at:      func(stream string, _ []eventstore.EventData) bool { return stream == user.Stream(manager) },
		between: func() { f.changeEmail(t, f.deps, "y@fabrikam.example") },
	}
	f.changeEmail(t, later, "x@fabrikam.example")
	f.resends(t, "x@fabrikam.example", true)
	f.heldOnly(t, "x@fabrikam.example", "x@fabrikam.example", "y@fabrikam.example", "pat@fabrikam.example")
}

// A change whose append to the user landed records the account after a
// whole later change: the account must name the later email, the user's.
func TestChangeManagerEmail_recorded_last_on_the_account_names_the_users_email(t *testing.T) {
	f := newFixture(t)
	f.pendingManager(t)
	first := f.deps
	first.Store = &interleaved{Store: f.deps.Store,
		at:      func(stream string, _ []eventstore.EventData) bool { return stream == account.Stream(f.account) },
		between: func() { f.changeEmail(t, f.deps, "y@fabrikam.example") },
	}
	f.changeEmail(t, first, "x@fabrikam.example")
	f.resends(t, "x@fabrikam.example", false)
	f.resends(t, "y@fabrikam.example", true)
	f.heldOnly(t, "y@fabrikam.example", "x@fabrikam.example", "y@fabrikam.example", "pat@fabrikam.example")
}

// resends checks whether a resend request with an email and the account's
// numbers resends the manager's invitation, which it does only when the
// account names that email as its manager's.
func (f *fixture) resends(t *testing.T, email string, want bool) {
	t.Helper()
	got, err := commands.RequestManagerResendHandler(f.deps).Handle(context.Background(), commands.RequestManagerResend{
		Email: email, AgreementNumber: "AG-1", PurchaseAccountNumber: "PA-1"})
	if err != nil || got != want {
		t.Errorf("a resend request for %s: resent %v, %v; want resent %v", email, got, err, want)
	}
}
