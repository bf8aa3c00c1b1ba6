package benefit

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/subscription"
)

// Kind is the kind of a benefit.
type Kind string

const (
	Software     Kind = "software"
	Cloud        Kind = "cloud"
	VisualStudio Kind = "visual_studio"
	Technical    Kind = "technical"
	GoToMarket   Kind = "go_to_market"
)

// Kinds lists every kind, in the order the benefits page shows them.
var Kinds = []Kind{Software, Cloud, VisualStudio, Technical, GoToMarket}

// CloudModel is how a cloud benefit is activated.
type CloudModel string

const (
	// Usage-based cloud subscriptions are activated by assigning the company.
	Usage CloudModel = "usage"
	// License-based ones by getting a product key.
	License CloudModel = "license"
)

// Limits of a package.
const (
	MaxBenefits = 50
	MaxQuantity = 10_000
	// DefaultTermDays is how long a go-to-market benefit runs when the
	// package names no term.
	DefaultTermDays = 365
	MaxTermDays     = 3 * 365
	// RefundWindow is how long after its purchase a package may be
	// cancelled with a refund.
	RefundWindow = 30 * 24 * time.Hour
)

// Spec is a benefit as an order names it.
type Spec struct {
	Kind       string
	Name       string
	ProductID  string
	Quantity   int
	CloudModel string
	TermDays   int
}

// Order is what buying a package takes.
type Order struct {
	Name     string
	Price    subscription.Price
	Benefits []Spec
}

var productID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Purchase validates a package bought at now; benefitID gives the id of
// the i-th benefit.
func Purchase(id, partnerID uuid.UUID, o Order, buyer *uuid.UUID, by string, now time.Time, benefitID func(i int) uuid.UUID) (PackagePurchased, error) {
	var verr domain.ValidationError
	name, why := domain.CheckName(o.Name, 200)
	if why != "" {
		verr.Add("name", why)
	}
	price := o.Price.Check(&verr)
	if len(o.Benefits) == 0 || len(o.Benefits) > MaxBenefits {
		verr.Add("benefits", fmt.Sprintf("from 1 to %d benefits", MaxBenefits))
	}
	benefits := make([]Benefit, 0, len(o.Benefits))
	for i, s := range o.Benefits {
		if i >= MaxBenefits {
			break
		}
		benefits = append(benefits, checkSpec(s, fmt.Sprintf("benefits[%d].", i), &verr, benefitID(i)))
	}
	if err := verr.Err(); err != nil {
		return PackagePurchased{}, err
	}
	return PackagePurchased{PackageID: id, PartnerID: partnerID, Name: name, Price: price, Benefits: benefits,
		BuyerUserID: buyer, PurchasedBy: by, PurchasedAt: now}, nil
}

func checkSpec(s Spec, at string, verr *domain.ValidationError, id uuid.UUID) Benefit {
	b := Benefit{BenefitID: id, Kind: Kind(s.Kind), Quantity: s.Quantity}
	if !slices.Contains(Kinds, b.Kind) {
		verr.Add(at+"kind", "one of software, cloud, visual_studio, technical, go_to_market")
	}
	var why string
	if b.Name, why = domain.CheckName(s.Name, 200); why != "" {
		verr.Add(at+"name", why)
	}
	if s.Quantity < 1 || s.Quantity > MaxQuantity {
		verr.Add(at+"quantity", fmt.Sprintf("from 1 to %d", MaxQuantity))
	}
	if s.ProductID != "" {
		if !productID.MatchString(s.ProductID) {
			verr.Add(at+"productId", "1 to 64 lower-case letters, digits, dots, dashes or underscores")
		}
		b.ProductID = s.ProductID
	}
	switch {
	case b.Kind == Cloud && s.CloudModel != string(Usage) && s.CloudModel != string(License):
		verr.Add(at+"cloudModel", "usage or license")
	case b.Kind != Cloud && s.CloudModel != "":
		verr.Add(at+"cloudModel", "only cloud benefits have one")
	}
	b.CloudModel = CloudModel(s.CloudModel)
	switch {
	case b.Kind != GoToMarket && s.TermDays != 0:
		verr.Add(at+"termDays", "only go-to-market benefits have one")
	case b.Kind == GoToMarket && s.TermDays == 0:
		b.TermDays = DefaultTermDays
	case b.Kind == GoToMarket && (s.TermDays < 1 || s.TermDays > MaxTermDays):
		verr.Add(at+"termDays", fmt.Sprintf("from 1 to %d days", MaxTermDays))
	default:
		b.TermDays = s.TermDays
	}
	return b
}

// state is one benefit as its events left it.
type state struct {
	Benefit
	activated bool
	expiresAt *time.Time
	company   bool
	assignees []uuid.UUID
}

// Contact is the marketing contact of a package's go-to-market benefits.
type Contact struct {
	UserID                          uuid.UUID
	AlternateEmail, Phone, Language string
}

// Package is the write model of one benefit package.
type Package struct {
	id, partnerID uuid.UUID
	price         subscription.Price
	purchasedAt   time.Time
	benefits      []*state
	contact       *Contact
	cancelled     bool
}

// Apply folds one event into the state.
func (p *Package) Apply(e event.Event) {
	switch e := e.(type) {
	case PackagePurchased:
		p.id, p.partnerID, p.price, p.purchasedAt = e.PackageID, e.PartnerID, e.Price, e.PurchasedAt
		for _, b := range e.Benefits {
			p.benefits = append(p.benefits, &state{Benefit: b})
		}
	case CompanyAssigned:
		p.with(e.BenefitID, func(s *state) { s.company = true })
	case UserAssigned:
		p.with(e.BenefitID, func(s *state) { s.assignees = append(s.assignees, e.UserID) })
	case UserReassigned:
		p.with(e.BenefitID, func(s *state) {
			if i := slices.Index(s.assignees, e.FromUserID); i >= 0 {
				s.assignees[i] = e.UserID
			}
		})
	case UserUnassigned:
		p.with(e.BenefitID, func(s *state) {
			s.assignees = slices.DeleteFunc(s.assignees, func(u uuid.UUID) bool { return u == e.UserID })
		})
	case MarketingContactSet:
		p.contact = &Contact{UserID: e.UserID, AlternateEmail: e.AlternateEmail, Phone: e.Phone, Language: e.Language}
	case Activated:
		p.with(e.BenefitID, func(s *state) { s.activated, s.expiresAt = true, e.ExpiresAt })
	case PackageCancelled:
		p.cancelled = true
	}
}

func (p *Package) with(id uuid.UUID, f func(*state)) {
	if s := p.benefit(id); s != nil {
		f(s)
	}
}

func (p *Package) benefit(id uuid.UUID) *state {
	for _, s := range p.benefits {
		if s.BenefitID == id {
			return s
		}
	}
	return nil
}

// Exists reports whether the package was bought.
func (p *Package) Exists() bool { return p.id != uuid.Nil }

// PartnerID is the partner organization that bought it.
func (p *Package) PartnerID() uuid.UUID { return p.partnerID }

// Benefit is a benefit of the package as bought (ok false: none with
// that id).
func (p *Package) Benefit(id uuid.UUID) (Benefit, bool) {
	if s := p.benefit(id); s != nil {
		return s.Benefit, true
	}
	return Benefit{}, false
}
