package commands_test

import (
	"context"
	"errors"
	"strings"
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

// memSerial runs the commands of one id one at a time, in this process,
// and those sharing an id's turn side by side.
type memSerial struct {
	mu  sync.Mutex
	ids map[uuid.UUID]*sync.RWMutex
}

func (s *memSerial) of(id uuid.UUID) *sync.RWMutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[uuid.UUID]*sync.RWMutex{}
	}
	m := s.ids[id]
	if m == nil {
		m = &sync.RWMutex{}
		s.ids[id] = m
	}
	return m
}

func (s *memSerial) Serialize(ctx context.Context, id uuid.UUID, f func(context.Context) error) error {
	m := s.of(id)
	m.Lock()
	defer m.Unlock()
	return f(ctx)
}

func (s *memSerial) Share(ctx context.Context, id uuid.UUID, f func(context.Context) error) error {
	m := s.of(id)
	m.RLock()
	defer m.RUnlock()
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

// partner registers a partner named name whose global admin is
// ga@<name>.example, and returns it and that admin.
func (f *fixture) partner(t *testing.T, name string) (uuid.UUID, commands.Actor) {
	t.Helper()
	email := "ga@" + strings.ToLower(name) + ".example"
	reg, err := commands.RegisterPartnerHandler(f.deps).Handle(context.Background(), commands.RegisterPartner{
		By: commands.Actor{Subject: "op", Operator: true}, Name: name, Admin: partner.Person{Email: email, FirstName: "G", LastName: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	return reg.PartnerID, commands.Actor{Subject: "ga-" + name, Email: email}
}

// partnerUser adds a sales agent to a partner.
func (f *fixture) partnerUser(t *testing.T, admin commands.Actor, partnerID uuid.UUID, email string) commands.PartnerUserAdded {
	t.Helper()
	added, err := commands.AddPartnerUserHandler(f.deps).Handle(context.Background(), commands.AddPartnerUser{By: admin, PartnerID: partnerID,
		Person: partner.Person{Email: email, FirstName: "B", LastName: "O", Roles: []string{"sales_agent"}}})
	if err != nil {
		t.Fatal(err)
	}
	return added
}

// benefitPackage buys a partner a package of one benefit.
func (f *fixture) benefitPackage(t *testing.T, admin commands.Actor, partnerID uuid.UUID, spec benefit.Spec) commands.BenefitPackagePurchased {
	t.Helper()
	bought, err := commands.PurchaseBenefitPackageHandler(f.deps).Handle(context.Background(), commands.PurchaseBenefitPackage{By: admin, PartnerID: partnerID,
		Order: benefit.Order{Name: "Pack", Price: subscription.Price{Amount: "10", Currency: "USD"}, Benefits: []benefit.Spec{spec}}})
	if err != nil {
		t.Fatal(err)
	}
	return bought
}

// A partner user's removal sent while a benefit is being assigned to them
// either comes first, and the assignment is refused, or waits for it: the
// assignment is never recorded after the removal.
func TestAssignBenefitUser_never_lands_after_the_users_removal(t *testing.T) {
	f := newFixture(t)
	f.deps.PartnerSerial = checked("partner")
	ctx := context.Background()
	partnerID, admin := f.partner(t, "Alpha")
	added := f.partnerUser(t, admin, partnerID, "bo@alpha.example")
	bought := f.benefitPackage(t, admin, partnerID, benefit.Spec{Kind: "visual_studio", Name: "Visual Studio Enterprise", Quantity: 2})
	pkg := bought.Purchased.PackageID

	// The assignment has read the partner (bo is a user) and is about to
	// read the package when the removal is sent.
	removed := make(chan error, 1)
	assigning := f.deps
	assigning.Store = &hooked{Store: f.deps.Store, stream: benefit.Stream(pkg), before: func() {
		go func() {
			_, err := commands.ChangePartnerUserHandler(f.deps).Handle(ctx, commands.ChangePartnerUser{By: admin, PartnerID: partnerID,
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
		PackageTarget: commands.PackageTarget{By: admin, PartnerID: partnerID, PackageID: pkg, BenefitID: bought.Purchased.Benefits[0].BenefitID},
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
		removal, assignment := lastPosition(t, f, partner.Stream(partnerID)), lastPosition(t, f, benefit.Stream(pkg))
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
