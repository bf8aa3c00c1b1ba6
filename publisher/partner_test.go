package publisher_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/integration"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/publisher"
)

// A subscription's change names the partner that ordered it, in the
// CloudEvent and in the ce_partnerid header, as its purchase does; a
// self-service subscription's events name none.
func TestPublisher_names_the_ordering_partner_on_a_subscriptions_later_events(t *testing.T) {
	pool := pgtest.Pool(t)
	store := postgres.New(pool, postgres.Config{})
	top := topic(t)
	in := subscribe(t, publisher.Postgres, "", stdlib.OpenDBFromPool(pool), top)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, pool, store, publisher.Config{Transport: publisher.Postgres, Topic: top}) }()
	t.Cleanup(func() { cancel(); <-done })

	account, partner := uuid.New(), uuid.New()
	want := map[string]string{} // event id -> partner it must name
	for _, ordering := range []*uuid.UUID{&partner, nil} {
		id := uuid.New()
		at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		bought := encode(subscription.Purchased{SubscriptionID: id, AccountID: account, ProductID: "office-e3", ProductName: "Office E3",
			Name: "team", OrderingPartnerID: ordering, PurchasedBy: "t", PurchasedAt: at, ExpiresAt: at.AddDate(1, 0, 0),
			Price: subscription.Price{Amount: "100.00", Currency: "USD"}, TotalLicenses: 10})
		changed := encode(subscription.LicenseTotalChanged{SubscriptionID: id, AccountID: account, PreviousTotal: 10, Total: 12, ChangedBy: "t"})
		// Two appends, as two commands do: the change is read in a batch
		// of its own, after the purchase.
		stream := subscription.Stream(id)
		res, err := store.Append(ctx, stream, eventstore.NoStream(), []eventstore.EventData{bought})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(ctx, stream, eventstore.Exact(res.NextRevision), []eventstore.EventData{changed}); err != nil {
			t.Fatal(err)
		}
		named := ""
		if ordering != nil {
			named = ordering.String()
		}
		want[bought.ID.String()], want[changed.ID.String()] = named, named
	}
	for len(want) > 0 {
		select {
		case m := <-in:
			var e integration.Event
			if err := json.Unmarshal(m.Payload, &e); err != nil {
				t.Fatal(err)
			}
			named, ok := want[e.ID]
			if !ok {
				continue
			}
			if e.PartnerID != named || m.Metadata.Get(publisher.MetaPartner) != named {
				t.Errorf("%s names partner %q (header %q), want %q", e.Type, e.PartnerID, m.Metadata.Get(publisher.MetaPartner), named)
			}
			delete(want, e.ID)
		case <-time.After(30 * time.Second):
			t.Fatalf("%d events never published", len(want))
		}
	}
}
