package commands

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
)

// Using benefits: global admins assign them (partner.AssignBenefits);
// go-to-market benefits also partner network admins
// (partner.ManageGoToMarket).

// RetrieveProductKey gets the product key of a software or license-based
// cloud benefit, for a language and an operating system.
type RetrieveProductKey struct {
	PackageTarget
	Language, OS string
}

// ProductKey is the answer: the key, and what was appended.
type ProductKey struct {
	Key string
	PackageChanged
}

// RetrieveProductKeyHandler handles RetrieveProductKey; the key derives
// from the server's secret, so the events never hold it.
func RetrieveProductKeyHandler(d Deps) Handler[RetrieveProductKey, ProductKey] {
	return HandlerFunc[RetrieveProductKey, ProductKey](func(ctx context.Context, c RetrieveProductKey) (ProductKey, error) {
		changed, err := d.changePackage(ctx, c.PackageTarget, partner.AssignBenefits, func(p *benefit.Package, a acting) ([]event.Event, error) {
			return p.RetrieveKey(c.BenefitID, a.userID, c.Language, c.OS, a.actor, a.at)
		})
		if err != nil {
			return ProductKey{}, err
		}
		return ProductKey{Key: benefit.ProductKey(d.TokenKey, c.PackageID, c.BenefitID), PackageChanged: changed}, nil
	})
}

// AssignBenefitCompanyHandler activates a usage-based cloud benefit for
// the partner organization itself.
func AssignBenefitCompanyHandler(d Deps) Handler[PackageTarget, PackageChanged] {
	return HandlerFunc[PackageTarget, PackageChanged](func(ctx context.Context, c PackageTarget) (PackageChanged, error) {
		return d.changePackage(ctx, c, partner.AssignBenefits, func(p *benefit.Package, a acting) ([]event.Event, error) {
			return p.AssignCompany(c.BenefitID, a.actor, a.at)
		})
	})
}

// AssignBenefitUser gives a user of the partner a Visual Studio
// subscription or a technical benefit (with an alternate email); with
// FromUserID, the place that user holds is reassigned to UserID.
type AssignBenefitUser struct {
	PackageTarget
	FromUserID     *uuid.UUID
	UserID         uuid.UUID
	AlternateEmail string
}

// AssignBenefitUserHandler handles AssignBenefitUser.
func AssignBenefitUserHandler(d Deps) Handler[AssignBenefitUser, PackageChanged] {
	return HandlerFunc[AssignBenefitUser, PackageChanged](func(ctx context.Context, c AssignBenefitUser) (PackageChanged, error) {
		return d.changePackage(ctx, c.PackageTarget, partner.AssignBenefits, func(p *benefit.Package, a acting) ([]event.Event, error) {
			m, err := a.member(c.UserID, "userId")
			if err != nil {
				return nil, err
			}
			if c.FromUserID == nil {
				return p.AssignUser(c.BenefitID, m, c.AlternateEmail, a.actor, a.at, a.left)
			}
			e, err := p.ReassignUser(c.BenefitID, *c.FromUserID, m, c.AlternateEmail, a.actor, a.at, a.left)
			return []event.Event{e}, err
		})
	})
}

// UnassignBenefitUser frees the place a user holds on a benefit.
type UnassignBenefitUser struct {
	PackageTarget
	UserID uuid.UUID
}

// UnassignBenefitUserHandler handles UnassignBenefitUser.
func UnassignBenefitUserHandler(d Deps) Handler[UnassignBenefitUser, PackageChanged] {
	return HandlerFunc[UnassignBenefitUser, PackageChanged](func(ctx context.Context, c UnassignBenefitUser) (PackageChanged, error) {
		return d.changePackage(ctx, c.PackageTarget, partner.AssignBenefits, func(p *benefit.Package, a acting) ([]event.Event, error) {
			e, err := p.UnassignUser(c.BenefitID, c.UserID, a.actor)
			return []event.Event{e}, err
		})
	})
}

// SetMarketingContact names the marketing contact of a package's
// go-to-market benefits.
type SetMarketingContact struct {
	PackageTarget
	UserID                          uuid.UUID
	AlternateEmail, Phone, Language string
}

// SetMarketingContactHandler handles SetMarketingContact.
func SetMarketingContactHandler(d Deps) Handler[SetMarketingContact, PackageChanged] {
	return HandlerFunc[SetMarketingContact, PackageChanged](func(ctx context.Context, c SetMarketingContact) (PackageChanged, error) {
		return d.changePackage(ctx, c.PackageTarget, partner.ManageGoToMarket, func(p *benefit.Package, a acting) ([]event.Event, error) {
			m, err := a.member(c.UserID, "userId")
			if err != nil {
				return nil, err
			}
			return appended(p.SetMarketingContact(m, c.AlternateEmail, c.Phone, c.Language, a.actor))
		})
	})
}

// ActivateGoToMarketHandler activates a go-to-market benefit.
func ActivateGoToMarketHandler(d Deps) Handler[PackageTarget, PackageChanged] {
	return HandlerFunc[PackageTarget, PackageChanged](func(ctx context.Context, c PackageTarget) (PackageChanged, error) {
		return d.changePackage(ctx, c, partner.ManageGoToMarket, func(p *benefit.Package, a acting) ([]event.Event, error) {
			activated, err := p.ActivateGoToMarket(c.BenefitID, a.actor, a.at)
			if activated == nil || err != nil {
				return nil, err
			}
			if err := a.contactReachable(p); err != nil {
				return nil, err
			}
			return []event.Event{*activated}, nil
		})
	})
}

// contactReachable checks that the package's marketing contact is still
// a user of the partner whose data is kept: the contact was valid when
// set, but may have been removed or erased since, and an activation's
// instructions would then go to nobody the partner answers for (seed
// 003: the contact comes first).
func (a acting) contactReachable(p *benefit.Package) error {
	contact, _ := p.MarketingContact()
	_, err := a.member(contact.UserID, "marketing contact")
	var rule *domain.RuleError
	if !errors.As(err, &rule) {
		return err
	}
	return &domain.RuleError{Code: "marketing-contact-required", Detail: rule.Detail + "; set another marketing contact before activating"}
}

// appended is what a decision that may append nothing (nil) appends.
func appended[E event.Event](e *E, err error) ([]event.Event, error) {
	if e == nil {
		return nil, err
	}
	return []event.Event{*e}, nil
}
