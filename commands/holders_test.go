package commands_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/personal"
)

// The remembered holder of an actor's email is checked against the user's
// stream: once that user leaves the email and another person takes it, a
// command with the email acts as the new holder, with their roles.
func TestActor_is_whoever_holds_the_email_now_though_another_held_it_before(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	operator := commands.Actor{Subject: "op", Operator: true}
	actor := commands.Actor{Subject: "who", Email: "next@fabrikam.example"}
	profile := user.Profile{Email: actor.Email, FirstName: "Ne", LastName: "Xt", Language: "en", Country: "US"}
	designated, err := commands.DesignateManagerHandler(f.deps).Handle(ctx, commands.DesignateManager{By: operator, AccountID: f.account, Manager: profile})
	if err != nil {
		t.Fatal(err)
	}
	// The new manager has not accepted: acting with the email is refused,
	// and their user is now the remembered holder.
	if _, err := f.invite(actor, "x@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a pending manager inviting: want not found, got %v", err)
	}
	if _, err := commands.ChangeManagerEmailHandler(f.deps).Handle(ctx, commands.ChangeManagerEmail{By: operator, AccountID: f.account, Email: "elsewhere@fabrikam.example"}); err != nil {
		t.Fatal(err)
	}
	taken, err := f.invite(f.admin, actor.Email, "user_administrator")
	if err != nil {
		t.Fatal(err)
	}
	if taken.UserID == designated.ManagerUserID {
		t.Fatal("the email's new user is the manager")
	}
	f.accept(t, taken.UserID)
	if _, err := f.invite(actor, "x@fabrikam.example", "account_viewer"); err != nil {
		t.Fatalf("the email's new holder, an active user administrator, inviting: %v", err)
	}
	if _, err := f.invite(actor, "y@fabrikam.example", "account_administrator"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a user administrator granting account administrator: want forbidden, got %v", err)
	}
}

