package readapi

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/projections"
)

// apply feeds events to the partners projector as the feed would: in one
// transaction into its build, each at the next position, occurring at the
// clock's now.
func (f *fixture) apply(events ...event.Event) {
	f.t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{f.partnersBuild}.Sanitize()+`, public`); err != nil {
			return err
		}
		q := &pgx.Batch{}
		for _, e := range events {
			f.seq++
			projections.Partners{}.Apply(q, event.Envelope{
				Metadata: event.Metadata{EventID: uuid.New(), SchemaVersion: 1, Actor: "test", OccurredAt: f.clock.Now()},
				Position: fmt.Sprintf("%d-%d", f.seq, f.seq), Event: e})
		}
		return tx.SendBatch(ctx, q).Close()
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) partner(name string) uuid.UUID {
	id := uuid.New()
	f.apply(partner.Registered{PartnerID: id, Name: name, RegisteredBy: "ops"})
	return id
}

func (f *fixture) partnerUser(partnerID uuid.UUID, email, first, last string, roles ...partner.Role) uuid.UUID {
	id := uuid.New()
	f.apply(partner.UserAdded{PartnerID: partnerID, UserID: id, Email: email, FirstName: first, LastName: last, Roles: roles, AddedBy: "ops"})
	return id
}

func (f *fixture) associate(accountID uuid.UUID, partners ...uuid.UUID) {
	for _, p := range partners {
		f.apply(account.PartnerAssociated{AccountID: accountID, PartnerID: p, AssociatedBy: "ops"})
	}
}

func (f *fixture) grant(accountID, grantee, source uuid.UUID) {
	f.apply(account.PartnerVisibilityGranted{AccountID: accountID, GranteePartnerID: grantee, SourcePartnerID: source, GrantedBy: "alice"})
}

// order is a purchase; zero fields get defaults.
type order struct {
	product, productName, name string
	partner, buyer             *uuid.UUID
	by                         string
	purchasedAt                time.Time
	term                       time.Duration
	amount, currency           string
	total                      int
}

func (f *fixture) buy(accountID uuid.UUID, o order) uuid.UUID {
	id := uuid.New()
	if o.product == "" {
		o.product, o.productName = "office-e3", "Office E3"
	}
	if o.purchasedAt.IsZero() {
		o.purchasedAt = f.clock.Now()
	}
	if o.term == 0 {
		o.term = 365 * 24 * time.Hour
	}
	if o.amount == "" {
		o.amount, o.currency = "100.00", "EUR"
	}
	if o.total == 0 {
		o.total = 10
	}
	if o.by == "" {
		o.by = "sub-buyer"
	}
	f.apply(subscription.Purchased{SubscriptionID: id, AccountID: accountID, ProductID: o.product, ProductName: o.productName,
		Name: o.name, OrderingPartnerID: o.partner, BuyerUserID: o.buyer, PurchasedBy: o.by, PurchasedAt: o.purchasedAt,
		ExpiresAt: o.purchasedAt.Add(o.term), Price: subscription.Price{Amount: o.amount, Currency: o.currency}, TotalLicenses: o.total})
	return id
}

func subsPath(accountID uuid.UUID, query string) string {
	return "/v1/accounts/" + accountID.String() + "/subscriptions?" + query
}

func partnerSubsPath(partnerID, accountID uuid.UUID) string {
	return "/v1/partners/" + partnerID.String() + "/accounts/" + accountID.String() + "/subscriptions"
}

func subNames(p SubscriptionPage) []string {
	out := []string{}
	for _, s := range p.Items {
		out = append(out, s.Name)
	}
	return out
}
