package commands_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
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

// A change releases the manager's former emails; another change takes
// one of them back between the first's read of the user and its release.
// The release must not free the email the manager has again.
func TestChangeManagerEmail_back_to_an_email_being_released_keeps_it_reserved(t *testing.T) {
	f := newFixture(t)
	f.pendingManager(t)
	f.changeEmail(t, f.deps, "x@fabrikam.example")
	x := reservation.UserEmailStream(f.account, "x@fabrikam.example")
	releasing := f.deps
	releasing.Store = &interleaved{Store: f.deps.Store,
		at: func(stream string, events []eventstore.EventData) bool {
			return stream == x && events[0].Type == reservation.Released{}.EventType()
		},
		between: func() { f.changeEmail(t, f.deps, "x@fabrikam.example") },
	}
	f.changeEmail(t, releasing, "y@fabrikam.example")
	// The change to y read the user after the change back to x: it won.
	f.heldOnly(t, "y@fabrikam.example", "x@fabrikam.example", "y@fabrikam.example", "pat@fabrikam.example")
}

// A change whose user already has its email releases the former ones; a
// change back to one of them claims it again, and, between that claim and
// its append to the user, the release (which read the reservation after
// the claim) lands. The change back finds its email free and claims it.
func TestChangeManagerEmail_back_to_an_email_released_meanwhile_claims_it_again(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	f.changeEmail(t, f.deps, "x@fabrikam.example")
	f.changeEmail(t, f.deps, "y@fabrikam.example")
	back := f.deps
	back.Store = &interleaved{Store: f.deps.Store,
		at: func(stream string, _ []eventstore.EventData) bool { return stream == user.Stream(manager) },
		// Already at y: it only releases pat and x, x claimed again by now.
		between: func() { f.changeEmail(t, f.deps, "y@fabrikam.example") },
	}
	f.changeEmail(t, back, "x@fabrikam.example")
	f.heldOnly(t, "x@fabrikam.example", "x@fabrikam.example", "y@fabrikam.example", "pat@fabrikam.example")
}
