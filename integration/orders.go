package integration

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/eventstore"
)

// ordersKept bounds how many subscriptions Orders remembers; past it, it
// forgets them all and reads them again as they come.
const ordersKept = 100_000

// Orders names the partner that ordered a subscription on the events that
// follow its purchase. Only the purchase records who ordered it, and a
// partner following its orders downstream saw the purchase and never what
// became of it: the changes of its total, the cancellation, the expiry.
// Who ordered a subscription never changes, so each is read once, from
// the first event of its stream, and kept.
type Orders struct {
	store eventstore.Store
	log   *slog.Logger

	mu      sync.Mutex
	ordered map[string]uuid.UUID // stream -> ordering partner (uuid.Nil: none)
}

// errNoPurchase is a subscription whose purchase cannot be read: its
// stream is gone (an EventStoreDB stream deleted) or its first event does
// not decode. No read will find it later, unlike a store that is away.
var errNoPurchase = errors.New("no purchase to read")

// NewOrders reads purchases from store, and logs to log the subscriptions
// whose purchase is gone.
func NewOrders(store eventstore.Store, log *slog.Logger) *Orders {
	return &Orders{store: store, log: log, ordered: map[string]uuid.UUID{}}
}

// Name sets e's PartnerID, when e is a later event of a subscription
// (stream) a partner ordered, to that partner. The error is a store that
// cannot be read now. A subscription whose purchase is gone for good
// names no partner, as the feed leaves out a purchase that does not
// decode: the feed, the publisher and the webhook worker would otherwise
// stop at its next event, and never go past it.
func (o *Orders) Name(ctx context.Context, e *Event, stream string) error {
	if !e.OfSubscription() {
		return nil
	}
	if e.Type == purchased {
		// The purchase names its partner itself: kept, so that no
		// subscription's events cost a read of the store when its
		// purchase came by (a self-service one's each did).
		p, _ := uuid.Parse(e.PartnerID) // "": none, uuid.Nil
		o.keep(stream, p)
		return nil
	}
	if e.PartnerID != "" {
		return nil
	}
	p, err := o.partnerOf(ctx, stream)
	if errors.Is(err, errNoPurchase) {
		o.log.WarnContext(ctx, "the purchase of a subscription cannot be read; its events name no ordering partner",
			"stream", stream, "error", err)
		o.keep(stream, uuid.Nil)
		return nil
	}
	if err != nil {
		return err
	}
	if p != uuid.Nil {
		e.PartnerID = p.String()
	}
	return nil
}

func (o *Orders) partnerOf(ctx context.Context, stream string) (uuid.UUID, error) {
	o.mu.Lock()
	p, ok := o.ordered[stream]
	o.mu.Unlock()
	if ok {
		return p, nil
	}
	recs, err := o.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{Limit: 1})
	if err == nil && len(recs) == 0 {
		err = eventstore.ErrStreamNotFound
	}
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return uuid.Nil, fmt.Errorf("read the purchase of %s: %w: %w", stream, errNoPurchase, err)
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("read the purchase of %s: %w", stream, err)
	}
	ev, _, err := event.Decode(recs[0].Type, recs[0].Data, recs[0].Metadata)
	if err != nil {
		return uuid.Nil, fmt.Errorf("read the purchase of %s: %w: %w", stream, errNoPurchase, err)
	}
	if bought, ok := ev.(subscription.Purchased); ok && bought.OrderingPartnerID != nil {
		p = *bought.OrderingPartnerID
	}
	o.keep(stream, p)
	return p, nil
}

// purchased is the integration type of a subscription's purchase.
var purchased = TypeName("subscription.purchased", 1)

// keep remembers who ordered the subscription of stream.
func (o *Orders) keep(stream string, p uuid.UUID) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.ordered) >= ordersKept {
		clear(o.ordered)
	}
	o.ordered[stream] = p
}
