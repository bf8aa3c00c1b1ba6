package commands_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// interleaved runs between once, just before the first append that at
// picks, or the first read of the stream reading: a whole command
// between two steps of another.
type interleaved struct {
	eventstore.Store
	mu      sync.Mutex
	at      func(stream string, events []eventstore.EventData) bool
	reading string
	between func()
}

func (s *interleaved) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	s.runIf(s.at != nil && s.at(stream, events))
	return s.Store.Append(ctx, stream, expected, events)
}

func (s *interleaved) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	s.runIf(s.reading != "" && stream == s.reading)
	return s.Store.ReadStream(ctx, stream, opts)
}

func (s *interleaved) runIf(picked bool) {
	s.mu.Lock()
	run := s.between
	if run != nil && picked {
		s.between = nil
	} else {
		run = nil
	}
	s.mu.Unlock()
	if run != nil {
		run()
	}
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
	if err := f.tryChange(context.Background(), deps, email); err != nil {
		t.Errorf("change the manager's email to %s: %v", email, err)
	}
}

func (f *fixture) tryChange(ctx context.Context, deps commands.Deps, email string) error {
	_, err := commands.ChangeManagerEmailHandler(deps).Handle(ctx, commands.ChangeManagerEmail{
		By: operator, AccountID: f.account, Email: email})
	return err
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
	loser := f.beforeAppendTo(user.Stream(manager), func() { f.changeEmail(t, f.deps, "x@fabrikam.example") })
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
	back := f.beforeAppendTo(user.Stream(manager), func() {
		if res, err := f.invite(operator, "x@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("inviting an email the manager is being given: want a conflict, got %v (user %v)", err, res.UserID)
		}
	})
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
	back := f.beforeAppendTo(x, func() {
		if _, err := f.invite(operator, "x@fabrikam.example", "account_viewer"); err != nil {
			t.Errorf("inviting an email the manager left: %v", err)
		}
	})
	if err := f.tryChange(context.Background(), back, "x@fabrikam.example"); !errors.Is(err, domain.ErrConflict) {
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
	later := f.beforeAppendTo(user.Stream(manager), func() { f.changeEmail(t, f.deps, "y@fabrikam.example") })
	f.changeEmail(t, later, "x@fabrikam.example")
	f.resends(t, "x@fabrikam.example", true)
	f.heldOnly(t, "x@fabrikam.example", "x@fabrikam.example", "y@fabrikam.example", "pat@fabrikam.example")
}

// A change whose append to the user landed records the account after a
// whole later change: the account must name the later email, the user's.
func TestChangeManagerEmail_recorded_last_on_the_account_names_the_users_email(t *testing.T) {
	f := newFixture(t)
	f.pendingManager(t)
	first := f.beforeAppendTo(account.Stream(f.account), func() { f.changeEmail(t, f.deps, "y@fabrikam.example") })
	f.changeEmail(t, first, "x@fabrikam.example")
	f.resends(t, "x@fabrikam.example", false)
	f.resends(t, "y@fabrikam.example", true)
	f.heldOnly(t, "y@fabrikam.example", "x@fabrikam.example", "y@fabrikam.example", "pat@fabrikam.example")
}

// A change that stalls between its claim and its append to the user (the
// process hung for over a minute) is fenced off by the invitation that
// takes the email over: the change's append, when it comes, conflicts,
// and the email stays the new user's alone.
func TestChangeManagerEmail_that_stalls_is_fenced_off_by_the_next_claim(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	stalls := f.beforeAppendTo(user.Stream(manager), func() {
		if _, err := f.invite(operator, "x@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("inviting an email a change claimed a moment ago: want a conflict, got %v", err)
		}
		f.clock.Advance(time.Minute)
		if _, err := f.invite(operator, "x@fabrikam.example", "account_viewer"); err != nil {
			t.Errorf("inviting an email a change claimed a minute ago and stalled: %v", err)
		}
	})
	if err := f.tryChange(context.Background(), stalls, "x@fabrikam.example"); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("a change that stalled while its email was taken over: want a conflict, got %v", err)
	}
	f.heldOnly(t, "x@fabrikam.example", "x@fabrikam.example")
	f.resends(t, "pat@fabrikam.example", true)
}

