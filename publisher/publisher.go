// Package publisher sends integration events (package integration) to a
// message broker through a watermill Publisher: NATS JetStream, RabbitMQ
// or PostgreSQL (watermill-sql), chosen by configuration (transport.go).
//
// It is a consumer of the projection feed under its own permanent name, so
// it follows the event store from its own checkpoint. For each batch it
// publishes the batch's integration events in log order, waits until the
// broker has taken them, and only then advances its checkpoint. Delivery
// is therefore at least once: a crash after the broker took messages and
// before the checkpoint moved publishes those messages again on restart,
// with the same message id (the event id). Nothing else repeats, and
// nothing is skipped. See docs/integration.md.
package publisher

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/integration"
	"github.com/bizcenter/bizcenter/projections"
)

// Name is the publisher's permanent name: its checkpoint key and feed
// topic. Renaming it publishes the whole history again.
const Name = "publisher"

// DefaultTopic is the one topic every integration event goes to, so that
// a consumer sees each aggregate's events in order.
const DefaultTopic = "bizcenter-integration"

// Metadata keys set on every message besides the payload (the CloudEvent
// in structured mode): the CloudEvents binary-mode names, so a consumer
// can route or filter without decoding the payload.
const (
	MetaContentType = "content-type"
	MetaID          = "ce_id"
	MetaType        = "ce_type"
	MetaSubject     = "ce_subject"
	MetaPosition    = "ce_position"
	MetaAggregate   = "ce_aggregate"
	MetaSequence    = "ce_sequence"
	MetaAccount     = "ce_accountid"
	MetaPartner     = "ce_partnerid"
	MetaTraceParent = "traceparent"
)

// Publisher is the feed consumer that publishes.
type Publisher struct {
	Pool *pgxpool.Pool
	// Out is the broker's watermill publisher; Topic where messages go
	// (DefaultTopic when empty).
	Out   message.Publisher
	Topic string
	Log   *slog.Logger
	// Orders names the ordering partner on a subscription's later events.
	Orders *integration.Orders
}

// Validate reports every missing setting.
func (p *Publisher) Validate() error {
	var errs []error
	if p.Pool == nil {
		errs = append(errs, errors.New("publisher: no database pool"))
	}
	if p.Out == nil {
		errs = append(errs, errors.New("publisher: no broker publisher"))
	}
	if p.Orders == nil {
		errs = append(errs, errors.New("publisher: no orders to name partners from"))
	}
	return errors.Join(errs...)
}

// Handle is the watermill handler. The checkpoint moves only after the
// broker took every message of the batch; an error leaves it where it was
// and the feed delivers the batch again.
func (p *Publisher) Handle(msg *message.Message) error {
	ctx := msg.Context()
	b, err := projections.DecodeBatch(msg)
	if err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	// The step begins once the broker has taken the batch: a step is
	// ended when it waits on its process for 10 s (projections.Begin),
	// and a publish that took longer (a broker blocked by an alarm, or
	// slow to take a catch-up batch) was published again on every try,
	// its checkpoint never saved. Nothing here holds a lock meanwhile.
	from, err := projections.LoadCheckpoint(ctx, p.Pool, Name)
	if err != nil {
		return err
	}
	if !from.Less(b.Through) {
		return nil
	}
	var out []*message.Message
	var done []func(error)
	for _, r := range b.Records {
		if !from.Less(r.Position) {
			continue
		}
		ie, ok, err := integration.FromStored(r.Type, r.Data, r.Metadata, r.Stream, r.Revision, r.Pos)
		if err != nil {
			err = fmt.Errorf("%s: %w", Name, err)
			for _, end := range done {
				end(err) // the batch is not published: its spans say so
			}
			return err
		}
		if !ok {
			continue
		}
		if err := p.Orders.Name(ctx, &ie, r.Stream); err != nil {
			err = fmt.Errorf("%s: %w", Name, err)
			for _, end := range done {
				end(err)
			}
			return err
		}
		m := Message(ie)
		done = append(done, trace(ctx, ie, m))
		out = append(out, m)
	}
	if len(out) > 0 {
		err := p.Out.Publish(cmp.Or(p.Topic, DefaultTopic), out...)
		for _, end := range done {
			end(err)
		}
		if err != nil {
			p.logger().Error("publishing failed; the batch will be published again", "through", b.Through.String(), "messages", len(out), "error", err)
			return fmt.Errorf("%s: publish: %w", Name, err)
		}
	}
	st, err := projections.Begin(ctx, p.Pool, Name, b.Through)
	if err != nil {
		return err
	}
	defer st.Rollback(ctx)
	if st.From().Less(from) {
		// Never so far: the events between were not published by this try.
		return fmt.Errorf("%s: the checkpoint went back to %s meanwhile, from %s", Name, st.From(), from)
	}
	// From a checkpoint another instance moved on meanwhile, the
	// compare-and-set saves what this one published after it.
	return st.Commit(ctx)
}

// Message is the watermill message of an integration event: its id is
// the event id, its payload the CloudEvent.
func Message(e integration.Event) *message.Message {
	m := message.NewMessage(e.ID, e.JSON())
	m.Metadata.Set(MetaContentType, integration.ContentType)
	m.Metadata.Set(MetaID, e.ID)
	m.Metadata.Set(MetaType, e.Type)
	m.Metadata.Set(MetaSubject, e.Subject)
	m.Metadata.Set(MetaPosition, e.Position)
	m.Metadata.Set(MetaAggregate, e.Aggregate)
	m.Metadata.Set(MetaSequence, e.Sequence)
	if e.AccountID != "" {
		m.Metadata.Set(MetaAccount, e.AccountID)
	}
	if e.PartnerID != "" {
		m.Metadata.Set(MetaPartner, e.PartnerID)
	}
	if e.TraceParent != "" {
		m.Metadata.Set(MetaTraceParent, e.TraceParent)
	}
	return m
}

func (p *Publisher) logger() *slog.Logger {
	return cmp.Or(p.Log, slog.Default()).With("consumer", Name)
}
