package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/eventstore"
)

// AssignSubscriptionLicenses gives up to licensing.MaxSelfServiceUsers
// users a license of one subscription (the self-service flow), with the
// service plans chosen (nil: all): every one of them, or, when the rules
// refuse any, none (a *licensing.RequestRefused listing why).
type AssignSubscriptionLicenses struct {
	By             Actor
	AccountID      uuid.UUID
	SubscriptionID uuid.UUID
	UserIDs        []uuid.UUID
	ServicePlans   []string
}

// UnassignSubscriptionLicenses takes the licenses of up to
// licensing.MaxSelfServiceUsers users back to one subscription, all or
// none; users holding none of it are answered not_held.
type UnassignSubscriptionLicenses struct {
	By             Actor
	AccountID      uuid.UUID
	SubscriptionID uuid.UUID
	UserIDs        []uuid.UUID
}

// AssignSubscriptionLicensesHandler handles AssignSubscriptionLicenses.
func AssignSubscriptionLicensesHandler(d Deps, l Licensing) Handler[AssignSubscriptionLicenses, LicenseResults] {
	return HandlerFunc[AssignSubscriptionLicenses, LicenseResults](func(ctx context.Context, c AssignSubscriptionLicenses) (LicenseResults, error) {
		sc, s, at, err := d.subscriptionScope(ctx, c.AccountID, c.SubscriptionID, c.By)
		if err != nil {
			return LicenseResults{}, err
		}
		choice := []licensing.Choice{{ProductID: s.ProductID(), ServicePlans: c.ServicePlans}}
		res, err := d.assign(ctx, l, d.selfService(sc, c.UserIDs, c.By, c.SubscriptionID, at), choice)
		return res, unprefixed(err)
	})
}

// UnassignSubscriptionLicensesHandler handles UnassignSubscriptionLicenses.
func UnassignSubscriptionLicensesHandler(d Deps, l Licensing) Handler[UnassignSubscriptionLicenses, LicenseResults] {
	return HandlerFunc[UnassignSubscriptionLicenses, LicenseResults](func(ctx context.Context, c UnassignSubscriptionLicenses) (LicenseResults, error) {
		sc, s, at, err := d.subscriptionScope(ctx, c.AccountID, c.SubscriptionID, c.By)
		if err != nil {
			return LicenseResults{}, err
		}
		return d.revoke(ctx, l, d.selfService(sc, c.UserIDs, c.By, c.SubscriptionID, at), []string{s.ProductID()})
	})
}

// selfService is a self-service request of an actor on one subscription.
func (d Deps) selfService(sc scope, userIDs []uuid.UUID, a Actor, subscriptionID uuid.UUID, at eventstore.Position) licenseRequest {
	return licenseRequest{scope: sc, actor: a, userIDs: userIDs, limit: licensing.MaxSelfServiceUsers, by: origin{actor: a.name(), at: d.now()},
		only: &subscriptionID, onlyAt: at}
}

// subscriptionScope loads a subscription of the account, with the position
// of its last event, and checks that the actor may assign its licenses: as
// the customer (see licenseScope), or as a user of the partner answering
// for it.
func (d Deps) subscriptionScope(ctx context.Context, accountID, id uuid.UUID, a Actor) (scope, *subscription.Subscription, eventstore.Position, error) {
	var s subscription.Subscription
	l, err := load(ctx, d, subscription.Stream(id), &s)
	if err != nil {
		return scope{}, nil, eventstore.Position{}, err
	}
	if !s.Exists() || s.AccountID() != accountID {
		return scope{}, nil, eventstore.Position{}, fmt.Errorf("subscription %s: %w", id, domain.ErrNotFound)
	}
	sc, customerErr := d.licenseScope(ctx, accountID, a, nil)
	if customerErr == nil || s.OrderingPartner() == nil {
		return sc, &s, l.answered(), customerErr
	}
	channel, err := d.answeringPartner(ctx, &s)
	if err != nil {
		return scope{}, nil, eventstore.Position{}, err
	}
	if sc, err = d.licenseScope(ctx, accountID, a, &channel); err != nil {
		return scope{}, nil, eventstore.Position{}, partnerRefusal(err, customerErr)
	}
	return sc, &s, l.answered(), nil
}
