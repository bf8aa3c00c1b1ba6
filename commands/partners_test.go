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
