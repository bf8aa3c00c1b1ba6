package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Engine is the watermill router that runs every projector and consumer
// of the feed in one process.
type Engine struct {
	router   *message.Router
	feed     *Feed
	monitor  *Monitor
	advances Advances
	// deferring are the projectors whose first builds may wait for their
	// readers' indexes (see makePendingIndexes).
	deferring []Versioned
	pool      *pgxpool.Pool
	looks     indexLooks
	log       *slog.Logger
}

// NewEngine makes an engine over a feed.
func NewEngine(feed *Feed, log *slog.Logger) (*Engine, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermill.NewSlogLogger(log))
	if err != nil {
		return nil, fmt.Errorf("projection router: %w", err)
	}
	return &Engine{router: router, feed: feed, looks: indexLooks{every: time.Second, spacing: 100 * time.Millisecond}, log: log}, nil
}

// AddProjector runs a projector under its permanent name.
func (e *Engine) AddProjector(pool *pgxpool.Pool, p Versioned) {
	written := writtenTypes(p)
	if _, ok := p.(ReadIndexes); ok {
		e.deferring, e.pool = append(e.deferring, p), pool
	}
	e.AddConsumer(p.Name(), Handler(pool, p, written, e.log))
	var linger time.Duration
	if l, ok := p.(Lingering); ok {
		linger = l.Linger()
	}
	e.feed.Serve(p.Name(), Topic{Hold: projectorHold(written, linger, passOverHold), Decodes: func(t string) bool { return written[t] },
		OpenAhead: true, Version: p.Version()})
}

// Lingering is a projector whose live batches gather events for a while
// even when it writes for them: one that writes for most events (the
// audit log, a row an event) and that nobody reads to the millisecond
// but with ?after, which hurries the batch out (Feed.Hurry). Each event
// was a transaction of its own, second only to the users read model's
// and competing with it on a small machine.
type Lingering interface {
	Projector
	Linger() time.Duration
}

// projectorHold holds a projector's batch for up to linger when it has an
// event of a written type, and for up to passOver while it has none.
func projectorHold(written map[string]bool, linger, passOver time.Duration) Hold {
	return func(b Batch) time.Duration {
		if writesAny(written, b) {
			return linger
		}
		return passOver
	}
}

// passOverHold is how long a projector's batch of events it writes
// nothing for waits for more before it goes out (and moves the
// checkpoint, see passOver). Live, most events concern few projectors,
// and a pass-over an event for each of the others was a good part of the
// work of every command when commands came one at a time: at half the
// sustainable rate, 1.7 statements an invitation, each its own round
// trip and commit. Held this long, they go out a few dozen events at a
// time. A read waiting for such a projector to pass its position hurries
// the batch out (Feed.Hurry) rather than wait; only one served by
// another instance than the projector's may wait up to the hold.
const passOverHold = 50 * time.Millisecond

// AddConsumer runs any handler of the feed under a permanent name that is
// also its checkpoint key (the handler saves its own checkpoint).
func (e *Engine) AddConsumer(name string, h message.NoPublishHandlerFunc) {
	m := e.monitor
	e.router.AddConsumerHandler(name, name, e.feed, func(msg *message.Message) error {
		err := h(msg)
		if errors.Is(err, ErrMovedBack) {
			// Nacked all the same, so that the feed follows again from
			// the checkpoint, which it logs. Returned, the error was
			// logged at ERROR besides, once a failover in a soak.
			msg.Nack()
			return nil
		}
		if m != nil {
			m.Observe(name, err)
		}
		if err == nil {
			e.advances.Signal(name)
		}
		return err
	})
}

// Hurry sends out at once a batch of the named projector or consumer that
// waits to gather more (Feed.Hurry): a read waits for its checkpoint.
func (e *Engine) Hurry(name string) { e.feed.Hurry(name) }

// Advances are the signals of this engine's handlers finishing batches.
func (e *Engine) Advances() *Advances { return &e.advances }

// Linger lets a consumer's live batches gather events for up to d after
// their first, for consumers nobody waits on to the millisecond (mail,
// webhooks, the publisher): they then take a few events a transaction.
// decodes names the event types the consumer decodes from a batch's
// records (nil: all; see Topic.Decodes). Call it before Run.
func (e *Engine) Linger(name string, d time.Duration, decodes func(eventType string) bool) {
	e.feed.serveAlso(name, func(t *Topic) { t.Hold, t.Decodes = func(Batch) time.Duration { return d }, decodes })
}

