package commands_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// An invitation that claimed its email and stopped before inviting (its
// process died, here its append failed) leaves a claim with no user. For
// a minute it is taken for an invitation under way; after, the next
// invitation of the email finishes it.
func TestInviteUser_finishes_an_invitation_that_stopped_after_its_claim(t *testing.T) {
	f := newFixture(t)
	stopped := f.deps
	stopped.Store = &failAppend{Store: f.deps.Store, at: func(events []eventstore.EventData) bool {
		return events[0].Type == user.Invited{}.EventType()
	}}
	if _, err := f.invite2(stopped, "x@fabrikam.example"); err == nil {
		t.Fatal("an invitation whose append failed answered no error")
	}
	if _, err := f.invite2(f.deps, "x@fabrikam.example"); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("inviting an email another invitation claimed a moment ago: want a conflict, got %v", err)
	}
	f.clock.Advance(time.Minute)
	if _, err := f.invite2(f.deps, "x@fabrikam.example"); err != nil {
		t.Fatalf("inviting an email whose claim stopped a minute ago: %v", err)
	}
	if _, err := f.invite2(f.deps, "x@fabrikam.example"); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("inviting an email just invited: want a conflict, got %v", err)
	}
}

// An erased user no longer has their email (it reads as erased): the
// person may be invited again, as a new user.
func TestInviteUser_may_invite_an_erased_users_email_again(t *testing.T) {
	f := newFixture(t)
	first, err := f.invite(f.admin, "x@fabrikam.example", "account_viewer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := commands.ErasePersonalDataHandler(f.deps).Handle(context.Background(), commands.ErasePersonalData{
		By: operator, AccountID: f.account, UserID: first.UserID, Reason: "verified request 9",
	}); err != nil {
		t.Fatal(err)
	}
	again, err := f.invite(f.admin, "x@fabrikam.example", "account_viewer")
	if err != nil {
		t.Fatalf("inviting an erased user's email again: %v", err)
	}
	if again.UserID == first.UserID {
		t.Fatal("the new invitation reused the erased user")
	}
	f.heldOnly(t, "x@fabrikam.example", "x@fabrikam.example")
}

// An erasure that destroyed the key and stopped before its event leaves a
// user whose email can no longer be read: until the event is there, their
// email may not go to anyone else; once it is, the person may be invited
// anew, and an actor with that email is the new user, not the erased one
// (remembered or not).
func TestInviteUser_waits_for_an_erasure_under_way(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ua, res := f.rememberedAdministrator(t)
	erase := commands.ErasePersonalData{By: operator, AccountID: f.account, UserID: res.UserID, Reason: "verified request 9"}
	lost := f.deps
	lost.Store = &failAppend{Store: f.deps.Store, at: func(events []eventstore.EventData) bool {
		return events[0].Type == user.PersonalDataErased{}.EventType()
	}}
	if _, err := commands.ErasePersonalDataHandler(lost).Handle(ctx, erase); err == nil {
		t.Fatal("an erasure whose event was lost answered no error")
	}
	if _, err := f.invite(f.admin, ua.Email, "account_viewer"); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("inviting the email of a user whose erasure is under way: want a conflict, got %v", err)
	}
	if _, err := commands.ErasePersonalDataHandler(f.deps).Handle(ctx, erase); err != nil {
		t.Fatal(err)
	}
	again, err := f.invite(f.admin, ua.Email, "account_viewer")
	if err != nil {
		t.Fatalf("inviting an erased user's email once the erasure is recorded: %v", err)
	}
	f.accept(t, again.UserID)
	if _, err := f.invite(ua, "z@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("the email's new user, a viewer, inviting: want forbidden, got %v", err)
	}
}
