package subscription

import (
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
)

// LicensesAssigned: users were given licenses of the subscription's
// product, each with these service plans switched on. AssignedLicenses is
// the count after the event. One request records up to MaxUsersPerEvent
// users an event, several events in one append when it assigns more.
// CatalogVersion is the catalog whose rules allowed it.
type LicensesAssigned struct {
	SubscriptionID   uuid.UUID   `json:"subscriptionId"`
	AccountID        uuid.UUID   `json:"accountId"`
	ProductID        string      `json:"productId"`
	UserIDs          []uuid.UUID `json:"userIds"`
	ServicePlans     []string    `json:"servicePlans"`
	AssignedLicenses int         `json:"assignedLicenses"`
	CatalogVersion   int         `json:"catalogVersion"`
	AssignedBy       string      `json:"assignedBy"`
}

// LicensesUnassigned: users' licenses went back to the subscription.
// AssignedLicenses is the count after the event.
type LicensesUnassigned struct {
	SubscriptionID   uuid.UUID   `json:"subscriptionId"`
	AccountID        uuid.UUID   `json:"accountId"`
	ProductID        string      `json:"productId"`
	UserIDs          []uuid.UUID `json:"userIds"`
	AssignedLicenses int         `json:"assignedLicenses"`
	UnassignedBy     string      `json:"unassignedBy"`
}

func (LicensesAssigned) EventType() string   { return "subscription.licenses_assigned" }
func (LicensesUnassigned) EventType() string { return "subscription.licenses_unassigned" }

func init() {
	event.Register[LicensesAssigned](1)
	event.Register[LicensesUnassigned](1)
}

// MaxUsersPerEvent bounds the users of one licenses event, so that an
// event stays small (about 40 KB) whatever a request assigns.
const MaxUsersPerEvent = 1000

// licenses is who holds the subscription's licenses.
type licenses struct {
	productID string
	holders   map[uuid.UUID][]string // user -> service plans
}

// applyLicenses folds what the licenses need; Apply calls it first.
func (s *Subscription) applyLicenses(e event.Event) {
	switch e := e.(type) {
	case Purchased:
		s.lic.productID = e.ProductID
	case LicensesAssigned:
		if s.lic.holders == nil {
			s.lic.holders = map[uuid.UUID][]string{}
		}
		for _, u := range e.UserIDs {
			s.lic.holders[u] = e.ServicePlans
		}
		s.assigned = len(s.lic.holders)
	case LicensesUnassigned:
		for _, u := range e.UserIDs {
			delete(s.lic.holders, u)
		}
		s.assigned = len(s.lic.holders)
	}
}

// ID is the subscription's id.
func (s *Subscription) ID() uuid.UUID { return s.id }

// ProductID is the product the subscription is for.
func (s *Subscription) ProductID() string { return s.lic.productID }

// ExpiresAt is when it expires (unless cancelled before).
func (s *Subscription) ExpiresAt() time.Time { return s.expiresAt }

// Free is how many licenses may still be assigned at a moment: none
// unless the subscription is active.
func (s *Subscription) Free(now time.Time) int {
	if s.Status(now) != StatusActive {
		return 0
	}
	return max(s.total-s.assigned, 0)
}

// Holders are the users holding a license, with their service plans.
func (s *Subscription) Holders() iter.Seq2[uuid.UUID, []string] { return maps.All(s.lic.holders) }

// Holds reports whether a user holds a license of the subscription.
func (s *Subscription) Holds(userID uuid.UUID) bool {
	_, ok := s.lic.holders[userID]
	return ok
}

// Assign gives each user a license with the service plans, all or none:
// the subscription must be active, with a free license for each user,
// and none of them may hold one already. The rules of who may get a
// product (licensing.Catalog.Assign) are decided before.
func (s *Subscription) Assign(users []uuid.UUID, plans []string, catalogVersion int, by string, now time.Time) ([]event.Event, error) {
	if err := s.CheckActive(now); err != nil {
		return nil, err
	}
	if slices.ContainsFunc(users, s.Holds) {
		return nil, &domain.RuleError{Code: "already-assigned", Detail: "a user already holds a license of this subscription"}
	}
	if len(users) > s.Free(now) {
		return nil, &domain.RuleError{Code: "not-enough-licenses",
			Detail: "the subscription has " + itoa(s.Free(now)) + " free licenses for " + itoa(len(users)) + " users"}
	}
	if plans == nil {
		plans = []string{} // the event's list is [] when empty, never null
	}
	var out []event.Event
	count := s.assigned
	for chunk := range slices.Chunk(users, MaxUsersPerEvent) {
		count += len(chunk)
		out = append(out, LicensesAssigned{SubscriptionID: s.id, AccountID: s.accountID, ProductID: s.lic.productID,
			UserIDs: chunk, ServicePlans: plans, AssignedLicenses: count, CatalogVersion: catalogVersion, AssignedBy: by})
	}
	return out, nil
}

// Unassign takes the licenses of the users who hold one back (whatever
// the subscription's status); users holding none are passed over.
func (s *Subscription) Unassign(users []uuid.UUID, by string) []event.Event {
	var holding []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, u := range users {
		if s.Holds(u) && !seen[u] {
			seen[u] = true
			holding = append(holding, u)
		}
	}
	var out []event.Event
	count := s.assigned
	for chunk := range slices.Chunk(holding, MaxUsersPerEvent) {
		count -= len(chunk)
		out = append(out, LicensesUnassigned{SubscriptionID: s.id, AccountID: s.accountID, ProductID: s.lic.productID,
			UserIDs: chunk, AssignedLicenses: count, UnassignedBy: by})
	}
	return out
}
