package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/eventstore"
)

// CancelSubscription cancels a subscription with a reason. While users
// hold its licenses and, through other subscriptions, a product that
// requires its product (Teams Phone needs Office 365 E3), it is refused
// (422 required-by-held), as revoking the product from them would be:
// those products are revoked first, or the product with them in one bulk
// revocation.
type CancelSubscription struct {
	By             Actor
	AccountID      uuid.UUID
	SubscriptionID uuid.UUID
	Reason         string
	Feedback       string
}

// CancelSubscriptionHandler handles CancelSubscription. It runs in the
// account's turn (changeSubscription), which the license commands take
// too (Licensing.Serial), so no license that requires the product is
// given between the check and the cancellation.
func CancelSubscriptionHandler(d Deps, l Licensing) Handler[CancelSubscription, eventstore.Position] {
	return HandlerFunc[CancelSubscription, eventstore.Position](func(ctx context.Context, c CancelSubscription) (eventstore.Position, error) {
		return d.changeSubscription(ctx, c.By, c.AccountID, c.SubscriptionID, func(s *subscription.Subscription, o origin) (event.Event, error) {
			cancelled, err := s.Cancel(c.Reason, c.Feedback, o.actor, o.at)
			if err != nil {
				return nil, err
			}
			if err := d.mayEnd(ctx, l, s); err != nil {
				return nil, err
			}
			return cancelled, nil
		})
	})
}

// mayEnd refuses to end a subscription whose holders keep, through the
// account's other active subscriptions, a product that requires its
// product and that they would no longer hold (licensing.CheckEnd). The
// account's subscriptions are those the lookup lists: none is drawn from
// before it is listed (see LicenseLookup), so every license that could
// require the product is seen.
func (d Deps) mayEnd(ctx context.Context, l Licensing, s *subscription.Subscription) error {
	if l.Catalog == nil || !l.Catalog.RequiredBy(s.ProductID()) {
		return nil
	}
	index := map[uuid.UUID]int{}
	var holders []licensing.User
	for id := range s.Holders() {
		index[id] = len(holders)
		holders = append(holders, licensing.User{ID: id, InAccount: true, Holds: map[string][]uuid.UUID{}})
	}
	if len(holders) == 0 {
		return nil
	}
	st, err := d.loadLicenseState(ctx, l, s.AccountID(), s.ID())
	if err != nil {
		return fmt.Errorf("cancel subscription %s: %w", s.ID(), err)
	}
	st.subs[s.ID()] = s // as the cancellation read it
	st.addHoldings(holders, index, d.now())
	return l.Catalog.CheckEnd(s.ProductID(), s.ID(), holders)
}
