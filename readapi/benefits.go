package readapi

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// BenefitPackage is a partner-network benefit package a partner bought.
// Status is active or cancelled; a refund may be asked for until
// RefundableUntil while no software benefit was activated.
type BenefitPackage struct {
	PackageID        string            `json:"packageId"`
	PartnerID        string            `json:"partnerId"`
	Name             string            `json:"name"`
	Price            Price             `json:"price"`
	PurchasedAt      time.Time         `json:"purchasedAt"`
	PurchasedBy      string            `json:"purchasedBy"`
	RefundableUntil  time.Time         `json:"refundableUntil"`
	Status           string            `json:"status"`
	Cancellation     *PackageCancel    `json:"cancellation"`
	MarketingContact *MarketingContact `json:"marketingContact"`
	Benefits         []Benefit         `json:"benefits,omitempty"`
}

// PackageCancel is when and how a package was cancelled.
type PackageCancel struct {
	At           time.Time `json:"at"`
	Refunded     bool      `json:"refunded"`
	RefundAmount *Price    `json:"refundAmount"`
	Reason       string    `json:"reason"`
}

// MarketingContact runs a package's go-to-market benefits: a user of the
// partner (name and sign-in email as they are now), with the alternate
// email, phone and language given for the role.
type MarketingContact struct {
	UserID         string  `json:"userId"`
	Name           *string `json:"name"`
	Email          *string `json:"email"`
	AlternateEmail string  `json:"alternateEmail"`
	Phone          string  `json:"phone"`
	Language       string  `json:"language"`
}

// Benefit is one benefit of a package. Status is inactive, active,
// expired (a go-to-market benefit past ExpiresAt, decided at the time of
// the request) or cancelled (its package was). Remaining is the quantity
// not assigned: users for Visual Studio subscriptions and technical
// benefits; for the other kinds using them takes nothing from the quantity.
type Benefit struct {
	BenefitID       string         `json:"benefitId"`
	PackageID       string         `json:"packageId"`
	PackageName     string         `json:"packageName"`
	Kind            string         `json:"kind"`
	Name            string         `json:"name"`
	ProductID       *string        `json:"productId"`
	CloudModel      *string        `json:"cloudModel"`
	Quantity        int            `json:"quantity"`
	Remaining       int            `json:"remaining"`
	Status          string         `json:"status"`
	ActivatedAt     *time.Time     `json:"activatedAt"`
	ExpiresAt       *time.Time     `json:"expiresAt"`
	CompanyAssigned bool           `json:"companyAssigned"`
	Assignees       []Assignee     `json:"assignees"`
	KeyRetrievals   []KeyRetrieval `json:"keyRetrievals"`
	kindRank        string
	purchasedAt     time.Time
}

// Assignee is a user of the partner holding a benefit.
type Assignee struct {
	UserID         string    `json:"userId"`
	Name           *string   `json:"name"`
	Email          *string   `json:"email"`
	AlternateEmail *string   `json:"alternateEmail"`
	AssignedAt     time.Time `json:"assignedAt"`
}

// KeyRetrieval is who got a benefit's product key, when, for what.
type KeyRetrieval struct {
	UserID      *string   `json:"userId"`
	By          string    `json:"by"`
	Name        *string   `json:"name"`
	Language    *string   `json:"language"`
	OS          *string   `json:"os"`
	RetrievedAt time.Time `json:"retrievedAt"`
}

// BenefitPage is GET /v1/partners/{partnerId}/benefits: the benefits of
// every package, by kind (software, cloud, visual_studio, technical,
// go_to_market), then by purchase. Counts are per kind, of all of them.
type BenefitPage struct {
	Items      []Benefit      `json:"items"`
	NextCursor *string        `json:"nextCursor"`
	Counts     map[string]int `json:"counts"`
}

// BenefitPackagePage is GET /v1/partners/{partnerId}/benefit-packages,
// newest first.
type BenefitPackagePage struct {
	Items      []BenefitPackage `json:"items"`
	NextCursor *string          `json:"nextCursor"`
}

var (
	benefitKinds    = map[string]string{"all": "", "software": "software", "cloud": "cloud", "visual_studio": "visual_studio", "technical": "technical", "go_to_market": "go_to_market"}
	benefitStatuses = map[string]string{"all": "", "inactive": "inactive", "active": "active", "expired": "expired", "cancelled": "cancelled"}
	benefitOrder    = keyOrder[Benefit]{name: "kind", cols: []keyOf[Benefit]{
		{"b.kind_rank", "numeric", func(r Benefit) string { return r.kindRank }},
		{"b.purchased_at", "timestamptz", func(r Benefit) string { return r.purchasedAt.Format(time.RFC3339Nano) }},
		{"b.benefit_id", "uuid", func(r Benefit) string { return r.BenefitID }},
	}}
	packageOrder = keyOrder[BenefitPackage]{name: "-purchasedAt", desc: true, cols: []keyOf[BenefitPackage]{
		{"p.purchased_at", "timestamptz", func(r BenefitPackage) string { return r.PurchasedAt.Format(time.RFC3339Nano) }},
		{"p.package_id", "uuid", func(r BenefitPackage) string { return r.PackageID }},
	}}
)

