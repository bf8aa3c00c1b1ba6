package projections

import (
	"context"
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
	router  *message.Router
	feed    *Feed
	monitor *Monitor
}

// NewEngine makes an engine over a feed.
func NewEngine(feed *Feed, log *slog.Logger) (*Engine, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermill.NewSlogLogger(log))
	if err != nil {
		return nil, fmt.Errorf("projection router: %w", err)
	}
	return &Engine{router: router, feed: feed}, nil
}

// AddProjector runs a projector under its permanent name.
func (e *Engine) AddProjector(pool *pgxpool.Pool, p Versioned) {
	e.AddConsumer(p.Name(), Handler(pool, p))
}

// AddConsumer runs any handler of the feed under a permanent name that is
// also its checkpoint key (the handler saves its own checkpoint).
func (e *Engine) AddConsumer(name string, h message.NoPublishHandlerFunc) {
	if m := e.monitor; m != nil {
		next := h
		h = func(msg *message.Message) error {
			err := next(msg)
			m.Observe(name, err)
			return err
		}
	}
	e.router.AddConsumerHandler(name, name, e.feed, h)
}

// Linger lets a consumer's live batches gather events for up to d (see
// Feed.Linger); call it before Run.
func (e *Engine) Linger(name string, d time.Duration) { e.feed.Linger(name, d) }

// Observe reports every handler's failures to a monitor; call it before
// adding handlers.
func (e *Engine) Observe(m *Monitor) { e.monitor = m }

// Run blocks until ctx ends.
func (e *Engine) Run(ctx context.Context) error { return e.router.Run(ctx) }

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
		active, newer, err := Ensure(ctx, pool, p)
		if err != nil {
			return fmt.Errorf("projector %s: %w", p.Name(), err)
		}
		if !newer {
			continue
		}
		log.Warn("projector declares a new version: building it beside the live one", "projector", p.Name(), "active", active.Version, "version", p.Version())
		go func() {
			a, err := Rebuild(ctx, pool, store, p, nil)
			if err != nil {
				log.Error("building the new version failed", "projector", p.Name(), "error", err)
				return
			}
			log.Info("switched to the new version", "projector", p.Name(), "schema", a.Schema)
		}()
	}
	return nil
}
