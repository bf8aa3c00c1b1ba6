package subscription

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
)

var now = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)

// given folds events into a subscription.
func given(events ...event.Event) *Subscription {
	var s Subscription
	for _, e := range events {
		s.Apply(e)
	}
	return &s
}

func purchased(total int) Purchased {
	return Purchased{SubscriptionID: uuid.New(), AccountID: uuid.New(), ProductID: "office-e3", ProductName: "Office E3", Name: "Team",
		PurchasedAt: now, ExpiresAt: now.AddDate(1, 0, 0), TotalLicenses: total}
}

func users(n int) []uuid.UUID {
	out := make([]uuid.UUID, n)
	for i := range out {
		out[i] = uuid.New()
	}
	return out
}

func TestSubscription_Assign_records_batches_and_never_beyond_the_total(t *testing.T) {
	s := given(purchased(2500))
	many := users(2500)
	events, err := s.Assign(many, []string{"teams"}, 1, "admin", now)
	if err != nil || len(events) != 3 {
		t.Fatalf("%d events, %v", len(events), err)
	}
	for _, e := range events {
		s.Apply(e)
	}
	if last := events[2].(LicensesAssigned); last.AssignedLicenses != 2500 || len(last.UserIDs) != 500 {
		t.Fatalf("last batch %d users, count %d", len(last.UserIDs), last.AssignedLicenses)
	}
	if s.Free(now) != 0 || !s.Holds(many[1234]) {
		t.Fatalf("free %d", s.Free(now))
	}
	if _, err := s.Assign(users(1), nil, 1, "admin", now); !domain.IsRule(err, "not-enough-licenses") {
		t.Fatalf("beyond the total: %v", err)
	}
	if _, err := s.Assign(many[:1], nil, 1, "admin", now); !domain.IsRule(err, "already-assigned") {
		t.Fatalf("twice: %v", err)
	}
}

func TestSubscription_SetTotal_never_drops_below_the_licenses_assigned(t *testing.T) {
	s := given(purchased(5))
	three := users(3)
	events, _ := s.Assign(three, nil, 1, "admin", now)
	s.Apply(events[0])
	if _, err := s.SetTotal(2, "admin", now); !domain.IsRule(err, "below-assigned") {
		t.Fatalf("below assigned: %v", err)
	}
	if changed, err := s.SetTotal(3, "admin", now); err != nil || changed.Total != 3 {
		t.Fatalf("down to assigned: %v", err)
	}
	for _, e := range s.Unassign([]uuid.UUID{three[0], uuid.New()}, "admin") {
		s.Apply(e)
	}
	if changed, err := s.SetTotal(2, "admin", now); err != nil || changed == nil {
		t.Fatalf("after unassigning one: %v", err)
	}
}

func TestSubscription_Assign_needs_an_active_subscription(t *testing.T) {
	p := purchased(5)
	s := given(p, Cancelled{SubscriptionID: p.SubscriptionID, Reason: "other", CancelledAt: now})
	if _, err := s.Assign(users(1), nil, 1, "admin", now); !domain.IsRule(err, "subscription-cancelled") {
		t.Fatalf("cancelled: %v", err)
	}
	if s.Free(now) != 0 || given(p).Free(p.ExpiresAt) != 0 {
		t.Fatal("an ended subscription has no free licenses")
	}
}

// Downstream systems read the event's lists as arrays (docs/events.md):
// a product the catalog does not list has no plans, [] and not null.
func TestSubscription_Assign_without_plans_records_an_empty_list(t *testing.T) {
	events, err := given(purchased(1)).Assign(users(1), nil, 1, "admin", now)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(events[0])
	if !strings.Contains(string(data), `"servicePlans":[]`) {
		t.Fatalf("event %s", data)
	}
}