// An invitation that stalls after its claim is fenced off the same way
// by a change of the manager's email to its address.
func TestChangeManagerEmail_to_a_stalled_invitations_email_fences_it_off(t *testing.T) {
	f := newFixture(t)
	f.pendingManager(t)
	stalls := f.beforeAppendOf(user.Invited{}.EventType(), func() {
		f.clock.Advance(time.Minute)
		f.changeEmail(t, f.deps, "x@fabrikam.example")
	})
	if res, err := f.inviteViewer(stalls, "x@fabrikam.example"); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("an invitation that stalled while its email was taken over: want a conflict, got %v (user %v)", err, res.UserID)
	}
	f.heldOnly(t, "x@fabrikam.example", "x@fabrikam.example", "pat@fabrikam.example")
	f.resends(t, "x@fabrikam.example", true)
}

// DesignateManager of the manager's own email finds the manager, and a
// whole change of the manager's email runs before it records the
// account: the account names the email the manager has now.
func TestDesignateManager_beside_a_change_of_email_records_the_users_email(t *testing.T) {
	f := newFixture(t)
	f.pendingManager(t)
	designating := f.deps
	designating.Store = &interleaved{Store: f.deps.Store, reading: account.Stream(f.account),
		between: func() { f.changeEmail(t, f.deps, "x@fabrikam.example") }}
	if _, err := commands.DesignateManagerHandler(designating).Handle(context.Background(), commands.DesignateManager{By: operator, AccountID: f.account,
		Manager: user.Profile{Email: "pat@fabrikam.example", FirstName: "Pat", LastName: "M", Language: "en", Country: "US"}}); err != nil {
		t.Fatal(err)
	}
	f.resends(t, "x@fabrikam.example", true)
	f.resends(t, "pat@fabrikam.example", false)
	f.heldOnly(t, "x@fabrikam.example", "x@fabrikam.example", "pat@fabrikam.example")
}

// Another manager is designated while the manager's email changes: the
// change is refused rather than making the former manager manager again.
func TestChangeManagerEmail_beside_a_designation_of_another_manager_is_refused(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	changing := f.beforeAppendTo(user.Stream(manager), func() {
		if _, err := commands.DesignateManagerHandler(f.deps).Handle(context.Background(), commands.DesignateManager{By: operator, AccountID: f.account,
			Manager: user.Profile{Email: "kim@fabrikam.example", FirstName: "Kim", LastName: "N", Language: "en", Country: "US"}}); err != nil {
			t.Error(err)
		}
	})
	if err := f.tryChange(context.Background(), changing, "x@fabrikam.example"); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("a change of the former manager's email: want a conflict, got %v", err)
	}
	f.resends(t, "kim@fabrikam.example", true)
	f.resends(t, "x@fabrikam.example", false)
	f.heldOnly(t, "pat@fabrikam.example", "pat@fabrikam.example", "x@fabrikam.example")
}

// designateKim designates a new user, kim@fabrikam.example, the manager
// through deps.
func (f *fixture) designateKim(deps commands.Deps) error {
	_, err := commands.DesignateManagerHandler(deps).Handle(context.Background(), commands.DesignateManager{By: operator, AccountID: f.account,
		Manager: user.Profile{Email: "kim@fabrikam.example", FirstName: "Kim", LastName: "N", Language: "en", Country: "US"}})
	return err
}

// A whole designation of another manager runs after a change of the
// manager's email read the account and before it reads the manager: the
// change finds the handover on the former manager's stream and refuses,
// where it used to change the email of a user no longer the manager.
func TestChangeManagerEmail_after_reading_the_account_of_a_designation_is_refused(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	changing := f.deps
	changing.Store = &interleaved{Store: f.deps.Store, reading: user.Stream(manager), between: func() {
		if err := f.designateKim(f.deps); err != nil {
			t.Error(err)
		}
	}}
	if err := f.tryChange(context.Background(), changing, "x@fabrikam.example"); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("a change of the former manager's email: want a conflict, got %v", err)
	}
	f.resends(t, "kim@fabrikam.example", true)
	f.heldOnly(t, "pat@fabrikam.example", "pat@fabrikam.example", "x@fabrikam.example")
}

// A designation that stalls between the handover and the account holds
// changes of the email off for a minute only; it then loses the account
// to the change and, tried again, designates after it.
func TestDesignateManager_that_stalls_holds_changes_of_email_off_for_a_minute(t *testing.T) {
	f := newFixture(t)
	f.pendingManager(t)
	stalls := f.beforeAppendTo(account.Stream(f.account), func() {
		if err := f.tryChange(context.Background(), f.deps, "x@fabrikam.example"); !errors.Is(err, domain.ErrConflict) {
			t.Errorf("a change while another manager is being designated: want a conflict, got %v", err)
		}
		f.clock.Advance(time.Minute)
		f.changeEmail(t, f.deps, "x@fabrikam.example")
	})
	if err := f.designateKim(stalls); err != nil {
		t.Fatal(err)
	}
	f.resends(t, "kim@fabrikam.example", true)
	f.heldOnly(t, "x@fabrikam.example", "pat@fabrikam.example", "x@fabrikam.example")
}

