package subscription

import (
	"strconv"
	"time"

	"github.com/google/uuid"
)

// State is a subscription as its events left it, for auditors.
type State struct {
	SubscriptionID    uuid.UUID  `json:"subscriptionId"`
	AccountID         uuid.UUID  `json:"accountId"`
	OrderingPartnerID *uuid.UUID `json:"orderingPartnerId"`
	ExpiresAt         time.Time  `json:"expiresAt"`
	TotalLicenses     int        `json:"totalLicenses"`
	AssignedLicenses  int        `json:"assignedLicenses"`
	Status            Status     `json:"status"`
}

// Snapshot is the state at a moment (expiry depends on it).
func (s *Subscription) Snapshot(now time.Time) State {
	return State{
		SubscriptionID: s.id, AccountID: s.accountID, OrderingPartnerID: s.orderingPartnerID,
		ExpiresAt: s.expiresAt, TotalLicenses: s.total, AssignedLicenses: s.assigned, Status: s.Status(now),
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
