// Package projections carries the event store's subscription into a
// watermill router and runs the projectors that build the PostgreSQL read
// models. Each projector has a permanent name that is also its checkpoint
// key and its watermill topic; it applies a batch of events and advances
// its checkpoint in one transaction, so restarts and replays never apply
// an event twice.
package projections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/personal"
)

// metaThrough is the message metadata naming the batch's last position.
const metaThrough = "through"

// Feed is a watermill Subscriber over the event store: subscribing to a
// topic follows the global log from that topic's saved checkpoint. Each
// message is a Batch of whatever the subscription had ready, up to
// BatchSize: hundreds while catching up, one event at a time when live, so
// catch-up is fast and live events are not held back. It hands over one
// message at a time and waits for its ack; a nack redelivers it.
type Feed struct {
	store eventstore.Store
	pool  *pgxpool.Pool
	log   *slog.Logger
	// BatchSize bounds the events of one message (default 500).
	BatchSize int
	// RetryDelay is the pause before redelivering a nacked message; it
	// doubles while the same batch keeps failing (longer).
	RetryDelay time.Duration
	// Recent, when set, holds the keys this process's commands just
	// sealed with: a projector's topic opens with them what they sealed,
	// one event or a thousand, without a query (see readAhead).
	Recent *personal.Recent

	topics sync.Map // name -> Topic
	// hurried wakes a topic's held batch (see Hurry): the same one-shot
	// wake by name as the engine's advances.
	hurried Advances
}

// Topic is how the feed serves one topic's consumer.
type Topic struct {
	// Hold is how long a live batch may wait for more (nil: not at all).
	Hold Hold
	// Decodes reports the event types the consumer decodes (nil: all).
	// The feed decodes those as it reads them, while the consumer still
	// applies the previous batch: catching up, decoding was half of a
	// projector's time, spent while the database waited. Events with
	// sealed personal fields are left to the consumer, unless OpenAhead.
	Decodes func(eventType string) bool
	// OpenAhead lets the feed open sealed personal fields as it decodes
	// (see readAhead); only for projectors, whose writes an erasure
	// applied later blanks.
	OpenAhead bool
	// Version is the version of the projector this process runs for the
	// topic (0: the topic is not a projector's). While the active build is
	// of a newer version, written by a newer release running beside this
	// one, this process neither takes the topic's lead nor keeps it: its
	// code cannot write that build, and holding the lead would stall it.
	Version int
	// MovesBack: the consumer may move its checkpoint back (MoveBack), in
	// this instance or another, after the feed read past it. While nothing
	// comes, the feed looks at the checkpoint every LeaseRetry (a batch
	// finds it otherwise), and follows again from it if it stands behind.
	MovesBack bool
}

// Hold is how long, from its first event, a topic's live batch b may wait
// to gather more before it goes out; zero sends it with what is ready.
// The feed asks again as events come, so a batch goes out as soon as its
// Hold says it need not wait. Live, each event woke every consumer for a
// transaction or a statement of its own; on a small machine those crowded
// out the ones a dashboard waits on.
type Hold func(b Batch) time.Duration

// Serve sets how a topic is served; call it before the topic is
// subscribed.
func (f *Feed) Serve(name string, t Topic) { f.topics.Store(name, t) }

// serveAlso changes the named topic with change, from how it is served
// (a zero Topic when not yet).
func (f *Feed) serveAlso(name string, change func(*Topic)) {
	v, _ := f.topics.Load(name)
	t, _ := v.(Topic)
	change(&t)
	f.topics.Store(name, t)
}

// Hurry sends out at once the batch of the topic that its Hold keeps
// waiting, if one is: somebody waits for the topic's checkpoint to pass a
// position (a read's ?after). A batch held because its consumer writes
// nothing for it may then wait long, for few transactions, without
// keeping such a read waiting. The next batch waits again.
func (f *Feed) Hurry(topic string) { f.hurried.Signal(topic) }

// NewFeed returns a feed reading checkpoints from pool.
func NewFeed(store eventstore.Store, pool *pgxpool.Pool, log *slog.Logger) *Feed {
	return &Feed{store: store, pool: pool, log: log, BatchSize: 2000, RetryDelay: 200 * time.Millisecond}
}

var _ message.Subscriber = (*Feed)(nil)

