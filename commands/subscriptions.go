package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// PurchaseSubscription buys a subscription for an account: self-service by
// the customer's Account Administrators and Account Managers, or, with
// Order.OrderingPartnerID, ordered by a user of a partner serving the
// account whose partner roles allow ordering.
type PurchaseSubscription struct {
	By        Actor
	AccountID uuid.UUID
	Order     subscription.Order // BuyerUserID is decided here
}

// SubscriptionPurchased is the answer.
type SubscriptionPurchased struct {
	SubscriptionID uuid.UUID
	Position       eventstore.Position
}

// PurchaseSubscriptionHandler handles PurchaseSubscription. It runs in
// the account's turn (AccountSerial), which a change of channel partner
// and the buyer's new roles wait for, and a partner's order shares the
// partner's turn too (PartnerSerial), which the buyer's removal from the
// partner waits for: the buyer's rights are read under both. Run again
// with its idempotency key, it answers as an earlier run that bought did,
// before it checks them.
func PurchaseSubscriptionHandler(d Deps) Handler[PurchaseSubscription, SubscriptionPurchased] {
	return HandlerFunc[PurchaseSubscription, SubscriptionPurchased](func(ctx context.Context, c PurchaseSubscription) (SubscriptionPurchased, error) {
		id := d.newID(ctx, "subscription")
		pos, done, err := d.earlierAnswer(ctx, subscription.Stream(id))
		if err != nil {
			return SubscriptionPurchased{}, err
		}
		if done {
			return SubscriptionPurchased{SubscriptionID: id, Position: pos}, nil
		}
		return serialized(ctx, d.AccountSerial, c.AccountID, func(ctx context.Context) (SubscriptionPurchased, error) {
			if c.Order.OrderingPartnerID == nil {
				return d.purchase(ctx, c, id)
			}
			return asPartnerUser(ctx, d, *c.Order.OrderingPartnerID, c.By, func(ctx context.Context) (SubscriptionPurchased, error) {
				return d.purchase(ctx, c, id)
			})
		})
	})
}

// purchase decides and records a PurchaseSubscription.
func (d Deps) purchase(ctx context.Context, c PurchaseSubscription, id uuid.UUID) (SubscriptionPurchased, error) {
	by := origin{actor: c.By.name(), at: d.now()}
	// Who may not buy here learns nothing from the body: rights first.
	a, _, err := d.loadAccount(ctx, c.AccountID)
	if err != nil {
		return SubscriptionPurchased{}, err
	}
	buyer, err := d.buyer(ctx, c, a.Serves)
	if err != nil {
		return SubscriptionPurchased{}, err
	}
	c.Order.BuyerUserID = buyer
	purchased, err := subscription.Purchase(id, c.AccountID, c.Order, by.actor, by.at)
	if err != nil {
		return SubscriptionPurchased{}, err
	}
	res, err := save(ctx, d, subscription.Stream(id), noStream, by, purchased)
	if err != nil {
		return SubscriptionPurchased{}, err
	}
	return SubscriptionPurchased{SubscriptionID: id, Position: res.Position}, nil
}

// buyer checks that the actor may place the order and returns the user
// who buys (nil for an operator).
func (d Deps) buyer(ctx context.Context, c PurchaseSubscription, serves func(uuid.UUID) bool) (*uuid.UUID, error) {
	if p := c.Order.OrderingPartnerID; p != nil {
		if !serves(*p) {
			return nil, d.noOrderingPartner(ctx, c, "it does not serve the account")
		}
		pa, _, err := d.partnerActing(ctx, *p, c.By, partner.Order)
		if errors.Is(err, domain.ErrNotFound) {
			return nil, d.noOrderingPartner(ctx, c, "you are not one of its users")
		}
		if err != nil || c.By.Operator {
			return nil, err
		}
		m, _ := pa.MemberByEmail(c.By.Email)
		return &m.ID, nil
	}
	if c.By.Operator {
		return nil, nil
	}
	u, err := d.customerSeller(ctx, c.AccountID, c.By)
	if err != nil {
		return nil, err
	}
	id := u.ID()
	return &id, nil
}

