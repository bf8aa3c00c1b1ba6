package commands_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/eventstore"
)

// channelMove is an account served by Alpha, and a change of its channel
// partner from Alpha to Beta sent while a command of Alpha's runs: after
// the command has read the account, as it first reads Alpha's stream.
type channelMove struct {
	f        *fixture
	from, to uuid.UUID
	alpha    commands.Actor
	changed  chan error
}

func newChannelMove(t *testing.T, f *fixture) *channelMove {
	t.Helper()
	m := &channelMove{f: f, changed: make(chan error, 1)}
	m.from, m.alpha = f.partner(t, "Alpha")
	m.to, _ = f.partner(t, "Beta")
	if _, err := commands.AssociatePartnerHandler(f.deps).Handle(context.Background(), commands.AssociatePartner{
		By: commands.Actor{Subject: "op", Operator: true}, AccountID: f.account, PartnerID: m.from}); err != nil {
		t.Fatal(err)
	}
	return m
}

// order places an order of Alpha's for the account.
func (m *channelMove) order(d commands.Deps) (commands.SubscriptionPurchased, error) {
	return commands.PurchaseSubscriptionHandler(d).Handle(context.Background(), commands.PurchaseSubscription{By: m.alpha, AccountID: m.f.account,
		Order: subscription.Order{ProductID: "office-e3", ProductName: "Office E3", Name: "team", OrderingPartnerID: &m.from,
			ExpiresAt: m.f.clock.Now().Add(365 * 24 * time.Hour), Price: subscription.Price{Amount: "10", Currency: "USD"}, TotalLicenses: 5}})
}

// during is the fixture's deps with a store that sends the change as
// Alpha's stream is first read, and gives it 300 ms unless it waits for
// the command.
func (m *channelMove) during() commands.Deps {
	d := m.f.deps
	d.Store = &hooked{Store: m.f.deps.Store, stream: partner.Stream(m.from), before: func() {
		go func() {
			_, err := commands.ChangeChannelPartnerHandler(m.f.deps).Handle(context.Background(), commands.ChangeChannelPartner{
				By: commands.Actor{Subject: "op", Operator: true}, AccountID: m.f.account, FromPartnerID: m.from, ToPartnerID: m.to})
			m.changed <- err
		}()
		select {
		case err := <-m.changed:
			m.changed <- err
		case <-time.After(300 * time.Millisecond):
		}
	}}
	return d
}

// check holds the command's outcome to the change: either refused as
// Alpha no longer serving the account (404), or recorded, in stream,
// before the change.
func (m *channelMove) check(t *testing.T, cmdErr error, stream string) {
	t.Helper()
	m.checkDone(t, cmdErr, func() eventstore.Position { return lastPosition(t, m.f, stream) })
}

// checkDone is check with the position of what the command recorded
// last, read once the command succeeded.
func (m *channelMove) checkDone(t *testing.T, cmdErr error, done func() eventstore.Position) {
	t.Helper()
	if err := <-m.changed; err != nil {
		t.Fatalf("channel change: %v", err)
	}
	if cmdErr != nil {
		if !errors.Is(cmdErr, domain.ErrNotFound) {
			t.Fatalf("Alpha's command: %v", cmdErr)
		}
		return
	}
	change := lastOf(t, m.f, account.Stream(m.f.account), account.ChannelPartnerChanged{}.EventType())
	if at := done(); change.Less(at) {
		t.Fatalf("Alpha's command (%v) was recorded after the channel moved to Beta (%v)", at, change)
	}
}

// The partner being replaced never orders for the account after the
// change: the order comes first, or is refused.
func TestPartnerOrder_never_lands_after_the_channel_change(t *testing.T) {
	f := newFixture(t)
	f.deps.AccountSerial = checked("account")
	m := newChannelMove(t, f)
	bought, err := m.order(m.during())
	m.check(t, err, subscription.Stream(bought.SubscriptionID))
}

