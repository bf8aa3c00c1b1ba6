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
	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/eventstore"
)

// memSerial runs the commands of one id one at a time, in this process.
type memSerial struct {
	mu  sync.Mutex
	ids map[uuid.UUID]*sync.Mutex
}

func (s *memSerial) Serialize(ctx context.Context, id uuid.UUID, f func(context.Context) error) error {
	s.mu.Lock()
	if s.ids == nil {
		s.ids = map[uuid.UUID]*sync.Mutex{}
	}
	m := s.ids[id]
	if m == nil {
		m = &sync.Mutex{}
		s.ids[id] = m
	}
	s.mu.Unlock()
	m.Lock()
	defer m.Unlock()
	return f(ctx)
}

// hooked runs before, once, as a stream is first read.
type hooked struct {
	eventstore.Store
	stream string
	before func()
	once   sync.Once
}

func (h *hooked) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if stream == h.stream {
		h.once.Do(h.before)
	}
	return h.Store.ReadStream(ctx, stream, opts)
}

// A partner user's removal sent while a benefit is being assigned to them
// either comes first, and the assignment is refused, or waits for it: the
// assignment is never recorded after the removal.
func TestAssignBenefitUser_never_lands_after_the_users_removal(t *testing.T) {
	f := newFixture(t)
	f.deps.PartnerSerial = &memSerial{}
	ctx := context.Background()
	op := commands.Actor{Subject: "op", Operator: true}
	reg, err := commands.RegisterPartnerHandler(f.deps).Handle(ctx, commands.RegisterPartner{By: op, Name: "Alpha",
		Admin: partner.Person{Email: "ga@alpha.example", FirstName: "G", LastName: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	admin := commands.Actor{Subject: "ga", Email: "ga@alpha.example"}
	added, err := commands.AddPartnerUserHandler(f.deps).Handle(ctx, commands.AddPartnerUser{By: admin, PartnerID: reg.PartnerID,
		Person: partner.Person{Email: "bo@alpha.example", FirstName: "B", LastName: "O", Roles: []string{"sales_agent"}}})
	if err != nil {
		t.Fatal(err)
	}
	bought, err := commands.PurchaseBenefitPackageHandler(f.deps).Handle(ctx, commands.PurchaseBenefitPackage{By: admin, PartnerID: reg.PartnerID,
		Order: benefit.Order{Name: "Pack", Price: subscription.Price{Amount: "10", Currency: "USD"},
			Benefits: []benefit.Spec{{Kind: "visual_studio", Name: "Visual Studio Enterprise", Quantity: 2}}}})
	if err != nil {
		t.Fatal(err)
	}
	pkg := bought.Purchased.PackageID

	// The assignment has read the partner (bo is a user) and is about to
	// read the package when the removal is sent.
	removed := make(chan error, 1)
	assigning := f.deps
	assigning.Store = &hooked{Store: f.deps.Store, stream: benefit.Stream(pkg), before: func() {
		go func() {
			_, err := commands.ChangePartnerUserHandler(f.deps).Handle(ctx, commands.ChangePartnerUser{By: admin, PartnerID: reg.PartnerID,
				UserID: added.UserID, Remove: true})
			removed <- err
		}()
		select { // the removal, unless it waits for the assignment
		case err := <-removed:
			removed <- err
		case <-time.After(300 * time.Millisecond):
		}
	}}
	_, assignErr := commands.AssignBenefitUserHandler(assigning).Handle(ctx, commands.AssignBenefitUser{
		PackageTarget: commands.PackageTarget{By: admin, PartnerID: reg.PartnerID, PackageID: pkg, BenefitID: bought.Purchased.Benefits[0].BenefitID},
		UserID:        added.UserID})
	if err := <-removed; err != nil {
		t.Fatalf("removal: %v", err)
	}
	var rule *domain.RuleError
	if assignErr != nil && !(errors.As(assignErr, &rule) && rule.Code == "not-a-partner-user") {
		t.Fatalf("assignment: %v", assignErr)
	}
	if assignErr == nil {
		// Then it came first: the removal's event is the later one.
		removal, assignment := lastPosition(t, f, partner.Stream(reg.PartnerID)), lastPosition(t, f, benefit.Stream(pkg))
		if removal.Less(assignment) {
			t.Fatalf("the assignment (%v) was recorded after the removal (%v)", assignment, removal)
		}
	}
}

func lastPosition(t *testing.T, f *fixture, stream string) eventstore.Position {
	t.Helper()
	recs, err := f.deps.Store.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{})
	if err != nil || len(recs) == 0 {
		t.Fatalf("%s: %d events, %v", stream, len(recs), err)
	}
	return recs[len(recs)-1].Position
}

// A change of channel partner sent while the partner it takes the account
// from is placing an order either comes first, and the order is refused,
// or waits for it: the order is never recorded after the change.
func TestPartnerOrder_never_lands_after_the_channel_change(t *testing.T) {
	f := newFixture(t)
	f.deps.AccountSerial = &memSerial{}
	ctx := context.Background()
	op := commands.Actor{Subject: "op", Operator: true}
	register := func(name, email string) uuid.UUID {
		reg, err := commands.RegisterPartnerHandler(f.deps).Handle(ctx, commands.RegisterPartner{By: op, Name: name,
			Admin: partner.Person{Email: email, FirstName: "G", LastName: "A"}})
		if err != nil {
			t.Fatal(err)
		}
		return reg.PartnerID
	}
	from, to := register("Alpha", "ga@alpha.example"), register("Beta", "gb@beta.example")
	if _, err := commands.AssociatePartnerHandler(f.deps).Handle(ctx, commands.AssociatePartner{By: op, AccountID: f.account, PartnerID: from}); err != nil {
		t.Fatal(err)
	}

	// The order has read the account (Alpha serves it) and is about to
	// read Alpha's users when the change is sent.
	changed := make(chan error, 1)
	ordering := f.deps
	ordering.Store = &hooked{Store: f.deps.Store, stream: partner.Stream(from), before: func() {
		go func() {
			_, err := commands.ChangeChannelPartnerHandler(f.deps).Handle(ctx, commands.ChangeChannelPartner{By: op, AccountID: f.account,
				FromPartnerID: from, ToPartnerID: to})
			changed <- err
		}()
		select { // the change, unless it waits for the order
		case err := <-changed:
			changed <- err
		case <-time.After(300 * time.Millisecond):
		}
	}}
	bought, orderErr := commands.PurchaseSubscriptionHandler(ordering).Handle(ctx, commands.PurchaseSubscription{
		By: commands.Actor{Subject: "ga", Email: "ga@alpha.example"}, AccountID: f.account,
		Order: subscription.Order{ProductID: "m365-e3", ProductName: "Microsoft 365 E3", Name: "team", OrderingPartnerID: &from,
			ExpiresAt: f.clock.Now().Add(365 * 24 * time.Hour), Price: subscription.Price{Amount: "10", Currency: "USD"}, TotalLicenses: 5}})
	if err := <-changed; err != nil {
		t.Fatalf("channel change: %v", err)
	}
	if orderErr != nil && !errors.Is(orderErr, domain.ErrNotFound) {
		t.Fatalf("order: %v", orderErr)
	}
	if orderErr == nil {
		// Then it came first: the change's event is the later one.
		change, order := lastPosition(t, f, account.Stream(f.account)), lastPosition(t, f, subscription.Stream(bought.SubscriptionID))
		if change.Less(order) {
			t.Fatalf("the order (%v) was recorded after the channel change (%v)", order, change)
		}
	}
}