// A handover that ended with the account (another manager, then the
// first one again) does not hold off a change of the email decided on the
// account as it is now.
func TestChangeManagerEmail_of_a_manager_designated_again_goes_through(t *testing.T) {
	f := newFixture(t)
	f.pendingManager(t)
	if err := f.designateKim(f.deps); err != nil {
		t.Fatal(err)
	}
	f.pendingManager(t)
	f.changeEmail(t, f.deps, "x@fabrikam.example")
	f.resends(t, "x@fabrikam.example", true)
	f.heldOnly(t, "x@fabrikam.example", "pat@fabrikam.example", "x@fabrikam.example")
}

// A change run again with its idempotency key (its first answer lost)
// after another change does not change the email back: it answers as it
// did, and the account names the email the manager has.
func TestChangeManagerEmail_run_again_with_its_key_changes_nothing(t *testing.T) {
	f := newFixture(t)
	f.pendingManager(t)
	keyed := commands.WithIdempotencyKey(context.Background(), "op\x00POST /manager/email\x00k1")
	for _, run := range []struct {
		ctx   context.Context
		email string
	}{{keyed, "x@fabrikam.example"}, {context.Background(), "y@fabrikam.example"}, {keyed, "x@fabrikam.example"}} {
		if err := f.tryChange(run.ctx, f.deps, run.email); err != nil {
			t.Fatalf("change to %s: %v", run.email, err)
		}
	}
	f.resends(t, "y@fabrikam.example", true)
	f.heldOnly(t, "y@fabrikam.example", "x@fabrikam.example", "y@fabrikam.example", "pat@fabrikam.example")
}

// An erased manager's email cannot be changed (nor their invitation
// resent): nothing is claimed for them.
func TestChangeManagerEmail_of_an_erased_manager_is_refused(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	if _, err := commands.ErasePersonalDataHandler(f.deps).Handle(context.Background(), commands.ErasePersonalData{
		By: operator, AccountID: f.account, UserID: manager, Reason: "verified request 1"}); err != nil {
		t.Fatal(err)
	}
	var rule *domain.RuleError
	if err := f.tryChange(context.Background(), f.deps, "x@fabrikam.example"); !errors.As(err, &rule) || rule.Code != "user-erased" {
		t.Fatalf("changing an erased manager's email: want rule user-erased, got %v", err)
	}
	_, err := commands.ResendInvitationHandler(f.deps).Handle(context.Background(), commands.ResendInvitation{By: operator, AccountID: f.account, UserID: manager})
	if !errors.As(err, &rule) || rule.Code != "user-erased" {
		t.Fatalf("resending an erased manager's invitation: want rule user-erased, got %v", err)
	}
	f.heldOnly(t, "", "x@fabrikam.example", "pat@fabrikam.example")
}

// beforeAppendTo is deps whose first append to stream runs between
// first.
func (f *fixture) beforeAppendTo(stream string, between func()) commands.Deps {
	d := f.deps
	d.Store = &interleaved{Store: f.deps.Store, between: between,
		at: func(s string, _ []eventstore.EventData) bool { return s == stream }}
	return d
}

// beforeAppendOf is deps whose first append of an event of type typ runs
// between first.
func (f *fixture) beforeAppendOf(typ string, between func()) commands.Deps {
	d := f.deps
	d.Store = &interleaved{Store: f.deps.Store, between: between,
		at: func(_ string, events []eventstore.EventData) bool { return events[0].Type == typ }}
	return d
}

