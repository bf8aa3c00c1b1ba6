package httpapi

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// A subscription whose purchase does not decode (the feed leaves that
// out) names no ordering partner on its later events, which go out all
// the same, and so do the events after them: the feed ended there, on
// every request, so no caller ever read past them.
func TestFeed_goes_past_a_subscription_whose_purchase_does_not_decode(t *testing.T) {
	ctx := context.Background()
	store := postgres.New(pgtest.Pool(t), postgres.Config{})
	broken, fine, account := uuid.New(), uuid.New(), uuid.New()
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	change := encodeFeedEvent(t, subscription.LicenseTotalChanged{SubscriptionID: broken, AccountID: account, PreviousTotal: 10, Total: 12, ChangedBy: "t"})
	bought := encodeFeedEvent(t, subscription.Purchased{SubscriptionID: fine, AccountID: account, ProductID: "office-e3", ProductName: "Office E3",
		Name: "team", PurchasedBy: "t", PurchasedAt: at, ExpiresAt: at.AddDate(1, 0, 0),
		Price: subscription.Price{Amount: "100.00", Currency: "USD"}, TotalLicenses: 10})
	undecodable := eventstore.EventData{ID: uuid.New(), Type: "subscription.purchased", Data: []byte(`{"subscriptionId":5}`), Metadata: change.Metadata}
	for _, a := range []struct {
		stream string
		evs    []eventstore.EventData
	}{{subscription.Stream(broken), []eventstore.EventData{undecodable, change}}, {subscription.Stream(fine), []eventstore.EventData{bought}}} {
		if _, err := store.Append(ctx, a.stream, eventstore.NoStream(), a.evs); err != nil {
			t.Fatal(err)
		}
	}

	route := FeedRoutes(store, nil, slog.New(slog.DiscardHandler), nil, nil, nil)[0]
	req := httptest.NewRequestWithContext(kit.WithPrincipal(ctx, kit.Principal{Subject: "op", Operator: true}), "GET", "/v1/feed?follow=false", nil)
	w := httptest.NewRecorder()
	route.Handler(w, req)
	body := w.Body.String()
	for _, id := range []uuid.UUID{change.ID, bought.ID} {
		if !strings.Contains(body, id.String()) {
			t.Errorf("event %s never went out: %q", id, body)
		}
	}
	if strings.Contains(body, "event: error") {
		t.Errorf("the feed ended in an error: %q", body)
	}
}

func encodeFeedEvent(t *testing.T, e event.Event) eventstore.EventData {
	t.Helper()
	id := uuid.New()
	data, meta, err := event.Encode(e, event.Metadata{EventID: id, Actor: "test", OccurredAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.EventData{ID: id, Type: e.EventType(), Data: data, Metadata: meta}
}

// purchasesAway is a log whose streams cannot be read, as when the
// database goes away between two reads.
type purchasesAway struct{ eventstore.Store }

func (purchasesAway) ReadStream(context.Context, string, eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	return nil, &pgconn.ConnectError{}
}

// A follow=false feed that cannot read the purchase naming a change's
// partner says so, as when the log cannot be read: an event named error
// naming the id to resume after, where it ended as a log read to its end
// (the purchase itself read before, as a feed resumed after it).
func TestFeed_without_follow_says_when_a_purchase_could_not_be_read(t *testing.T) {
	ctx := context.Background()
	store := postgres.New(pgtest.Pool(t), postgres.Config{})
	id, account := uuid.New(), uuid.New()
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	bought := encodeFeedEvent(t, subscription.Purchased{SubscriptionID: id, AccountID: account, ProductID: "office-e3", ProductName: "Office E3",
		Name: "team", PurchasedBy: "t", PurchasedAt: at, ExpiresAt: at.AddDate(1, 0, 0),
		Price: subscription.Price{Amount: "100.00", Currency: "USD"}, TotalLicenses: 10})
	change := encodeFeedEvent(t, subscription.LicenseTotalChanged{SubscriptionID: id, AccountID: account, PreviousTotal: 10, Total: 12, ChangedBy: "t"})
	if _, err := store.Append(ctx, subscription.Stream(id), eventstore.NoStream(), []eventstore.EventData{bought, change}); err != nil {
		t.Fatal(err)
	}
	recs, err := store.ReadStream(ctx, subscription.Stream(id), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}

	route := FeedRoutes(purchasesAway{store}, nil, slog.New(slog.DiscardHandler), nil, nil, nil)[0]
	req := httptest.NewRequestWithContext(kit.WithPrincipal(ctx, kit.Principal{Subject: "op", Operator: true}), "GET", "/v1/feed?follow=false&after="+recs[0].Position.String(), nil)
	w := httptest.NewRecorder()
	route.Handler(w, req)
	body := w.Body.String()
	if strings.Contains(body, change.ID.String()) ||
		!strings.Contains(body, "event: error\ndata: {") || !strings.Contains(body, "resume with Last-Event-ID "+recs[0].Position.String()) {
		t.Fatalf("the purchase unread: %d %q", w.Code, body)
	}
}
