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
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// pat is a manager to designate.
func pat(email string) user.Profile {
	return user.Profile{Email: email, FirstName: "Pat", LastName: "M", Language: "en", Country: "US"}
}

// lastOf is the position of the last event of a type in a stream.
func lastOf(t *testing.T, f *fixture, stream, eventType string) eventstore.Position {
	t.Helper()
	recs, err := f.deps.Store.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Type == eventType {
			return recs[i].Position
		}
	}
	t.Fatalf("%s: no %s", stream, eventType)
	return eventstore.Position{}
}

// checkManagerAct holds a manager command of Alpha's, run while the
// account moved to Beta, to the change, by the designation it recorded
// on the account.
func checkManagerAct(t *testing.T, m *channelMove, err error) {
	t.Helper()
	m.checkDone(t, err, func() eventstore.Position {
		return lastOf(t, m.f, account.Stream(m.f.account), account.ManagerDesignated{}.EventType())
	})
}

// The partner being replaced never designates the customer's manager
// after the change of channel partner: the designation comes first, or is
// refused.
func TestPartnerManagerDesignation_never_lands_after_the_channel_change(t *testing.T) {
	f := newFixture(t)
	f.deps.AccountSerial = checked("account")
	m := newChannelMove(t, f)
	_, err := commands.DesignateManagerHandler(m.during()).Handle(context.Background(), commands.DesignateManager{
		By: m.alpha, AccountID: f.account, Manager: pat("pat@fabrikam.example")})
	checkManagerAct(t, m, err)
}

// Nor does it change the manager's email.
func TestPartnerManagerEmail_never_changes_after_the_channel_change(t *testing.T) {
	f := newFixture(t)
	f.deps.AccountSerial = checked("account")
	m := newChannelMove(t, f)
	if _, err := commands.DesignateManagerHandler(f.deps).Handle(context.Background(), commands.DesignateManager{
		By: m.alpha, AccountID: f.account, Manager: pat("pat@fabrikam.example")}); err != nil {
		t.Fatal(err)
	}
	_, err := commands.ChangeManagerEmailHandler(m.during()).Handle(context.Background(), commands.ChangeManagerEmail{
		By: m.alpha, AccountID: f.account, Email: "pat.m@fabrikam.example"})
	checkManagerAct(t, m, err)
}

// beforeTurn runs before once, as the first command to take an
// account's turn through it is about to.
type beforeTurn struct {
	commands.Serial
	before func()
	once   sync.Once
}

func (b *beforeTurn) Serialize(ctx context.Context, id uuid.UUID, f func(context.Context) error) error {
	b.once.Do(b.before)
	return b.Serial.Serialize(ctx, id, f)
}

// A partner resends only the manager's invitation: when another manager
// is designated after the resend found the user to be the manager, before
// it took the account's turn, the resend is refused rather than recorded
// on a user who is no longer the manager.
func TestPartnerResend_never_lands_after_another_manager_is_designated(t *testing.T) {
	f := newFixture(t)
	serial := checked("account")
	f.deps.AccountSerial = serial
	m := newChannelMove(t, f)
	first, err := commands.DesignateManagerHandler(f.deps).Handle(context.Background(), commands.DesignateManager{
		By: m.alpha, AccountID: f.account, Manager: pat("pat@fabrikam.example")})
	if err != nil {
		t.Fatal(err)
	}
	designated := make(chan error, 1)
	d := f.deps
	d.AccountSerial = &beforeTurn{Serial: serial, before: func() {
		_, err := commands.DesignateManagerHandler(f.deps).Handle(context.Background(), commands.DesignateManager{
			By: commands.Actor{Subject: "op", Operator: true}, AccountID: f.account, Manager: pat("lee@fabrikam.example")})
		designated <- err
	}}
	_, err = commands.ResendInvitationHandler(d).Handle(context.Background(), commands.ResendInvitation{
		By: m.alpha, AccountID: f.account, UserID: first.ManagerUserID})
	select {
	case err := <-designated:
		if err != nil {
			t.Fatalf("designation of Lee: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the resend never took the account's turn")
	}
	if err == nil {
		t.Fatal("Alpha resent Pat's invitation after Lee became the manager")
	}
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Alpha's resend: %v, want the 404 of anyone who may not", err)
	}
}
