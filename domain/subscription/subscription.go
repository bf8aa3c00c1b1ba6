package subscription

import (
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
)

// Status of a subscription.
type Status string

const (
	StatusActive    Status = "active"
	StatusCancelled Status = "cancelled"
	StatusExpired   Status = "expired"
)

// Reason is why a customer cancels: a fixed list, so reports can count.
type Reason string

// Reasons lists every cancellation reason.
var Reasons = []Reason{"too_expensive", "no_longer_needed", "switching_products", "missing_features", "not_working_as_expected", "other"}

// Limits of a subscription.
const (
	MaxLicenses = 1_000_000
	MaxFeedback = 2000
	// MaxTerm bounds how far ahead a subscription may expire.
	MaxTerm = 10 * 366 * 24 * time.Hour
)

// Subscription is the write model of one subscription.
type Subscription struct {
	id                uuid.UUID
	accountID         uuid.UUID
	orderingPartnerID *uuid.UUID
	expiresAt         time.Time
	total             int
	assigned          int
	cancelled         bool
	expiryRecorded    bool
	// lic is who holds its licenses (licenses.go).
	lic licenses
}

// Apply folds one event into the state.
func (s *Subscription) Apply(e event.Event) {
	s.applyLicenses(e)
	switch e := e.(type) {
	case Purchased:
		s.id, s.accountID, s.orderingPartnerID = e.SubscriptionID, e.AccountID, e.OrderingPartnerID
		s.expiresAt, s.total = e.ExpiresAt, e.TotalLicenses
	case LicenseTotalChanged:
		s.total = e.Total
	case Cancelled:
		s.cancelled = true
	case Expired:
		s.expiryRecorded = true
	}
}

// Exists reports whether the subscription was purchased.
func (s *Subscription) Exists() bool { return s.id != uuid.Nil }

// AccountID is the customer's account.
func (s *Subscription) AccountID() uuid.UUID { return s.accountID }

// OrderingPartner is who ordered it (nil: self-service).
func (s *Subscription) OrderingPartner() *uuid.UUID { return s.orderingPartnerID }

// Status at a moment: expiry needs no event to count, and once recorded
// holds whatever now is (a clock behind the sweeper's would otherwise
// change a subscription the log says expired).
func (s *Subscription) Status(now time.Time) Status {
	switch {
	case s.cancelled:
		return StatusCancelled
	case s.expiryRecorded || !now.Before(s.expiresAt):
		return StatusExpired
	}
	return StatusActive
}

// Order is what a purchase takes.
type Order struct {
	ProductID, ProductName, Name string
	OrderingPartnerID            *uuid.UUID
	BuyerUserID                  *uuid.UUID
	ExpiresAt                    time.Time
	Price                        Price
	TotalLicenses                int
}

var productID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Purchase validates an order placed at now.
func Purchase(id, accountID uuid.UUID, o Order, by string, now time.Time) (Purchased, error) {
	var verr domain.ValidationError
	if !productID.MatchString(o.ProductID) {
		verr.Add("productId", "1 to 64 lower-case letters, digits, dots, dashes or underscores")
	}
	productName, why := domain.CheckName(o.ProductName, 200)
	if why != "" {
		verr.Add("productName", why)
	}
	name, why := domain.CheckName(o.Name, 200)
	if why != "" {
		verr.Add("name", why)
	}
	// Checked as recorded, in microseconds: an expiry less than one ahead
	// would be recorded at the purchase's moment, a term of nothing.
	expiresAt := o.ExpiresAt.UTC().Truncate(time.Microsecond)
	switch {
	case o.ExpiresAt.IsZero():
		verr.Add("expiresAt", "required")
	case !expiresAt.After(now):
		verr.Add("expiresAt", "must be in the future")
	case expiresAt.Sub(now) > MaxTerm:
		verr.Add("expiresAt", "at most ten years ahead")
	}
	price := checkPrice(o.Price, &verr)
	if o.TotalLicenses < 1 || o.TotalLicenses > MaxLicenses {
		verr.Add("totalLicenses", "from 1 to 1000000")
	}
	if err := verr.Err(); err != nil {
		return Purchased{}, err
	}
	return Purchased{
		SubscriptionID: id, AccountID: accountID, ProductID: o.ProductID, ProductName: productName, Name: name,
		OrderingPartnerID: o.OrderingPartnerID, BuyerUserID: o.BuyerUserID, PurchasedBy: by,
		PurchasedAt: now, ExpiresAt: expiresAt, Price: price, TotalLicenses: o.TotalLicenses,
	}, nil
}

// SetTotal sets the number of licenses (nil: it already is that total).
// The total never drops below the licenses assigned.
func (s *Subscription) SetTotal(total int, by string, now time.Time) (*LicenseTotalChanged, error) {
	if total < 1 || total > MaxLicenses {
		return nil, &domain.ValidationError{Fields: []domain.FieldError{{Field: "total", Reason: "from 1 to 1000000"}}}
	}
	if err := s.CheckActive(now); err != nil {
		return nil, err
	}
	if total < s.assigned {
		return nil, &domain.RuleError{Code: "below-assigned",
			Detail: "the total cannot drop below the licenses assigned; unassign some first"}
	}
	if total == s.total {
		return nil, nil
	}
	return &LicenseTotalChanged{SubscriptionID: s.id, AccountID: s.accountID, PreviousTotal: s.total, Total: total, ChangedBy: by}, nil
}

// Cancel ends an active subscription.
func (s *Subscription) Cancel(reason, feedback, by string, now time.Time) (Cancelled, error) {
	var verr domain.ValidationError
	if !slices.Contains(Reasons, Reason(reason)) {
		verr.Add("reason", "one of too_expensive, no_longer_needed, switching_products, missing_features, not_working_as_expected, other")
	}
	feedback, why := domain.CheckFreeText(feedback, MaxFeedback)
	if why != "" {
		verr.Add("feedback", why)
	}
	if err := verr.Err(); err != nil {
		return Cancelled{}, err
	}
	if err := s.CheckActive(now); err != nil {
		return Cancelled{}, err
	}
	return Cancelled{SubscriptionID: s.id, AccountID: s.accountID, Reason: Reason(reason), Feedback: feedback, CancelledBy: by, CancelledAt: now}, nil
}

// RecordExpiry records that the subscription expired (nil: not expired
// yet, cancelled, or recorded before).
func (s *Subscription) RecordExpiry(now time.Time) *Expired {
	if s.Status(now) != StatusExpired || s.expiryRecorded {
		return nil
	}
	return &Expired{SubscriptionID: s.id, AccountID: s.accountID, ExpiresAt: s.expiresAt, RecordedAt: now}
}

// CheckActive refuses a subscription that is cancelled or expired at now.
func (s *Subscription) CheckActive(now time.Time) error {
	switch s.Status(now) {
	case StatusCancelled:
		return &domain.RuleError{Code: "subscription-cancelled", Detail: "the subscription was cancelled"}
	case StatusExpired:
		return &domain.RuleError{Code: "subscription-expired", Detail: "the subscription has expired"}
	}
	return nil
}