// invite2 invites an account viewer as the account's administrator
// through deps.
func (f *fixture) inviteViewer(deps commands.Deps, email string) (commands.UserInvited, error) {
	return commands.InviteUserHandler(deps).Handle(context.Background(), commands.InviteUser{
		By: f.admin, AccountID: f.account, Profile: user.Profile{Email: email, FirstName: "X", LastName: "Y",
			Language: "en", Country: "US", Roles: []string{"account_viewer"}}})
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

// An older instance (which released former emails) releases x while a
// change back to x is under way: the change's claim stays under way, so
// of an invitation of x meanwhile and the change, one is refused.
func TestChangeManagerEmail_under_way_survives_an_older_instances_release(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	f.changeEmail(t, f.deps, "x@fabrikam.example")
	f.changeEmail(t, f.deps, "y@fabrikam.example")
	x := reservation.UserEmailStream(f.account, "x@fabrikam.example")
	invited := errors.New("not run")
	back := f.beforeAppendTo(user.Stream(manager), func() {
		appendAsOlderVersion(t, f.deps.Store, x, reservation.Released{Kind: reservation.KindUserEmail, OwnerID: manager, ReleasedAt: f.clock.Now()})
		_, invited = f.invite(operator, "x@fabrikam.example", "account_viewer")
	})
	if err := f.tryChange(context.Background(), back, "x@fabrikam.example"); err == nil && invited == nil {
		t.Fatal("both the invitation of x and the change back to x succeeded: two users of the account have x")
	}
}

// appendAsOlderVersion appends e to the end of stream, as an instance of
// an older version would, continuing the stream's hash chain.
func appendAsOlderVersion(t *testing.T, s eventstore.Store, stream string, e event.Event) {
	t.Helper()
	recs, err := s.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	_, meta, err := event.Decode(last.Type, last.Data, last.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	data, md, _, err := event.EncodeAt(e, stream, last.Revision+1, event.Metadata{EventID: id, Actor: "older-version", OccurredAt: time.Now(), PreviousHash: meta.Hash})
	if err != nil {
		t.Fatal(err)
	}
	rev := last.Revision
	if _, err := s.Append(context.Background(), stream, eventstore.Revision(&rev), []eventstore.EventData{{ID: id, Type: e.EventType(), Data: data, Metadata: md}}); err != nil {
		t.Fatal(err)
	}
}

// A designation stalled for over a minute after its handover, and a
// change of the email that goes ahead meanwhile: the change fences the
// designation off on the account, so the designation, waking in the
// middle of the change, conflicts and designates after it; the change,
// having lost its user to it, refuses, and the former manager keeps
// their email.
func TestDesignateManager_stalled_past_a_minute_cannot_land_inside_a_change(t *testing.T) {
	f := newFixture(t)
	manager := f.pendingManager(t)
	reached, release, changed := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	stalls := f.beforeAppendOf(account.ManagerDesignated{}.EventType(), func() {
		f.clock.Advance(time.Minute)
		changing := f.beforeAppendTo(user.Stream(manager), func() { close(reached); <-release })
		go func() { changed <- f.tryChange(context.Background(), changing, "x@fabrikam.example") }()
		<-reached // the change read the account and the manager, and claimed x
	})
	if err := f.designateKim(stalls); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-changed; !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("a change that lost its user to a designation: want a conflict, got %v", err)
	}
	f.resends(t, "kim@fabrikam.example", true)
	f.heldOnly(t, "pat@fabrikam.example", "pat@fabrikam.example", "x@fabrikam.example")
}

// Another manager designated after the change's append to the user
// comes after the change, which stands: it answers done, and the account
// names the new manager.
func TestChangeManagerEmail_done_before_a_designation_of_another_manager_stands(t *testing.T) {
	f := newFixture(t)
	f.pendingManager(t)
	changing := f.beforeAppendOf(account.ManagerDesignated{}.EventType(), func() {
		if err := f.designateKim(f.deps); err != nil {
			t.Error(err)
		}
	})
	if err := f.tryChange(context.Background(), changing, "x@fabrikam.example"); err != nil {
		t.Fatalf("a change the designation came after: %v", err)
	}
	f.resends(t, "kim@fabrikam.example", true)
	f.resends(t, "x@fabrikam.example", false)
	f.heldOnly(t, "x@fabrikam.example", "pat@fabrikam.example", "x@fabrikam.example")
}

// A change that stood although another manager was designated after it,
// run again with its idempotency key (its answer lost), answers done
// again: it finds its user by the email's claim, not as the account's
// manager, who is someone else now.
func TestChangeManagerEmail_done_before_a_designation_run_again_with_its_key_answers_done(t *testing.T) {
	f := newFixture(t)
	f.pendingManager(t)
	changing := f.beforeAppendOf(account.ManagerDesignated{}.EventType(), func() {
		if err := f.designateKim(f.deps); err != nil {
			t.Error(err)
		}
	})
	keyed := commands.WithIdempotencyKey(context.Background(), "op\x00PUT /manager/email\x00k2")
	if err := f.tryChange(keyed, changing, "x@fabrikam.example"); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if err := f.tryChange(keyed, f.deps, "x@fabrikam.example"); err != nil {
		t.Fatalf("run again with its key: %v", err)
	}
	f.resends(t, "kim@fabrikam.example", true)
	f.heldOnly(t, "x@fabrikam.example", "pat@fabrikam.example", "x@fabrikam.example")
}
