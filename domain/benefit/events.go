// Package benefit is the partner-network membership: a benefit package a
// partner organization bought, its benefits of five kinds (software,
// cloud, Visual Studio subscriptions, technical, go-to-market), who uses
// them, and the package's cancellation with or without a refund. One
// stream holds a package, so its quantities and its refund rule are
// decided on one revision.
package benefit

import (
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/subscription"
)

// Benefit is one benefit of a package as bought.
type Benefit struct {
	BenefitID uuid.UUID `json:"benefitId"`
	Kind      Kind      `json:"kind"`
	Name      string    `json:"name"`
	// ProductID names the product of a software or cloud benefit.
	ProductID string `json:"productId,omitempty"`
	// Quantity: users (visual_studio, technical), licenses the key or
	// subscription covers (software, cloud), benefits (go_to_market).
	Quantity int `json:"quantity"`
	// CloudModel is usage or license, for cloud benefits only.
	CloudModel CloudModel `json:"cloudModel,omitempty"`
	// TermDays is how long a go-to-market benefit runs once activated.
	TermDays int `json:"termDays,omitempty"`
}

// PackagePurchased: a partner organization bought a benefit package.
type PackagePurchased struct {
	PackageID   uuid.UUID          `json:"packageId"`
	PartnerID   uuid.UUID          `json:"partnerId"`
	Name        string             `json:"name"`
	Price       subscription.Price `json:"price"`
	Benefits    []Benefit          `json:"benefits"`
	BuyerUserID *uuid.UUID         `json:"buyerUserId"`
	PurchasedBy string             `json:"purchasedBy"`
	PurchasedAt time.Time          `json:"purchasedAt"`
}

// ProductKeyRetrieved: someone got the product key of a software or
// license-based cloud benefit, for a language and an operating system.
type ProductKeyRetrieved struct {
	PackageID   uuid.UUID  `json:"packageId"`
	PartnerID   uuid.UUID  `json:"partnerId"`
	BenefitID   uuid.UUID  `json:"benefitId"`
	Language    string     `json:"language,omitempty"`
	OS          string     `json:"os,omitempty"`
	UserID      *uuid.UUID `json:"userId"`
	RetrievedBy string     `json:"retrievedBy"`
	RetrievedAt time.Time  `json:"retrievedAt"`
}

// CompanyAssigned: the partner organization itself uses a usage-based
// cloud benefit.
type CompanyAssigned struct {
	PackageID  uuid.UUID `json:"packageId"`
	PartnerID  uuid.UUID `json:"partnerId"`
	BenefitID  uuid.UUID `json:"benefitId"`
	AssignedBy string    `json:"assignedBy"`
	AssignedAt time.Time `json:"assignedAt"`
}

// UserAssigned: a user of the partner uses a Visual Studio subscription or
// a technical benefit. AlternateEmail (technical benefits only) differs
// from the user's sign-in email; instructions go to both.
type UserAssigned struct {
	PackageID      uuid.UUID `json:"packageId"`
	PartnerID      uuid.UUID `json:"partnerId"`
	BenefitID      uuid.UUID `json:"benefitId"`
	UserID         uuid.UUID `json:"userId"`
	AlternateEmail string    `json:"alternateEmail,omitempty"`
	AssignedBy     string    `json:"assignedBy"`
	AssignedAt     time.Time `json:"assignedAt"`
}

// UserReassigned: the place FromUserID held now belongs to UserID.
type UserReassigned struct {
	PackageID      uuid.UUID `json:"packageId"`
	PartnerID      uuid.UUID `json:"partnerId"`
	BenefitID      uuid.UUID `json:"benefitId"`
	FromUserID     uuid.UUID `json:"fromUserId"`
	UserID         uuid.UUID `json:"userId"`
	AlternateEmail string    `json:"alternateEmail,omitempty"`
	ReassignedBy   string    `json:"reassignedBy"`
	ReassignedAt   time.Time `json:"reassignedAt"`
}

// UserUnassigned: the user no longer uses the benefit; the place is free.
type UserUnassigned struct {
	PackageID    uuid.UUID `json:"packageId"`
	PartnerID    uuid.UUID `json:"partnerId"`
	BenefitID    uuid.UUID `json:"benefitId"`
	UserID       uuid.UUID `json:"userId"`
	UnassignedBy string    `json:"unassignedBy"`
}

// MarketingContactSet: the package's go-to-market benefits are now run
// with this marketing contact, a user of the partner.
type MarketingContactSet struct {
	PackageID      uuid.UUID `json:"packageId"`
	PartnerID      uuid.UUID `json:"partnerId"`
	UserID         uuid.UUID `json:"userId"`
	AlternateEmail string    `json:"alternateEmail"`
	Phone          string    `json:"phone"`
	Language       string    `json:"language"`
	SetBy          string    `json:"setBy"`
}

// Activated: a benefit is in use from ActivatedAt; a go-to-market benefit
// until ExpiresAt.
type Activated struct {
	PackageID   uuid.UUID  `json:"packageId"`
	PartnerID   uuid.UUID  `json:"partnerId"`
	BenefitID   uuid.UUID  `json:"benefitId"`
	Kind        Kind       `json:"kind"`
	ActivatedBy string     `json:"activatedBy"`
	ActivatedAt time.Time  `json:"activatedAt"`
	ExpiresAt   *time.Time `json:"expiresAt"`
}

// PackageCancelled: the package ends; with Refund, its price is paid back.
type PackageCancelled struct {
	PackageID    uuid.UUID           `json:"packageId"`
	PartnerID    uuid.UUID           `json:"partnerId"`
	Refund       bool                `json:"refund"`
	RefundAmount *subscription.Price `json:"refundAmount"`
	Reason       string              `json:"reason,omitempty"`
	CancelledBy  string              `json:"cancelledBy"`
	CancelledAt  time.Time           `json:"cancelledAt"`
}

func (PackagePurchased) EventType() string    { return "benefit.package_purchased" }
func (ProductKeyRetrieved) EventType() string { return "benefit.product_key_retrieved" }
func (CompanyAssigned) EventType() string     { return "benefit.company_assigned" }
func (UserAssigned) EventType() string        { return "benefit.user_assigned" }
func (UserReassigned) EventType() string      { return "benefit.user_reassigned" }
func (UserUnassigned) EventType() string      { return "benefit.user_unassigned" }
func (MarketingContactSet) EventType() string { return "benefit.marketing_contact_set" }
func (Activated) EventType() string           { return "benefit.activated" }
func (PackageCancelled) EventType() string    { return "benefit.package_cancelled" }

func init() {
	event.Register[PackagePurchased](1)
	event.Register[ProductKeyRetrieved](1)
	event.Register[CompanyAssigned](1)
	event.Register[UserAssigned](1)
	event.RegisterPersonal(UserAssigned{}.EventType(), "userId", "alternateEmail")
	event.Register[UserReassigned](1)
	event.RegisterPersonal(UserReassigned{}.EventType(), "userId", "alternateEmail")
	event.Register[UserUnassigned](1)
	event.Register[MarketingContactSet](1)
	event.RegisterPersonal(MarketingContactSet{}.EventType(), "userId", "alternateEmail", "phone")
	event.Register[Activated](1)
	event.Register[PackageCancelled](1)
}

// Stream is the stream of one benefit package.
func Stream(id uuid.UUID) string { return "benefit-package-" + id.String() }