// A remembered actor is folded on with what their stream got since: a
// change of roles, an erasure.
func TestActor_remembered_is_judged_by_the_events_since(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ua, res := f.rememberedAdministrator(t)
	if _, err := commands.ChangeUserRolesHandler(f.deps).Handle(ctx, commands.ChangeUserRoles{
		By: f.admin, AccountID: f.account, UserID: res.UserID, Roles: []string{"account_viewer"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.invite(ua, "two@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a former user administrator, now a viewer, inviting: want forbidden, got %v", err)
	}
	if _, err := commands.ChangeUserRolesHandler(f.deps).Handle(ctx, commands.ChangeUserRoles{
		By: f.admin, AccountID: f.account, UserID: res.UserID, Roles: []string{"user_administrator"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.invite(ua, "two@fabrikam.example", "account_viewer"); err != nil {
		t.Fatalf("a user administrator again inviting: %v", err)
	}
	if _, err := commands.ErasePersonalDataHandler(f.deps).Handle(ctx, commands.ErasePersonalData{
		By: commands.Actor{Subject: "op", Operator: true}, AccountID: f.account, UserID: res.UserID, Reason: "verified request 7",
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.invite(ua, "three@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("an erased user inviting: want not found, got %v", err)
	}
}

// failAppend fails, once, the first append that at picks; stream is the
// stream of that append.
type failAppend struct {
	eventstore.Store
	mu     sync.Mutex
	at     func(events []eventstore.EventData) bool
	failed bool
	stream string
}

func (s *failAppend) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	s.mu.Lock()
	fail := !s.failed && s.at(events)
	if fail {
		s.failed, s.stream = true, stream
	}
	s.mu.Unlock()
	if fail {
		return eventstore.AppendResult{}, errors.New("injected: the append did not land")
	}
	return s.Store.Append(ctx, stream, expected, events)
}

// failErase fails the key's destruction.
type failErase struct{ commands.PersonalData }

func (failErase) Erase(context.Context, uuid.UUID, string, string, string) (personal.Erasure, error) {
	return personal.Erasure{}, errors.New("injected: the key store is down")
}

// An erasure that stops half way, its key destroyed but its event lost,
// leaves a user whose email no longer opens: a fresh look refuses them at
// once, a remembered actor once holderTTL has passed since the full look
// that found them (nothing in their stream tells the memory). An erasure
// whose key could not be destroyed did nothing. Erasing again finishes.
func TestActor_remembered_follows_an_erasure_that_stopped_half_way(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ua, res := f.rememberedAdministrator(t)
	fresh := f.deps
	fresh.Holders = nil
	inviting := func(d commands.Deps, email string, want error) {
		t.Helper()
		_, err := commands.InviteUserHandler(d).Handle(ctx, commands.InviteUser{By: ua, AccountID: f.account,
			Profile: user.Profile{Email: email, FirstName: "A", LastName: "B", Language: "en", Country: "US", Roles: []string{"account_viewer"}}})
		if !errors.Is(err, want) {
			t.Errorf("inviting %s (remembering: %v): want %v, got %v", email, d.Holders != nil, want, err)
		}
	}
	erase := commands.ErasePersonalData{By: commands.Actor{Subject: "op", Operator: true}, AccountID: f.account, UserID: res.UserID, Reason: "verified request 9"}

	keyless := f.deps
	keyless.Personal = failErase{f.deps.Personal}
	if _, err := commands.ErasePersonalDataHandler(keyless).Handle(ctx, erase); err == nil {
		t.Fatal("an erasure whose key survived answered no error")
	}
	inviting(f.deps, "two@fabrikam.example", nil)
	inviting(fresh, "three@fabrikam.example", nil)

	f.eraseStoppingBeforeEvent(t, erase)
	if !f.keyErased(t, res.UserID) {
		t.Fatal("the key survived an erasure that lost only its event")
	}
	inviting(fresh, "four@fabrikam.example", domain.ErrNotFound)
	f.clock.Advance(10 * time.Second)
	inviting(f.deps, "five@fabrikam.example", domain.ErrNotFound)

	// Another operator finishes it: the event names the erasure that
	// destroyed the key, as the key store does.
	again := erase
	again.By, again.Reason = commands.Actor{Subject: "op-2", Operator: true}, "finishing"
	if _, err := commands.ErasePersonalDataHandler(f.deps).Handle(ctx, again); err != nil {
		t.Fatal(err)
	}
	recs, err := f.deps.Store.ReadStream(ctx, user.Stream(res.UserID), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if last := recs[len(recs)-1]; last.Type != (user.PersonalDataErased{}).EventType() ||
		!strings.Contains(string(last.Data), `"erasedBy":"op","reason":"verified request 9"`) {
		t.Fatalf("erasing again: the stream ends with %s %s; want the first erasure's who and why", last.Type, last.Data)
	}
}

// eraseStoppingBeforeEvent runs an erasure whose event append fails: the
// key is destroyed, the event never written.
func (f *fixture) eraseStoppingBeforeEvent(t *testing.T, erase commands.ErasePersonalData) {
	t.Helper()
	lost := f.deps
	lost.Store = &failAppend{Store: f.deps.Store, at: func(events []eventstore.EventData) bool {
		return events[0].Type == user.PersonalDataErased{}.EventType()
	}}
	if _, err := commands.ErasePersonalDataHandler(lost).Handle(context.Background(), erase); err == nil {
		t.Fatal("an erasure whose event was lost answered no error")
	}
}

// keyErased reports whether the subject's key was destroyed.
func (f *fixture) keyErased(t *testing.T, subject uuid.UUID) bool {
	t.Helper()
	var erased bool
	err := f.deps.Personal.(personal.Keys).DB.QueryRow(context.Background(),
		`SELECT key IS NULL FROM personal_keys WHERE subject_id = $1`, subject).Scan(&erased)
	if err != nil {
		t.Fatal(err)
	}
	return erased
}

// countReads counts the streams a store is asked to read.
type countReads struct {
	eventstore.Store
	n atomic.Int64
}

func (s *countReads) ReadStream(ctx context.Context, stream string, o eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	s.n.Add(1)
	return s.Store.ReadStream(ctx, stream, o)
}

// A remembered actor is found with one read of their stream's end, where
// a fresh look reads the email's reservation and the user's whole stream.
func TestActor_remembered_is_found_with_one_read(t *testing.T) {
	f := newFixture(t)
	reads := &countReads{Store: f.deps.Store}
	f.deps.Store = reads
	invites := func(by commands.Actor, email string) int64 {
		t.Helper()
		before := reads.n.Load()
		if _, err := f.invite(by, email, "account_viewer"); err != nil {
			t.Fatal(err)
		}
		return reads.n.Load() - before
	}
	first := invites(f.admin, "one@fabrikam.example")
	again := invites(f.admin, "two@fabrikam.example")
	f.deps.Holders = nil
	fresh := invites(f.admin, "three@fabrikam.example")
	if again != fresh-1 || first != fresh {
		t.Fatalf("stream reads of an invitation: %d by a new actor, %d by a remembered one, %d without the memory; want one fewer when remembered",
			first, again, fresh)
	}
}

// rememberedAdministrator is userAdministrator, who then invites
// one@fabrikam.example: the memory holds them as an actor.
func (f *fixture) rememberedAdministrator(t *testing.T) (commands.Actor, commands.UserInvited) {
	t.Helper()
	ua, res := f.userAdministrator(t)
	if _, err := f.invite(ua, "one@fabrikam.example", "account_viewer"); err != nil {
		t.Fatalf("a user administrator inviting: %v", err)
	}
	return ua, res
}