// noOrderingPartner is the 404 of an order naming a partner the actor may
// not order for (why). Who sees the account (an operator, or an active
// user of it, who also reads the partners serving it) is told what is
// wrong with the partner named; anyone else gets the account's 404, which
// tells nothing of it.
func (d Deps) noOrderingPartner(ctx context.Context, c PurchaseSubscription, why string) error {
	sees := c.By.Operator
	if !sees && c.By.Email != "" {
		u, err := d.actorUser(ctx, c.AccountID, c.By.Email)
		if err != nil {
			return err
		}
		sees = u != nil && u.Status(d.now()) == user.Active
	}
	if !sees {
		return accountNotFound(c.AccountID)
	}
	return fmt.Errorf("orderingPartnerId: partner %s: %s: %w", *c.Order.OrderingPartnerID, why, domain.ErrNotFound)
}

// customerSeller is the actor's active user in the account, who must be an
// Account Administrator or Account Manager (self-service provisioning).
func (d Deps) customerSeller(ctx context.Context, accountID uuid.UUID, a Actor) (*user.User, error) {
	u, err := d.actorUser(ctx, accountID, a.Email)
	if err != nil {
		return nil, err
	}
	if a.Email == "" || u == nil || u.Status(d.now()) != user.Active {
		return nil, fmt.Errorf("account %s: %w", accountID, domain.ErrNotFound)
	}
	if !slices.ContainsFunc(u.Roles(), func(r user.Role) bool { return r == user.AccountAdministrator || r == user.AccountManager }) {
		return nil, fmt.Errorf("subscriptions are bought and changed by Account Administrators and Account Managers: %w", domain.ErrForbidden)
	}
	return u, nil
}

// SetLicenseTotal sets a subscription's total of licenses.
type SetLicenseTotal struct {
	By             Actor
	AccountID      uuid.UUID
	SubscriptionID uuid.UUID
	Total          int
}

// SetLicenseTotalHandler handles SetLicenseTotal; it answers the position
// of the change (or of the subscription's last event when the total was
// already that).
func SetLicenseTotalHandler(d Deps) Handler[SetLicenseTotal, eventstore.Position] {
	return HandlerFunc[SetLicenseTotal, eventstore.Position](func(ctx context.Context, c SetLicenseTotal) (eventstore.Position, error) {
		return d.changeSubscription(ctx, c.By, c.AccountID, c.SubscriptionID, func(s *subscription.Subscription, o origin) (event.Event, error) {
			changed, err := s.SetTotal(c.Total, o.actor, o.at)
			if changed == nil {
				return nil, err
			}
			return *changed, nil
		})
	})
}

// changeSubscription loads a subscription of the account, checks that the
// actor may change it (the customer's Account Administrators and Account
// Managers, or a user of the partner answering for it who may order), and
// appends what decide returns. It runs under the account's lock
// (AccountSerial): which partner answers for the subscription is the
// account's channel, which a change of channel partner moves, and the
// customer's roles change under it too. A partner's user is checked again
// sharing the partner's turn (PartnerSerial), to the append.
func (d Deps) changeSubscription(ctx context.Context, a Actor, accountID, id uuid.UUID, decide func(*subscription.Subscription, origin) (event.Event, error)) (eventstore.Position, error) {
	return serialized(ctx, d.AccountSerial, accountID, func(ctx context.Context) (eventstore.Position, error) {
		return d.changeSubscriptionNow(ctx, a, accountID, id, decide)
	})
}

