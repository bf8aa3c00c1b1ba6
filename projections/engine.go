package projections

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Engine is the watermill router that runs every projector and consumer
// of the feed in one process.
type Engine struct {
	router *message.Router
	feed   *Feed
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
func (e *Engine) AddProjector(pool *pgxpool.Pool, p Projector) {
	e.AddConsumer(p.Name(), Handler(pool, p))
}

// AddConsumer runs any handler of the feed under a permanent name that is
// also its checkpoint key (the handler saves its own checkpoint).
func (e *Engine) AddConsumer(name string, h message.NoPublishHandlerFunc) {
	e.router.AddConsumerHandler(name, name, e.feed, h)
}

// Run blocks until ctx ends.
func (e *Engine) Run(ctx context.Context) error { return e.router.Run(ctx) }

// Running is closed once every handler runs.
func (e *Engine) Running() chan struct{} { return e.router.Running() }

// IsRunning reports whether the router runs.
func (e *Engine) IsRunning() bool { return e.router.IsRunning() }