// Nor does it assign licenses from what it ordered.
func TestPartnerLicenses_never_land_after_the_channel_change(t *testing.T) {
	f := newFixture(t)
	serial := checked("account")
	f.deps.AccountSerial = serial
	m := newChannelMove(t, f)
	bought, err := m.order(f.deps)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := licensing.Default()
	if err != nil {
		t.Fatal(err)
	}
	l := commands.Licensing{Catalog: cat, Lookup: noLookup{[]uuid.UUID{bought.SubscriptionID}}, Serial: serial}
	viewer := f.viewer(t, "ria@fabrikam.example", true)
	res, err := commands.AssignLicensesHandler(m.during(), l).Handle(context.Background(), commands.AssignLicenses{By: m.alpha, AccountID: f.account,
		PartnerID: &m.from, UserIDs: []uuid.UUID{viewer}, Products: []licensing.Choice{{ProductID: "office-e3"}}})
	if err == nil && outcomesOf(res) != "[assigned:]" {
		t.Fatalf("Alpha's assignment: %s", outcomesOf(res))
	}
	m.check(t, err, subscription.Stream(bought.SubscriptionID))
}

// Nor changes the total of a subscription it ordered.
func TestPartnerLicenseTotal_never_lands_after_the_channel_change(t *testing.T) {
	f := newFixture(t)
	f.deps.AccountSerial = checked("account")
	m := newChannelMove(t, f)
	bought, err := m.order(f.deps)
	if err != nil {
		t.Fatal(err)
	}
	_, err = commands.SetLicenseTotalHandler(m.during()).Handle(context.Background(), commands.SetLicenseTotal{By: m.alpha, AccountID: f.account,
		SubscriptionID: bought.SubscriptionID, Total: 7})
	m.check(t, err, subscription.Stream(bought.SubscriptionID))
}

// The partner taking the account over draws from what the previous one
// ordered as soon as the change is recorded: an assignment of Beta's sent
// before the change and decided after it (its turn came after the
// change's) draws from Alpha's order, where it was decided on the account
// as it read it before its turn (not-enough-licenses).
func TestPartnerLicenses_decided_after_the_channel_change_draw_from_what_it_hands_over(t *testing.T) {
	f := newFixture(t)
	serial := checked("account")
	f.deps.AccountSerial = serial
	m := newChannelMove(t, f)
	beta := commands.Actor{Subject: "ga-Beta", Email: "ga@beta.example"} // Beta's global admin (f.partner)
	op := commands.Actor{Subject: "op", Operator: true}
	if _, err := commands.AssociatePartnerHandler(f.deps).Handle(context.Background(), commands.AssociatePartner{
		By: op, AccountID: f.account, PartnerID: m.to}); err != nil {
		t.Fatal(err)
	}
	bought, err := m.order(f.deps)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := licensing.Default()
	if err != nil {
		t.Fatal(err)
	}
	l := commands.Licensing{Catalog: cat, Lookup: noLookup{[]uuid.UUID{bought.SubscriptionID}}, Serial: &beforeTurn{Serial: serial, before: func() {
		if _, err := commands.ChangeChannelPartnerHandler(f.deps).Handle(context.Background(), commands.ChangeChannelPartner{
			By: op, AccountID: f.account, FromPartnerID: m.from, ToPartnerID: m.to}); err != nil {
			t.Error(err)
		}
	}}}
	viewer := f.viewer(t, "ria@fabrikam.example", true)
	res, err := commands.AssignLicensesHandler(f.deps, l).Handle(context.Background(), commands.AssignLicenses{By: beta, AccountID: f.account,
		PartnerID: &m.to, UserIDs: []uuid.UUID{viewer}, Products: []licensing.Choice{{ProductID: "office-e3"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomesOf(res); got != "[assigned:]" {
		t.Fatalf("the new channel partner's assignment from what it took over: %s", got)
	}
}