// Subscribe implements message.Subscriber. The subscription starts once
// this process leads the topic, from the topic's checkpoint, and starts
// again from the checkpoint whenever the leadership is lost and won back.
func (f *Feed) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	out := make(chan *message.Message)
	go func() {
		defer close(out)
		for warned := 0; ctx.Err() == nil; {
			if apart := f.versionApart(ctx, topic); apart != 0 {
				if apart != warned {
					if apart > 0 {
						f.log.Warn("the active build is of a newer release: leaving the topic to the instances that run it", "topic", topic)
					} else {
						f.log.Info("the active build is of an older version: leaving the topic to the instances that write it until this version's build is switched in", "topic", topic)
					}
					warned = apart
				}
				select {
				case <-ctx.Done():
				case <-time.After(LeaseRetry):
				}
				continue
			}
			lctx, release, err := lead(ctx, f.pool, topic)
			if err != nil {
				return
			}
			f.log.Info("leading feed topic", "topic", topic, "holder", holder)
			if err := f.follow(lctx, topic, out); err != nil && ctx.Err() == nil {
				f.log.Error("feed subscription ended", "topic", topic, "error", err)
			}
			release()
		}
	}()
	return out, nil
}

// outdated reports whether the topic's projector has an active build of a
// newer version than this process runs (see Topic.Version).
func (f *Feed) outdated(ctx context.Context, topic string) bool {
	return f.versionApart(ctx, topic) > 0
}

// versionApart compares the version of the topic's active build with the
// one this process runs: 1 when it is newer (this code cannot write it),
// -1 when it is older (this version's build is being made, and until it
// is switched in the handler can only wait, while an instance of the
// older release could keep the live build going), 0 when they are the
// same, the topic is no projector's, or it cannot tell. Either way apart,
// this process leaves the topic's lead to others: taking it, it froze the
// live build for as long as the new build took.
func (f *Feed) versionApart(ctx context.Context, topic string) int {
	v, ok := f.topics.Load(topic)
	if !ok || v.(Topic).Version == 0 {
		return 0
	}
	a, err := ActiveBuild(ctx, f.pool, topic)
	if err != nil {
		return 0
	}
	return cmp.Compare(a.Version, v.(Topic).Version)
}

