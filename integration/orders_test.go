package integration_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/integration"
)

// noReads is a store that must not be read.
type noReads struct {
	eventstore.Store
	t *testing.T
}

func (s noReads) ReadStream(context.Context, string, eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	s.t.Errorf("the store was read")
	return nil, eventstore.ErrStreamNotFound
}

// A subscription's purchase names its ordering partner itself (or none):
// the events after it are named from it without a read of the store,
// where each self-service purchase and each subscription's first change
// cost one on the feed's, the publisher's and the webhooks' path.
func TestOrders_name_a_subscriptions_later_events_from_its_purchase_without_a_read(t *testing.T) {
	orders := integration.NewOrders(noReads{t: t}, slog.New(slog.DiscardHandler))
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	partner := uuid.New()
	for _, ordering := range []*uuid.UUID{&partner, nil} {
		id, account := uuid.New(), uuid.New()
		stream := subscription.Stream(id)
		for i, ev := range []event.Event{
			subscription.Purchased{SubscriptionID: id, AccountID: account, ProductID: "office-e3", ProductName: "Office E3",
				Name: "team", OrderingPartnerID: ordering, PurchasedBy: "t", PurchasedAt: at, ExpiresAt: at.AddDate(1, 0, 0),
				Price: subscription.Price{Amount: "100.00", Currency: "USD"}, TotalLicenses: 10},
			subscription.LicenseTotalChanged{SubscriptionID: id, AccountID: account, PreviousTotal: 10, Total: 12, ChangedBy: "t"},
		} {
			data, meta, err := event.Encode(ev, event.Metadata{EventID: uuid.New(), Actor: "t", OccurredAt: at})
			if err != nil {
				t.Fatal(err)
			}
			e, _, err := integration.FromStored(ev.EventType(), data, meta, stream, uint64(i), "1-1")
			if err != nil {
				t.Fatal(err)
			}
			if err := orders.Name(context.Background(), &e, stream); err != nil {
				t.Fatal(err)
			}
			want := ""
			if ordering != nil {
				want = ordering.String()
			}
			if e.PartnerID != want {
				t.Errorf("%s names partner %q, want %q", e.Type, e.PartnerID, want)
			}
		}
	}
}

// goneStore is a store whose streams are gone (deleted in EventStoreDB),
// or, while away is set, cannot be read at all; it counts its reads.
type goneStore struct {
	eventstore.Store
	reads int
	away  bool
}

var errAway = errors.New("connection refused")

func (s *goneStore) ReadStream(context.Context, string, eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	s.reads++
	if s.away {
		return nil, errAway
	}
	return nil, eventstore.ErrStreamNotFound
}

// A subscription whose purchase is gone names no partner, and its events
// are named without an error, once read: the publisher and the webhook
// worker, which stop at any error here, stopped at its next event for
// good. A store that cannot be read now is still an error, to try again.
func TestOrders_a_subscription_whose_purchase_is_gone_names_no_partner(t *testing.T) {
	store := &goneStore{away: true}
	orders := integration.NewOrders(store, slog.New(slog.DiscardHandler))
	id, account := uuid.New(), uuid.New()
	stream := subscription.Stream(id)
	ev := subscription.LicenseTotalChanged{SubscriptionID: id, AccountID: account, PreviousTotal: 10, Total: 12, ChangedBy: "t"}
	data, meta, err := event.Encode(ev, event.Metadata{EventID: uuid.New(), Actor: "t", OccurredAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	e, _, err := integration.FromStored(ev.EventType(), data, meta, stream, 1, "2-2")
	if err != nil {
		t.Fatal(err)
	}
	if err := orders.Name(context.Background(), &e, stream); !errors.Is(err, errAway) {
		t.Fatalf("the store away: %v, want its error", err)
	}
	store.away = false
	for range 2 {
		if err := orders.Name(context.Background(), &e, stream); err != nil || e.PartnerID != "" {
			t.Fatalf("the purchase gone: %v, partner %q; want no error and none", err, e.PartnerID)
		}
	}
	if store.reads != 2 {
		t.Errorf("%d reads, want 2: the one away, then one that found the purchase gone", store.reads)
	}
}
