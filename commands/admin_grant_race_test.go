package commands_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// turnWatch is a Serial that tells (waiting) when a command finds an id's
// turn taken and is about to wait for it.
type turnWatch struct {
	commands.Serial
	mu      sync.Mutex
	taken   map[uuid.UUID]bool
	waiting chan struct{}
}

func watchTurns(s commands.Serial) *turnWatch {
	return &turnWatch{Serial: s, taken: map[uuid.UUID]bool{}, waiting: make(chan struct{}, 1)}
}

func (w *turnWatch) Serialize(ctx context.Context, id uuid.UUID, f func(context.Context) error) error {
	w.mu.Lock()
	busy := w.taken[id]
	w.mu.Unlock()
	if busy {
		select {
		case w.waiting <- struct{}{}:
		default:
		}
	}
	return w.Serial.Serialize(ctx, id, func(ctx context.Context) error {
		w.mu.Lock()
		w.taken[id] = true
		w.mu.Unlock()
		defer func() {
			w.mu.Lock()
			delete(w.taken, id)
			w.mu.Unlock()
		}()
		return f(ctx)
	})
}

// afterAppend runs then, once, after the first append that at picks was
// written, with its events. It appends to one stream a call.
type afterAppend struct {
	eventstore.Store
	at   func(stream string, events []eventstore.EventData) bool
	then func(events []eventstore.EventData)
	once sync.Once
}

func (s *afterAppend) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	res, err := s.Store.Append(ctx, stream, expected, events)
	if err == nil && s.at(stream, events) {
		s.once.Do(func() { s.then(events) })
	}
	return res, err
}

// userOf is the user an event's payload names.
func userOf(t *testing.T, e eventstore.EventData) uuid.UUID {
	var p struct {
		UserID uuid.UUID `json:"userId"`
	}
	if err := json.Unmarshal(e.Data, &p); err != nil {
		t.Error(err)
	}
	return p.UserID
}

// An administrator invites another, and a demotion of the new user to
// account viewer runs in the middle: the account lists the new user among
// its administrators exactly when the user holds the role. The invitation
// used to record its grant outside the account's turn, which the demotion
// takes, and without a look at the user's roles: a demotion between the
// invited user and the grant found nothing to revoke, and the grant then
// listed an administrator without the role. The first case needs the
// turn, the second the look.
func TestInviteUser_administrator_grant_follows_a_demotion_in_between(t *testing.T) {
	granted := func(stream string, events []eventstore.EventData) bool {
		return strings.HasPrefix(stream, "account-") && events[0].Type == account.AdministratorGranted{}.EventType()
	}
	invited := func(stream string, events []eventstore.EventData) bool {
		return strings.HasPrefix(stream, "user-") && events[0].Type == user.Invited{}.EventType()
	}
	for _, c := range []struct {
		name  string
		store func(f *fixture, demote func(eventstore.EventData)) eventstore.Store
	}{
		{"as the grant is appended", func(f *fixture, demote func(eventstore.EventData)) eventstore.Store {
			var grant eventstore.EventData
			return &interleaved{Store: f.deps.Store, between: func() { demote(grant) },
				at: func(stream string, events []eventstore.EventData) bool {
					grant = events[0]
					return granted(stream, events)
				}}
		}},
		{"after the user is invited", func(f *fixture, demote func(eventstore.EventData)) eventstore.Store {
			return &afterAppend{Store: f.deps.Store, at: invited, then: func(events []eventstore.EventData) { demote(events[0]) }}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			turns := watchTurns(checked("account"))
			f.deps.AccountSerial = turns
			demoted := make(chan error, 1)
			// demote runs the demotion beside the invitation, and lets the
			// invitation go on once the demotion is done or waits for the
			// account's turn.
			demote := func(e eventstore.EventData) {
				go func() {
					_, err := commands.ChangeUserRolesHandler(f.deps).Handle(context.Background(), commands.ChangeUserRoles{
						By: f.admin, AccountID: f.account, UserID: userOf(t, e), Roles: []string{"account_viewer"}})
					demoted <- err
				}()
				select {
				case err := <-demoted:
					demoted <- err
				case <-turns.waiting:
				}
			}
			inviting := f.deps
			inviting.Store = c.store(f, demote)
			res, err := commands.InviteUserHandler(inviting).Handle(context.Background(), commands.InviteUser{By: f.admin, AccountID: f.account,
				Profile: user.Profile{Email: "second.admin@fabrikam.example", FirstName: "Se", LastName: "Cond", Language: "en", Country: "US",
					Roles: []string{"account_administrator"}}})
			if err != nil {
				t.Fatalf("the invitation: %v", err)
			}
			if err := <-demoted; err != nil {
				t.Fatalf("the demotion: %v", err)
			}
			var a account.Account
			fold(t, f, account.Stream(f.account), &a)
			var u user.User
			fold(t, f, user.Stream(res.UserID), &u)
			listed, holds := slices.Contains(a.Administrators(), res.UserID), slices.Contains(u.Roles(), user.AccountAdministrator)
			if listed != holds {
				t.Fatalf("the account lists the new user among its administrators: %v; the user's roles: %v", listed, u.Roles())
			}
		})
	}
}
