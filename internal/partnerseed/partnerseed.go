// Package partnerseed fills the partners read model for tests of its
// readers: it feeds the partners projector events as the feed would, so
// that the readers' tests (readapi reads read models only) name partners,
// orders and grants without the domain's types.
package partnerseed

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/projections"
)

// Seed writes into one build of the partners read model; its events occur
// at Now() and take the next positions.
type Seed struct {
	T      testing.TB
	Pool   *pgxpool.Pool
	Schema string
	Now    func() time.Time
	seq    uint64
}

// apply projects events in one transaction.
func (s *Seed) apply(events ...event.Event) {
	s.T.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{s.Schema}.Sanitize()+`, public`); err != nil {
			return err
		}
		q := &pgx.Batch{}
		for _, e := range events {
			s.seq++
			projections.Partners{}.Apply(q, event.Envelope{
				Metadata: event.Metadata{EventID: uuid.New(), SchemaVersion: 1, Actor: "test", OccurredAt: s.Now()},
				Position: fmt.Sprintf("%d-%d", s.seq, s.seq), Event: e})
		}
		return tx.SendBatch(ctx, q).Close()
	})
	if err != nil {
		s.T.Fatal(err)
	}
}

// Partner registers a partner organization.
func (s *Seed) Partner(name string) uuid.UUID {
	id := uuid.New()
	s.apply(partner.Registered{PartnerID: id, Name: name, RegisteredBy: "ops"})
	return id
}

// User adds a user with roles (their names, e.g. "sales_agent") to a partner.
func (s *Seed) User(partnerID uuid.UUID, email, first, last string, roles ...string) uuid.UUID {
	id := uuid.New()
	s.apply(partner.UserAdded{PartnerID: partnerID, UserID: id, Email: email, FirstName: first, LastName: last, Roles: partnerRoles(roles), AddedBy: "ops"})
	return id
}

// ChangeRoles saves a partner user's roles.
func (s *Seed) ChangeRoles(partnerID, userID uuid.UUID, roles ...string) {
	s.apply(partner.UserRolesChanged{PartnerID: partnerID, UserID: userID, Roles: partnerRoles(roles)})
}

// RemoveUser removes a partner user.
func (s *Seed) RemoveUser(partnerID, userID uuid.UUID) {
	s.apply(partner.UserRemoved{PartnerID: partnerID, UserID: userID, RemovedBy: "ops"})
}

// Associate makes partners serve an account.
func (s *Seed) Associate(accountID uuid.UUID, partners ...uuid.UUID) {
	for _, p := range partners {
		s.apply(account.PartnerAssociated{AccountID: accountID, PartnerID: p, AssociatedBy: "ops"})
	}
}

// Grant lets grantee see what source ordered for the account.
func (s *Seed) Grant(accountID, grantee, source uuid.UUID) {
	s.apply(account.PartnerVisibilityGranted{AccountID: accountID, GranteePartnerID: grantee, SourcePartnerID: source, GrantedBy: "alice"})
}

// Revoke ends a grant.
func (s *Seed) Revoke(accountID, grantee, source uuid.UUID) {
	s.apply(account.PartnerVisibilityRevoked{AccountID: accountID, GranteePartnerID: grantee, SourcePartnerID: source})
}

// ChangeChannel records that the account moved from one partner to another.
func (s *Seed) ChangeChannel(accountID, from, to uuid.UUID) {
	s.apply(account.ChannelPartnerChanged{AccountID: accountID, FromPartnerID: from, ToPartnerID: to, ChangedBy: "ops"})
}

// Order is a purchase; zero fields get defaults (Office E3, ten licenses
// for a year at 100.00 EUR, bought now by "sub-buyer").
type Order struct {
	Product, ProductName, Name string
	Partner, Buyer             *uuid.UUID
	By                         string
	PurchasedAt                time.Time
	Term                       time.Duration
	Amount, Currency           string
	Total                      int
}

// Buy records a purchase and returns the subscription's id.
func (s *Seed) Buy(accountID uuid.UUID, o Order) uuid.UUID {
	id := uuid.New()
	if o.Product == "" {
		o.Product, o.ProductName = "office-e3", "Office 365 E3"
	}
	if o.PurchasedAt.IsZero() {
		o.PurchasedAt = s.Now()
	}
	if o.Term == 0 {
		o.Term = 365 * 24 * time.Hour
	}
	if o.Amount == "" {
		o.Amount, o.Currency = "100.00", "EUR"
	}
	if o.Total == 0 {
		o.Total = 10
	}
	if o.By == "" {
		o.By = "sub-buyer"
	}
	s.apply(subscription.Purchased{SubscriptionID: id, AccountID: accountID, ProductID: o.Product, ProductName: o.ProductName,
		Name: o.Name, OrderingPartnerID: o.Partner, BuyerUserID: o.Buyer, PurchasedBy: o.By, PurchasedAt: o.PurchasedAt,
		ExpiresAt: o.PurchasedAt.Add(o.Term), Price: subscription.Price{Amount: o.Amount, Currency: o.Currency}, TotalLicenses: o.Total})
	return id
}

// Cancel records a cancellation with a reason of the fixed list.
func (s *Seed) Cancel(accountID, subscriptionID uuid.UUID, reason, feedback, by string, at time.Time) {
	s.apply(subscription.Cancelled{SubscriptionID: subscriptionID, AccountID: accountID, Reason: subscription.Reason(reason), Feedback: feedback,
		CancelledBy: by, CancelledAt: at})
}

func partnerRoles(names []string) []partner.Role {
	out := make([]partner.Role, len(names))
	for i, n := range names {
		out[i] = partner.Role(n)
	}
	return out
}