// follow feeds out from the topic's checkpoint until ctx ends, or until
// a batch failed and the topic turned out to be outdated.
func (f *Feed) follow(ctx context.Context, topic string, out chan<- *message.Message) error {
	from, err := startPosition(ctx, f.pool, topic)
	if err != nil {
		return err
	}
	sub, err := f.store.Subscribe(ctx, from, eventstore.Filter{})
	if err != nil {
		return fmt.Errorf("subscribe %s from %s: %w", topic, from, err)
	}
	defer sub.Close()
	// A reader and a decoder keep a batch or two of events ahead of the
	// handler, so that while one batch is applied the next one is read
	// and decoded.
	var t Topic
	if v, ok := f.topics.Load(topic); ok {
		t = v.(Topic)
	}
	if t.Hold == nil {
		t.Hold = func(Batch) time.Duration { return 0 }
	}
	read := make(chan item, f.BatchSize)
	readErr := make(chan error, 1)
	go func() {
		defer close(read)
		for {
			m, err := sub.Recv()
			if err != nil {
				if !errors.Is(err, eventstore.ErrSubscriptionClosed) {
					readErr <- err
				}
				return
			}
			it := item{through: m.Checkpoint}
			if m.Event != nil {
				it.event, it.record, it.through = true, newRecord(m.Event), m.Event.Position
			}
			select {
			case read <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	items := make(chan item, f.BatchSize)
	go func() {
		defer close(items)
		var keys personal.DB // nil: sealed records are the consumer's to open
		if t.OpenAhead {
			keys = f.pool
		}
		f.decode(ctx, read, items, t.Decodes, keys)
	}()
	// The events moved back over would otherwise wait for the next event
	// appended, however long the log stayed quiet (Topic.MovesBack).
	var idle <-chan time.Time
	if t.MovesBack {
		tick := time.NewTicker(LeaseRetry)
		defer tick.Stop()
		idle = tick.C
	}
	for after := from; ; {
		b, ok := f.next(ctx, items, t.Hold, func() <-chan struct{} { return f.hurried.Next(topic) }, idle)
		if ok && b.idle {
			if f.movedBack(ctx, topic, after) {
				return nil
			}
			continue
		}
		b.After = after
		if !ok {
			select {
			case err := <-readErr:
				if ctx.Err() == nil {
					return err
				}
			default:
			}
			return nil
		}
		if !f.deliver(ctx, out, b, func() bool { return f.outdated(ctx, topic) || f.movedBack(ctx, topic, b.After) }) {
			return nil
		}
		after = b.Through
	}
}

// decodeChunk bounds the items the feed decodes together.
const decodeChunk = 500

// decode passes items from in to out in order, decoding their records
// ahead of the consumer (see readAhead) a chunk at a time: whatever in
// holds ready, up to decodeChunk.
func (f *Feed) decode(ctx context.Context, in <-chan item, out chan<- item, decodes func(string) bool, keys personal.DB) {
	chunk := make([]item, 0, decodeChunk)
	records := make([]*Record, 0, decodeChunk)
	for more := true; more; {
		it, ok := <-in
		if !ok {
			return
		}
		chunk = append(chunk[:0], it)
	gather:
		for len(chunk) < decodeChunk {
			select {
			case it, ok := <-in:
				if !ok {
					more = false
					break gather
				}
				chunk = append(chunk, it)
			default:
				break gather
			}
		}
		records = records[:0]
		for i := range chunk {
			if chunk[i].event {
				records = append(records, &chunk[i].record)
			}
		}
		readAhead(ctx, keys, f.Recent, records, decodes)
		for _, it := range chunk {
			select {
			case out <- it:
			case <-ctx.Done():
				return
			}
		}
	}
}

// startPosition is where a topic resumes: the active build's checkpoint
// for a versioned projector, the topic's own for other consumers.
func startPosition(ctx context.Context, pool *pgxpool.Pool, topic string) (eventstore.Position, error) {
	a, err := ActiveBuild(ctx, pool, topic)
	if errors.Is(err, ErrNoVersion) {
		return LoadCheckpoint(ctx, pool, topic)
	}
	if err != nil {
		return eventstore.Start, err
	}
	return LoadCheckpoint(ctx, pool, a.Schema)
}

// next waits for one item, then takes whatever else is ready, and what
// comes while hold says the batch may wait, unless hurried (taken once the
// batch has begun) is closed meanwhile. A tick of idle before the first
// item returns an empty batch marked idle.
func (f *Feed) next(ctx context.Context, items <-chan item, hold Hold, hurried func() <-chan struct{}, idle <-chan time.Time) (Batch, bool) {
	var b Batch
	add := func(it item) {
		if it.event {
			b.Records = append(b.Records, it.record)
		}
		b.Through = it.through
	}
	select {
	case m, ok := <-items:
		if !ok {
			return b, false
		}
		// Room for what is ready: catching up, a batch grown by append
		// alone copied its records over and over, an eighth of what a
		// catch-up allocated.
		b.Records = make([]Record, 0, min(1+len(items), f.BatchSize))
		add(m)
	case <-idle:
		b.idle = true
		return b, true
	case <-ctx.Done():
		return b, false
	}
	first, hurry := time.Now(), hurried()
	for len(b.Records) < f.BatchSize {
		select {
		case m, ok := <-items:
			if !ok {
				return b, true
			}
			add(m)
			continue
		default:
		}
		wait := hold(b) - time.Since(first)
		if wait <= 0 {
			return b, true
		}
		t := time.NewTimer(wait)
		select {
		case m, ok := <-items:
			t.Stop()
			if !ok {
				return b, true
			}
			add(m)
		case <-t.C:
			return b, true
		case <-hurry:
			t.Stop()
			return b, true
		case <-ctx.Done():
			t.Stop()
			return b, false
		}
	}
	return b, true
}

// item is an event of the log read ahead of the consumer, or a position
// its subscription passed without one.
type item struct {
	event   bool
	record  Record
	through eventstore.Position
}

// deliver sends a batch until it is acked; false when ctx ended, or when
// it was nacked and leave says this subscription is to end: the topic is
// no longer this process's, or its checkpoint was moved back before the
// batch (movedBack).
func (f *Feed) deliver(ctx context.Context, out chan<- *message.Message, b Batch, leave func() bool) bool {
	for pause := f.RetryDelay; ; pause = f.longer(pause) {
		m := b.message(ctx)
		select {
		case out <- m:
		case <-ctx.Done():
			return false
		}
		select {
		case <-m.Acked():
			return true
		case <-m.Nacked():
			if leave() {
				return false
			}
		case <-ctx.Done():
			return false
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return false
		}
	}
}

// longer is the pause after pause before the next delivery of a batch
// that keeps failing: twice as long, up to 25 times RetryDelay (5 s at
// the default). Redelivered every 200 ms, a consumer whose broker or
// relay was away for an hour failed, and logged its error with a stack
// trace, five times a second; a failing projector's dead letter
// (MaxAttempts) still comes within a second.
func (f *Feed) longer(pause time.Duration) time.Duration {
	return min(2*pause, 25*f.RetryDelay)
}

// movedBack reports whether the topic's checkpoint stands before after,
// where the subscription's next batch reads from (Batch.After): a
// consumer moved it back (MoveBack) once this subscription had read past
// it, the mailer putting back its emails for a relay away after this
// process lost its lead and took it again, or while another instance
// took it. The subscription then ends, and the next follows from the
// checkpoint: delivered again, the batch lacked the events moved back
// over, and the consumer's next commit went past them for good.
func (f *Feed) movedBack(ctx context.Context, topic string, after eventstore.Position) bool {
	at, err := startPosition(ctx, f.pool, topic)
	if err != nil || !at.Less(after) {
		return false
	}
	f.log.Warn("the checkpoint was moved back before the batch; following again from it", "topic", topic,
		"checkpoint", at.String(), "batch_after", after.String())
	return true
}

// Close implements message.Subscriber; subscriptions end with their context.
func (f *Feed) Close() error { return nil }