type benefitsRequest struct {
	partnerRequest
	packageID    *uuid.UUID
	kind, status string
	order        keyOrder[Benefit]
	after        []any
	limit        int
}

type packagesRequest struct {
	partnerRequest
	packageID *uuid.UUID
	order     keyOrder[BenefitPackage]
	after     []any
	limit     int
}

func (d Deps) benefitRoutes() []kit.Route {
	pageQuery := map[string]string{"limit": "page size, 1 to 500 (default 50)", "cursor": cursorQuery}
	return []kit.Route{partnerGet(kit.Route{
		Path:     "/v1/partners/{partnerId}/benefits",
		Summary:  "The partner's membership benefits by kind, with status, expiry, assignees, key retrievals and remaining quantity",
		Response: BenefitPage{Items: []Benefit{exampleBenefit}, Counts: map[string]int{"visual_studio": 1}},
		Query: map[string]string{"kind": "all (default), software, cloud, visual_studio, technical or go_to_market",
			"status": "all (default), inactive, active, expired or cancelled (decided at the time of the request)",
			"limit":  pageQuery["limit"], "cursor": pageQuery["cursor"]},
		Handler: endpoint(d, reads{partnersProjector, billingProjector}, func(in *input, p kit.Principal) benefitsRequest {
			q := benefitsRequest{partnerRequest: parsePartner(in, p), limit: in.intIn("limit", defaultLimit, 1, maxLimit)}
			q.order, q.after = pageBy(in, benefitOrder)
			_, q.kind = oneOf(in, "kind", "all", benefitKinds)
			_, q.status = oneOf(in, "status", "all", benefitStatuses)
			return q
		}, func(ctx context.Context, q benefitsRequest) (BenefitPage, error) {
			return listBenefits(ctx, d.Pool, q, d.Clock.Now())
		}),
	}), partnerGet(kit.Route{
		Path:     "/v1/partners/{partnerId}/benefit-packages",
		Summary:  "The benefit packages the partner bought, newest first, with refund window, cancellation and marketing contact",
		Response: BenefitPackagePage{Items: []BenefitPackage{examplePackage}},
		Query:    pageQuery,
		Handler: endpoint(d, reads{partnersProjector, billingProjector}, func(in *input, p kit.Principal) packagesRequest {
			q := packagesRequest{partnerRequest: parsePartner(in, p), limit: in.intIn("limit", defaultLimit, 1, maxLimit)}
			q.order, q.after = pageBy(in, packageOrder)
			return q
		}, func(ctx context.Context, q packagesRequest) (BenefitPackagePage, error) {
			return listPackages(ctx, d.Pool, q)
		}),
	}), partnerGet(kit.Route{
		Path:     "/v1/partners/{partnerId}/benefit-packages/{packageId}",
		Summary:  "One benefit package with its benefits",
		Response: examplePackage,
		Handler: endpoint(d, reads{partnersProjector, billingProjector}, func(in *input, p kit.Principal) packagesRequest {
			id := in.pathUUID("packageId")
			return packagesRequest{partnerRequest: parsePartner(in, p), packageID: &id, limit: 1}
		}, func(ctx context.Context, q packagesRequest) (BenefitPackage, error) {
			return packageByID(ctx, d.Pool, q, d.Clock.Now())
		}),
	})}
}

var (
	exampleBenefit = Benefit{BenefitID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7fd1", PackageID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7fd0",
		PackageName: "Action Pack 2026", Kind: "visual_studio", Name: "Visual Studio Enterprise", Quantity: 3, Remaining: 2, Status: "active",
		ActivatedAt: new(time.Date(2026, 1, 6, 10, 0, 0, 0, time.UTC)),
		Assignees: []Assignee{{UserID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f91", Name: new("Sam Seller"), Email: new("sam@litware.example"),
			AssignedAt: time.Date(2026, 1, 6, 10, 0, 0, 0, time.UTC)}}, KeyRetrievals: []KeyRetrieval{}}
	examplePackage = BenefitPackage{PackageID: exampleBenefit.PackageID, PartnerID: examplePartnerRef.PartnerID, Name: "Action Pack 2026",
		Price: Price{Amount: "475.00", Currency: "USD"}, PurchasedAt: time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC), PurchasedBy: "oidc:partners:8c4e1f0b",
		RefundableUntil: time.Date(2026, 2, 4, 9, 30, 0, 0, time.UTC), Status: "active", Benefits: []Benefit{exampleBenefit}}
)
