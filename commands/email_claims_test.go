package commands_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// An invitation that claimed its email and stopped before inviting (its
// process died, here its append failed) leaves a claim with no user. For
// a minute it is taken for an invitation under way; after, the next
// invitation of the email fences it off and takes the email for its own
// user (not the stalled one's id: that could be an account's registered
// manager, to be given the next inviter's roles).
func TestInviteUser_takes_over_the_email_of_an_invitation_that_stalled(t *testing.T) {
	f := newFixture(t)
	stopped := f.deps
	stalled := &failAppend{Store: f.deps.Store, at: func(events []eventstore.EventData) bool {
		return events[0].Type == user.Invited{}.EventType()
	}}
	stopped.Store = stalled
	if _, err := f.inviteViewer(stopped, "x@fabrikam.example"); err == nil {
		t.Fatal("an invitation whose append failed answered no error")
	}
	if _, err := f.inviteViewer(f.deps, "x@fabrikam.example"); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("inviting an email another invitation claimed a moment ago: want a conflict, got %v", err)
	}
	f.clock.Advance(time.Minute)
	res, err := f.inviteViewer(f.deps, "x@fabrikam.example")
	if err != nil {
		t.Fatalf("inviting an email whose claim stalled a minute ago: %v", err)
	}
	if user.Stream(res.UserID) == stalled.stream {
		t.Fatal("the invitation took the stalled invitation's user id")
	}
	recs, err := f.deps.Store.ReadStream(context.Background(), stalled.stream, eventstore.ReadStreamOptions{})
	if err != nil || len(recs) != 1 || recs[0].Type != (user.EmailClaimLapsed{}).EventType() {
		t.Fatalf("the stalled user's stream: want one user.email_claim_lapsed, got %v (%v)", recs, err)
	}
	if _, err := f.inviteViewer(f.deps, "x@fabrikam.example"); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("inviting an email just invited: want a conflict, got %v", err)
	}
}

// An invitation with an idempotency key stalls and is fenced off by a
// change of the manager's email to its address; run again with its key
// once the address is free, it answers a conflict that says what to do
// (its user can no longer be written), not a store conflict after four
// tries; without the key the address is invited at once.
func TestInviteUser_fenced_off_answers_a_conflict_when_run_again_with_its_key(t *testing.T) {
	f := newFixture(t)
	f.pendingManager(t)
	keyed := commands.WithIdempotencyKey(context.Background(), "admin-1\x00POST /users\x00k7")
	invite := func(deps commands.Deps) error {
		_, err := commands.InviteUserHandler(deps).Handle(keyed, commands.InviteUser{By: f.admin, AccountID: f.account,
			Profile: user.Profile{Email: "x@fabrikam.example", FirstName: "X", LastName: "Y", Language: "en", Country: "US", Roles: []string{"account_viewer"}}})
		return err
	}
	stalls := f.beforeAppendOf(user.Invited{}.EventType(), func() {
		f.clock.Advance(time.Minute)
		f.changeEmail(t, f.deps, "x@fabrikam.example")
	})
	if err := invite(stalls); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("a keyed invitation fenced off: want a conflict, got %v", err)
	}
	f.changeEmail(t, f.deps, "y@fabrikam.example")
	if err := invite(f.deps); !errors.Is(err, domain.ErrConflict) || errors.Is(err, eventstore.ErrWrongExpectedRevision) {
		t.Fatalf("the fenced invitation run again with its key: want a conflict of its own, got %v", err)
	}
	if _, err := f.inviteViewer(f.deps, "x@fabrikam.example"); err != nil {
		t.Fatalf("inviting the free address without the key: %v", err)
	}
}

// A manager whose erasure is half done (key gone, event not yet written)
// cannot have their email changed either, and nothing is claimed.
func TestChangeManagerEmail_of_a_manager_being_erased_is_refused(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	f.eraseStoppingBeforeEvent(t, commands.ErasePersonalData{By: operator, AccountID: f.account, UserID: manager, Reason: "verified request 1"})
	var rule *domain.RuleError
	if err := f.tryChange(context.Background(), f.deps, "x@fabrikam.example"); !errors.As(err, &rule) || rule.Code != "user-erased" {
		t.Fatalf("changing the email of a manager being erased: want rule user-erased, got %v", err)
	}
	if _, err := f.inviteViewer(f.deps, "x@fabrikam.example"); err != nil {
		t.Fatalf("inviting the address the refused change asked for: %v", err)
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
	f.eraseStoppingBeforeEvent(t, erase)
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

// A keyed command whose answer was lost is answered as it was when run
// again, though the user it invited has another email by then.
func TestInviteUser_run_again_with_its_key_after_the_email_changed_answers_as_before(t *testing.T) {
	f := newFixture(t)
	ctx := commands.WithIdempotencyKey(context.Background(), "op\x00POST /accounts\x00k9")
	reg := commands.RegisterAccount{By: operator, Name: "Contoso", AgreementNumber: "AG-9", PurchaseAccountNumber: "PA-9",
		Manager: user.Profile{Email: "m@contoso.example", FirstName: "M", LastName: "N", Language: "en", Country: "US"}}
	first, err := commands.RegisterAccountHandler(f.deps).Handle(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := commands.ChangeManagerEmailHandler(f.deps).Handle(context.Background(), commands.ChangeManagerEmail{
		By: operator, AccountID: first.AccountID, Email: "m2@contoso.example"}); err != nil {
		t.Fatal(err)
	}
	again, err := commands.RegisterAccountHandler(f.deps).Handle(ctx, reg)
	if err != nil || again.AccountID != first.AccountID || again.ManagerUserID != first.ManagerUserID {
		t.Fatalf("the registration run again with its key: want %+v, got %+v, %v", first, again, err)
	}
}

// On a store that appends to several streams at once (the embedded one),
// an invitation's claim on its email and its user are one append: no
// process that stops between them can leave a claim without its user,
// holding the email for a minute.
func TestInviteUser_claims_and_invites_in_one_append_where_the_store_can(t *testing.T) {
	f := newFixture(t)
	if _, ok := f.deps.Store.(eventstore.MultiStreamAppender); !ok {
		t.Fatal("the fixture's store appends to one stream a call")
	}
	res, err := f.inviteViewer(f.deps, "one@fabrikam.example")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	claim, err := f.deps.Store.ReadStream(ctx, reservation.UserEmailStream(f.account, "one@fabrikam.example"), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	invited, err := f.deps.Store.ReadStream(ctx, user.Stream(res.UserID), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(claim) != 1 || len(invited) != 1 || claim[0].Position.Commit != invited[0].Position.Commit {
		t.Fatalf("the claim (%d events, at %v) and the user (%d events, at %v) are not one transaction",
			len(claim), claim[0].Position, len(invited), invited[0].Position)
	}
	if res.Position != invited[0].Position {
		t.Errorf("the answer's position %v, the user's event is at %v", res.Position, invited[0].Position)
	}
}
