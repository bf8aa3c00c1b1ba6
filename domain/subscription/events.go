// Package subscription is the subscription aggregate: one product bought
// for a customer account, by the customer (self-service) or ordered by a
// partner, with a total of licenses, until it is cancelled or expires.
package subscription

import (
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
)

// Purchased: a subscription was bought. OrderingPartnerID is nil for a
// self-service purchase. BuyerUserID is the customer or partner user who
// bought it (nil when a service operator recorded it); the read model
// shows the buyer's name from that user, so the event holds no personal
// data.
type Purchased struct {
	SubscriptionID    uuid.UUID  `json:"subscriptionId"`
	AccountID         uuid.UUID  `json:"accountId"`
	ProductID         string     `json:"productId"`
	ProductName       string     `json:"productName"`
	Name              string     `json:"name"`
	OrderingPartnerID *uuid.UUID `json:"orderingPartnerId"`
	BuyerUserID       *uuid.UUID `json:"buyerUserId"`
	PurchasedBy       string     `json:"purchasedBy"`
	PurchasedAt       time.Time  `json:"purchasedAt"`
	ExpiresAt         time.Time  `json:"expiresAt"`
	Price             Price      `json:"price"`
	TotalLicenses     int        `json:"totalLicenses"`
}

// LicenseTotalChanged: the subscription now has Total licenses.
type LicenseTotalChanged struct {
	SubscriptionID uuid.UUID `json:"subscriptionId"`
	AccountID      uuid.UUID `json:"accountId"`
	PreviousTotal  int       `json:"previousTotal"`
	Total          int       `json:"total"`
	ChangedBy      string    `json:"changedBy"`
}

// Cancelled: the subscription ends now, for a reason of the fixed list.
type Cancelled struct {
	SubscriptionID uuid.UUID `json:"subscriptionId"`
	AccountID      uuid.UUID `json:"accountId"`
	Reason         Reason    `json:"reason"`
	Feedback       string    `json:"feedback,omitempty"`
	CancelledBy    string    `json:"cancelledBy"`
	CancelledAt    time.Time `json:"cancelledAt"`
}

// Expired: the subscription reached its expiration date (recorded by the
// sweeper; the subscription counted as expired from ExpiresAt on, with or
// without this event).
type Expired struct {
	SubscriptionID uuid.UUID `json:"subscriptionId"`
	AccountID      uuid.UUID `json:"accountId"`
	ExpiresAt      time.Time `json:"expiresAt"`
	RecordedAt     time.Time `json:"recordedAt"`
}

func (Purchased) EventType() string           { return "subscription.purchased" }
func (LicenseTotalChanged) EventType() string { return "subscription.license_total_changed" }
func (Cancelled) EventType() string           { return "subscription.cancelled" }
func (Expired) EventType() string             { return "subscription.expired" }

func init() {
	event.Register[Purchased](1)
	event.Register[LicenseTotalChanged](1)
	event.Register[Cancelled](1)
	event.Register[Expired](1)
}

// Stream is the stream of one subscription.
func Stream(id uuid.UUID) string { return "subscription-" + id.String() }
