package commands

import (
	"context"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/eventstore"
)

// PurchaseBenefitPackage buys a benefit package for a partner
// organization: any of its users may (no special role), and operators.
type PurchaseBenefitPackage struct {
	By        Actor
	PartnerID uuid.UUID
	Order     benefit.Order
}

// BenefitPackagePurchased is the answer.
type BenefitPackagePurchased struct {
	Purchased benefit.PackagePurchased
	Position  eventstore.Position
}

// PurchaseBenefitPackageHandler handles PurchaseBenefitPackage. The buyer
// shares the partner's turn (PartnerSerial): a package is never recorded
// as bought by a user after their removal. Run again with its idempotency
// key, it answers as an earlier run that bought did, before it checks the
// buyer.
func PurchaseBenefitPackageHandler(d Deps) Handler[PurchaseBenefitPackage, BenefitPackagePurchased] {
	return HandlerFunc[PurchaseBenefitPackage, BenefitPackagePurchased](func(ctx context.Context, c PurchaseBenefitPackage) (BenefitPackagePurchased, error) {
		id := d.newID(ctx, "benefit-package")
		l, err := d.earlierRun(ctx, benefit.Stream(id))
		if err != nil {
			return BenefitPackagePurchased{}, err
		}
		if bought, ok := mine[benefit.PackagePurchased](l); ok {
			return BenefitPackagePurchased{Purchased: bought, Position: l.answered()}, nil
		}
		return asPartnerUser(ctx, d, c.PartnerID, c.By, func(ctx context.Context) (BenefitPackagePurchased, error) {
			return d.purchasePackage(ctx, c, id)
		})
	})
}

func (d Deps) purchasePackage(ctx context.Context, c PurchaseBenefitPackage, id uuid.UUID) (BenefitPackagePurchased, error) {
	by := origin{actor: c.By.name(), at: d.now()}
	p, _, err := d.partnerActing(ctx, c.PartnerID, c.By, partner.View)
	if err != nil {
		return BenefitPackagePurchased{}, err
	}
	var buyer *uuid.UUID
	if m, ok := p.MemberByEmail(c.By.Email); ok && !c.By.Operator {
		buyer = &m.ID
	}
	bought, err := benefit.Purchase(id, c.PartnerID, c.Order, buyer, by.actor, by.at, func(i int) uuid.UUID {
		return d.newID(ctx, "benefit-"+strconv.Itoa(i))
	})
	if err != nil {
		return BenefitPackagePurchased{}, err
	}
	res, err := save(ctx, d, benefit.Stream(id), noStream, by, bought)
	if err != nil {
		return BenefitPackagePurchased{}, err
	}
	return BenefitPackagePurchased{Purchased: bought, Position: res.Position}, nil
}

// PackageTarget names a benefit package of a partner, and a benefit of
// it for the commands that use one.
type PackageTarget struct {
	By                   Actor
	PartnerID, PackageID uuid.UUID
	BenefitID            uuid.UUID
}

// PackageChanged answers the commands on a package: what they appended
// (nothing when it was so already) and the position to read after.
type PackageChanged struct {
	Events   []event.Event
	Position eventstore.Position
}

// acting is who sends a command on a package: the partner as loaded, and
// the actor's user of it (nil for an operator).
type acting struct {
	partner *partner.Partner
	userID  *uuid.UUID
	origin
}

// changePackage loads a package of the partner, checks that the actor is a
// user of the partner whose roles allow the action, and appends what
// decide returns, while the partner's users cannot change: it shares the
// partner's turn (PartnerSerial), an operator's too, for the users a
// benefit goes to are the partner's. Run again with its idempotency key,
// it answers as an earlier run that appended did, before it checks the
// actor (see WithIdempotencyKey).
func (d Deps) changePackage(ctx context.Context, t PackageTarget, action partner.Action, decide func(*benefit.Package, acting) ([]event.Event, error)) (PackageChanged, error) {
	by := origin{actor: t.By.name(), at: d.now()}
	return serialized(ctx, d.PackageTurns, t.PackageID, func(ctx context.Context) (PackageChanged, error) {
		return d.changePackageShared(ctx, t, action, by, decide)
	})
}

// changePackageShared is changePackage in the package's turn, sharing the
// partner's.
func (d Deps) changePackageShared(ctx context.Context, t PackageTarget, action partner.Action, by origin, decide func(*benefit.Package, acting) ([]event.Event, error)) (PackageChanged, error) {
	return shared(ctx, d.PartnerSerial, t.PartnerID, func(ctx context.Context) (PackageChanged, error) {
		return retried(ctx, func() (PackageChanged, error) {
			var pkg benefit.Package
			l, err := load(ctx, d, benefit.Stream(t.PackageID), &pkg)
			if err != nil {
				return PackageChanged{}, err
			}
			if l.mine != nil && pkg.PartnerID() == t.PartnerID {
				return PackageChanged{Events: l.mine.events, Position: l.answered()}, nil
			}
			pa, _, err := d.partnerActing(ctx, t.PartnerID, t.By, action)
			if err != nil {
				return PackageChanged{}, err
			}
			if !pkg.Exists() || pkg.PartnerID() != t.PartnerID {
				return PackageChanged{}, fmt.Errorf("benefit package %s: %w", t.PackageID, domain.ErrNotFound)
			}
			who := acting{partner: pa, origin: by}
			if m, ok := pa.MemberByEmail(t.By.Email); ok && !t.By.Operator {
				who.userID = &m.ID
			}
			events, err := decide(&pkg, who)
			if err != nil || len(events) == 0 {
				return PackageChanged{Position: l.answered()}, err
			}
			res, err := save(ctx, d, benefit.Stream(t.PackageID), l, by, events...)
			return PackageChanged{Events: events, Position: res.Position}, err
		})
	})
}

// member is a user of the partner that a benefit goes to.
func (a acting) member(id uuid.UUID, field string) (partner.Member, error) {
	m, ok := a.partner.Member(id)
	switch {
	case !ok:
		return partner.Member{}, &domain.RuleError{Code: "not-a-partner-user",
			Detail: fmt.Sprintf("%s %s is not a user of this partner organization", field, id)}
	case a.partner.Erased(id):
		return partner.Member{}, &domain.RuleError{Code: "user-erased",
			Detail: fmt.Sprintf("%s %s: the user's personal data was erased; nothing can be sent to them", field, id)}
	}
	return m, nil
}

// left reports whether a user the partner had is no longer one of its
// users (removed).
func (a acting) left(id uuid.UUID) bool {
	_, ok := a.partner.Member(id)
	return !ok
}

// CancelBenefitPackage cancels a package, with a refund if asked and the
// rules allow (global admins).
type CancelBenefitPackage struct {
	PackageTarget
	Refund bool
	Reason string
}

// CancelBenefitPackageHandler handles CancelBenefitPackage.
func CancelBenefitPackageHandler(d Deps) Handler[CancelBenefitPackage, PackageChanged] {
	return HandlerFunc[CancelBenefitPackage, PackageChanged](func(ctx context.Context, c CancelBenefitPackage) (PackageChanged, error) {
		return d.changePackage(ctx, c.PackageTarget, partner.AssignBenefits, func(p *benefit.Package, a acting) ([]event.Event, error) {
			e, err := p.Cancel(c.Refund, c.Reason, a.actor, a.at)
			return []event.Event{e}, err
		})
	})
}