// MovesBack says the named consumer may move its checkpoint back
// (MoveBack; see Topic.MovesBack). Call it before Run.
func (e *Engine) MovesBack(name string) {
	e.feed.serveAlso(name, func(t *Topic) { t.MovesBack = true })
}

// DecodesNone is the Decodes of a consumer that reads records' raw data
// only (webhooks, the publisher).
func DecodesNone(string) bool { return false }

// Observe reports every handler's failures to a monitor; call it before
// adding handlers.
func (e *Engine) Observe(m *Monitor) { e.monitor = m }

// Run blocks until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	for _, p := range e.deferring {
		go e.makePendingIndexes(ctx, p)
	}
	return e.router.Run(ctx)
}

// Running is closed once every handler runs.
func (e *Engine) Running() chan struct{} { return e.router.Running() }

// IsRunning reports whether the router runs.
func (e *Engine) IsRunning() bool { return e.router.IsRunning() }

// Prepare gives every projector its first build, and starts building, in
// the background, a new version a projector declares; its handler waits
// until that build is switched in (the old build stays readable, without
// advancing, meanwhile). Run it before Run.
func (e *Engine) Prepare(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, log *slog.Logger, ps ...Versioned) error {
	for _, p := range ps {
		active, newer, err := EnsureOver(ctx, pool, store, p)
		if err != nil {
			return fmt.Errorf("projector %s: %w", p.Name(), err)
		}
		if !newer {
			go func() {
				if err := AddDeclaredIndexes(ctx, pool, p); err != nil && ctx.Err() == nil {
					log.Warn("adding a declared index failed; the next start tries again", "projector", p.Name(), "error", err)
				}
			}()
			continue
		}
		log.Warn("projector declares a new version: building it beside the live one", "projector", p.Name(), "active", active.Version, "version", p.Version())
		go buildInBackground(ctx, pool, store, log, p)
	}
	return nil
}

// errNewerActive: the active build is of a newer version than the code's
// (Rebuild refuses it).
var errNewerActive = errors.New("newer than this binary's")

// buildRetry is the pause after a failed background build of a new
// version, doubled after each failure up to buildRetryMax.
var buildRetry = 5 * time.Second

const buildRetryMax = 5 * time.Minute

// buildInBackground builds p's new version (buildOnce) until it is built.
// A build that failed once (the database restarted, a connection cut)
// was not tried again: the projector's handler waited for it, and the
// read model stood still until someone restarted the instance. Only an
// active build of a newer version, which this release cannot replace,
// ends the tries.
func buildInBackground(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, log *slog.Logger, p Versioned) {
	for wait := buildRetry; ; wait = min(2*wait, buildRetryMax) {
		a, built, err := buildOnce(ctx, pool, store, p)
		switch {
		case err == nil && built:
			log.Info("switched to the new version", "projector", p.Name(), "schema", a.Schema)
			return
		case err == nil:
			log.Info("another instance built the new version", "projector", p.Name(), "schema", a.Schema)
			return
		case ctx.Err() != nil:
			return
		case errors.Is(err, errNewerActive):
			log.Error("building the new version failed", "projector", p.Name(), "error", err)
			return
		}
		log.Error("building the new version failed; trying again", "projector", p.Name(), "in", wait, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// buildOnce builds p's version unless another instance has. Instances of
// a new release that started together each built it, every build a
// catch-up over the whole log taking the cores from the others, and each
// switched to its own in turn. Now the instance holding the version's
// build lease builds it; the others wait for the lease, and find the
// version active once they get it (or build it, when the builder died or
// stopped before its switch). built says whether this call switched.
func buildOnce(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned) (a Active, built bool, err error) {
	lctx, release, err := lease(ctx, pool, fmt.Sprintf("build:%s:%d", p.Name(), p.Version()), nil)
	if err != nil {
		return Active{}, false, err
	}
	defer release()
	if a, err := ActiveBuild(lctx, pool, p.Name()); err != nil || a.Version == p.Version() {
		return a, false, err
	}
	a, err = Rebuild(lctx, pool, store, p, nil)
	return a, err == nil, err
}
