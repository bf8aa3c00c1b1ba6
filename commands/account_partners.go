package commands

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// AssociatePartner records that a partner serves an account. Operators
// only: the relation comes from the partner's agreement with the customer.
type AssociatePartner struct {
	By        Actor
	AccountID uuid.UUID
	PartnerID uuid.UUID
}

// ChangeChannelPartner records that an account moved from one partner to
// another (the change-of-channel-partner process). Operators only.
type ChangeChannelPartner struct {
	By            Actor
	AccountID     uuid.UUID
	FromPartnerID uuid.UUID
	ToPartnerID   uuid.UUID
}

// PartnerVisibility grants (or, with Revoke, revokes) a partner the right
// to see what another partner ordered for the account. The customer's
// Account Administrators only.
type PartnerVisibility struct {
	By               Actor
	AccountID        uuid.UUID
	GranteePartnerID uuid.UUID
	SourcePartnerID  uuid.UUID
	Revoke           bool
}

// AssociatePartnerHandler handles AssociatePartner; it answers the
// position of the association (or of the account's last event when the
// partner already served it).
func AssociatePartnerHandler(d Deps) Handler[AssociatePartner, eventstore.Position] {
	return HandlerFunc[AssociatePartner, eventstore.Position](func(ctx context.Context, c AssociatePartner) (eventstore.Position, error) {
		// The route checks the operator claim before any replay, so this
		// check comes first too (see WithIdempotencyKey).
		if !c.By.Operator {
			return eventstore.Position{}, fmt.Errorf("associating partners is for operators: %w", domain.ErrForbidden)
		}
		if _, _, err := d.loadPartner(ctx, c.PartnerID); err != nil {
			return eventstore.Position{}, err
		}
		return d.changeAccount(ctx, c.AccountID, c.By, func(a *account.Account, by string) (event.Event, error) {
			e, err := a.AssociatePartner(c.PartnerID, by)
			if e == nil {
				return nil, err
			}
			return *e, nil
		})
	})
}

// ChangeChannelPartnerHandler handles ChangeChannelPartner.
func ChangeChannelPartnerHandler(d Deps) Handler[ChangeChannelPartner, eventstore.Position] {
	return HandlerFunc[ChangeChannelPartner, eventstore.Position](func(ctx context.Context, c ChangeChannelPartner) (eventstore.Position, error) {
		// The route checks the operator claim before any replay, so this
		// check comes first too (see WithIdempotencyKey).
		if !c.By.Operator {
			return eventstore.Position{}, fmt.Errorf("changing the channel partner is for operators: %w", domain.ErrForbidden)
		}
		if _, _, err := d.loadPartner(ctx, c.ToPartnerID); err != nil {
			return eventstore.Position{}, err
		}
		return serialized(ctx, d.AccountSerial, c.AccountID, func(ctx context.Context) (eventstore.Position, error) {
			return d.changeAccount(ctx, c.AccountID, c.By, func(a *account.Account, by string) (event.Event, error) {
				return a.ChangeChannelPartner(c.FromPartnerID, c.ToPartnerID, by)
			})
		})
	})
}

// PartnerVisibilityHandler handles PartnerVisibility. Run again with its
// idempotency key, it answers as an earlier run that appended did, before
// it checks the caller's rights.
func PartnerVisibilityHandler(d Deps) Handler[PartnerVisibility, eventstore.Position] {
	return HandlerFunc[PartnerVisibility, eventstore.Position](func(ctx context.Context, c PartnerVisibility) (eventstore.Position, error) {
		first, err := keep[account.Account](ctx, d, account.Stream(c.AccountID))
		if err != nil {
			return eventstore.Position{}, err
		}
		if l := first.read(); l.mine != nil {
			return l.answered(), nil
		}
		held, err := d.rolesIn(ctx, c.AccountID, c.By)
		if err != nil {
			return eventstore.Position{}, err
		}
		if !slices.Contains(held, user.AccountAdministrator) {
			return eventstore.Position{}, fmt.Errorf("partner visibility is managed by Account Administrators: %w", domain.ErrForbidden)
		}
		return d.changeKeptAccount(ctx, c.AccountID, c.By, first, func(a *account.Account, by string) (event.Event, error) {
			if c.Revoke {
				return a.RevokeVisibility(c.GranteePartnerID, c.SourcePartnerID, by)
			}
			granted, err := a.GrantVisibility(c.GranteePartnerID, c.SourcePartnerID, by)
			if granted == nil {
				return nil, err
			}
			return *granted, nil
		})
	})
}

// changeAccount loads an account, lets decide return at most one event,
// and appends it, retrying on a concurrent change. Without an event it
// answers the account's last position.
func (d Deps) changeAccount(ctx context.Context, id uuid.UUID, a Actor, decide func(*account.Account, string) (event.Event, error)) (eventstore.Position, error) {
	return d.changeKeptAccount(ctx, id, a, nil, decide)
}

// changeKeptAccount is changeAccount whose first try takes first's read
// of the account (see loadKept), when there is one.
func (d Deps) changeKeptAccount(ctx context.Context, id uuid.UUID, a Actor, first *kept[account.Account], decide func(*account.Account, string) (event.Event, error)) (eventstore.Position, error) {
	return d.changeAccountRead(ctx, id, a, first, func(acc *account.Account, _ loaded, actor string) ([]event.Event, error) {
		e, err := decide(acc, actor)
		if e == nil {
			return nil, err
		}
		return []event.Event{e}, err
	})
}

// changeAccountRead is changeKeptAccount for a decision that needs to
// know where the account was read (its revision).
func (d Deps) changeAccountRead(ctx context.Context, id uuid.UUID, a Actor, first *kept[account.Account], decide func(*account.Account, loaded, string) ([]event.Event, error)) (eventstore.Position, error) {
	by := origin{actor: a.name(), at: d.now()}
	return retried(ctx, func() (eventstore.Position, error) {
		acc, l, err := d.keptAccount(ctx, id, first)
		if err != nil {
			return eventstore.Position{}, err
		}
		if l.mine != nil {
			// An earlier run of this very command (same idempotency key)
			// made its append here and lost its answer.
			return l.answered(), nil
		}
		events, err := decide(acc, l, by.actor)
		if err != nil || len(events) == 0 {
			return l.answered(), err
		}
		res, err := save(ctx, d, account.Stream(id), l, by, events...)
		return res.Position, err
	})
}