func (d Deps) changeSubscriptionNow(ctx context.Context, a Actor, accountID, id uuid.UUID, decide func(*subscription.Subscription, origin) (event.Event, error)) (eventstore.Position, error) {
	by := origin{actor: a.name(), at: d.now()}
	return retried(ctx, func() (eventstore.Position, error) {
		var s subscription.Subscription
		l, err := load(ctx, d, subscription.Stream(id), &s)
		if err != nil {
			return eventstore.Position{}, err
		}
		if !s.Exists() || s.AccountID() != accountID {
			return eventstore.Position{}, fmt.Errorf("subscription %s: %w", id, domain.ErrNotFound)
		}
		if l.mine != nil {
			// An earlier run with the same idempotency key: answered
			// before the actor's rights, which guard the change, not
			// the answer (see WithIdempotencyKey).
			return l.answered(), nil
		}
		record := func(ctx context.Context) (eventstore.Position, error) {
			e, err := decide(&s, by)
			if err != nil || e == nil {
				return l.answered(), err
			}
			res, err := save(ctx, d, subscription.Stream(id), l, by, e)
			return res.Position, err
		}
		partnerID, err := d.maySell(ctx, &s, a)
		switch {
		case err != nil:
			return eventstore.Position{}, err
		case partnerID == nil:
			return record(ctx)
		}
		return shared(ctx, d.PartnerSerial, *partnerID, func(ctx context.Context) (eventstore.Position, error) {
			if _, err := d.maySell(ctx, &s, a); err != nil {
				return eventstore.Position{}, err
			}
			return record(ctx)
		})
	})
}

// maySell checks the actor may change a subscription, and returns the
// partner whose user the actor acts as (nil: an operator, or the
// customer).
func (d Deps) maySell(ctx context.Context, s *subscription.Subscription, a Actor) (*uuid.UUID, error) {
	if a.Operator {
		return nil, nil
	}
	_, customerErr := d.customerSeller(ctx, s.AccountID(), a)
	if customerErr == nil || s.OrderingPartner() == nil {
		return nil, customerErr
	}
	channel, err := d.answeringPartner(ctx, s)
	if err != nil {
		return nil, err
	}
	if _, _, err = d.partnerActing(ctx, channel, a, partner.Order); err != nil {
		return nil, partnerRefusal(err, customerErr)
	}
	return &channel, nil
}

// answeringPartner is the partner that answers for a partner-ordered
// subscription now: the channel partner its ordering partner handed the
// account on to, if it did.
func (d Deps) answeringPartner(ctx context.Context, s *subscription.Subscription) (uuid.UUID, error) {
	acc, _, err := d.loadAccount(ctx, s.AccountID())
	if err != nil {
		return uuid.Nil, err
	}
	return acc.ChannelOf(*s.OrderingPartner()), nil
}

// partnerRefusal is the error of an actor whom neither the customer
// (customerErr) nor a partner (partnerErr) lets act: the partner's 403
// when the actor is its user and only the role falls short (they see
// what they act on), else the customer's error, which tells someone who
// cannot see the account nothing of it (404).
func partnerRefusal(partnerErr, customerErr error) error {
	if errors.Is(partnerErr, domain.ErrForbidden) {
		return partnerErr
	}
	return customerErr
}

// RecordSubscriptionExpiry appends subscription.expired once for a
// subscription past its expiration date (the sweeper's command).
type RecordSubscriptionExpiry struct {
	SubscriptionID uuid.UUID
}

// RecordSubscriptionExpiryHandler handles RecordSubscriptionExpiry; it
// reports whether it appended.
func RecordSubscriptionExpiryHandler(d Deps) Handler[RecordSubscriptionExpiry, bool] {
	return HandlerFunc[RecordSubscriptionExpiry, bool](func(ctx context.Context, c RecordSubscriptionExpiry) (bool, error) {
		return retried(ctx, func() (bool, error) {
			var s subscription.Subscription
			l, err := load(ctx, d, subscription.Stream(c.SubscriptionID), &s)
			if err != nil {
				return false, err
			}
			now := d.now()
			expired := s.RecordExpiry(now)
			if expired == nil {
				return false, nil
			}
			_, err = save(ctx, d, subscription.Stream(c.SubscriptionID), l, origin{actor: "system", at: now}, *expired)
			return err == nil, err
		})
	})
}
