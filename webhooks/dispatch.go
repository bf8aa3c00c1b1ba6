// Package webhooks delivers integration events to the HTTPS endpoints an
// account's administrators register. A dispatcher, a consumer of the
// event subscription under a permanent name, queues a delivery per
// matching endpoint in the transaction that advances its checkpoint (so
// nothing is queued twice or lost); a worker posts the queued deliveries,
// oldest first and one at a time per endpoint (so each endpoint gets an
// account's events in order), signed, retried with backoff, and pauses an
// endpoint that keeps failing. See docs/integration.md, "Webhooks".
package webhooks

import (
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/integration"
	"github.com/bizcenter/bizcenter/projections"
)

// Name is the dispatcher's permanent name: its checkpoint key and feed
// topic.
const Name = "webhooks"

// Dispatcher queues deliveries from the feed.
type Dispatcher struct {
	Pool *pgxpool.Pool
	// Orders names the ordering partner on a subscription's later events,
	// as the feed and the publisher do.
	Orders *integration.Orders
}

// Handle is the watermill handler. An endpoint gets the events of its
// account that occurred from its registration on, of the types it asked
// for (all when none).
func (d *Dispatcher) Handle(msg *message.Message) (err error) {
	ctx := msg.Context()
	b, err := projections.DecodeBatch(msg)
	if err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	end := projections.TraceBatch(ctx, "queue webhooks", b)
	defer func() { end(err) }()
	st, err := projections.Begin(ctx, d.Pool, Name, b.Through)
	if err != nil {
		return err
	}
	defer st.Rollback(ctx)
	if st.Applied() {
		return nil
	}
	q := &pgx.Batch{}
	for _, r := range b.Records {
		if !st.From().Less(r.Position) {
			continue
		}
		ie, ok, err := integration.FromStored(r.Type, r.Data, r.Metadata, r.Stream, r.Revision, r.Pos)
		if err != nil {
			return fmt.Errorf("%s: %w", Name, err)
		}
		if !ok || ie.AccountID == "" {
			continue
		}
		if err := d.Orders.Name(ctx, &ie, r.Stream); err != nil {
			return fmt.Errorf("%s: %w", Name, err)
		}
		q.Queue(`
			INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload)
			SELECT id, $2, $3, $4 FROM webhook_endpoints
			 WHERE account_id = $1 AND created_at <= $5 AND (cardinality(types) = 0 OR $3 = ANY (types))
			ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
			uuid.MustParse(ie.AccountID), uuid.MustParse(ie.ID), ie.Type, ie.JSON(), ie.Time)
	}
	if q.Len() > 0 {
		if err := st.Tx().SendBatch(ctx, q).Close(); err != nil {
			return fmt.Errorf("%s: queue deliveries: %w", Name, err)
		}
	}
	return st.Commit(ctx)
}
