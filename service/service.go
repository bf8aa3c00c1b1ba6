// Package service assembles one bizcenter process: the event store, the
// command handlers, the projection engine with its projectors and mailer,
// and the HTTP server with the command, read and operations routes.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/esdb"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/httpapi"
	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/migrations"
	"github.com/bizcenter/bizcenter/projections"
	"github.com/bizcenter/bizcenter/readapi"
)

// Config is everything a process needs, already validated by cmd.
type Config struct {
	DatabaseURL string
	// EventStoreURL selects EventStoreDB (esdb://...); empty keeps events
	// in PostgreSQL at DatabaseURL.
	EventStoreURL string
	JWTSecret     []byte
	// InvitationKey derives invitation tokens.
	InvitationKey []byte
	Clock         clock.Clock
	Mail          mailer.Sender
	MailFrom      string
	// PublicURL is where people reach the service (accept links).
	PublicURL string
	Log       *slog.Logger
}

// Service is one running process.
type Service struct {
	cfg      Config
	pool     *pgxpool.Pool
	store    eventstore.Store
	engine   *projections.Engine
	server   *httpapi.Server
	Commands httpapi.Commands
}

// New connects, migrates, and wires everything; nothing runs until Run.
func New(ctx context.Context, cfg Config) (*Service, error) {
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	s := &Service{cfg: cfg, pool: pool}
	if err := s.wire(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Service) wire(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	if err := migrations.Up(ctx, db); err != nil {
		return err
	}
	store, err := openStore(ctx, s.cfg, s.pool)
	if err != nil {
		return err
	}
	s.store = store
	log := s.cfg.Log

	engine, err := projections.NewEngine(projections.NewFeed(store, s.pool, log), log)
	if err != nil {
		return err
	}
	engine.AddProjector(s.pool, projections.Users{})
	mail := &mailer.Consumer{Pool: s.pool, Sender: s.cfg.Mail, TokenKey: s.cfg.InvitationKey, Clock: s.cfg.Clock, BaseURL: s.cfg.PublicURL, From: s.cfg.MailFrom, Log: log}
	if err := mail.Validate(); err != nil {
		return fmt.Errorf("mailer: %w", err)
	}
	engine.AddConsumer(mailer.Name, mail.Handle)
	s.engine = engine

	deps := commands.Deps{Store: store, Clock: s.cfg.Clock, TokenKey: s.cfg.InvitationKey}
	s.Commands = httpapi.NewCommands(deps, log)
	// Tokens expire by the real clock: a fixed or shifted demo clock is for
	// business rules, not for authentication.
	verifier := auth.NewVerifier(s.cfg.JWTSecret, nil)
	s.server = httpapi.New(verifier, log,
		httpapi.CommandRoutes(s.Commands, log),
		readapi.Routes(readapi.Deps{Pool: s.pool, Clock: s.cfg.Clock}),
		httpapi.OpsRoutes(s.ready),
	)
	return nil
}

func openStore(ctx context.Context, cfg Config, pool *pgxpool.Pool) (eventstore.Store, error) {
	if cfg.EventStoreURL == "" {
		return postgres.New(pool, postgres.Config{}), nil
	}
	if !strings.HasPrefix(cfg.EventStoreURL, "esdb://") && !strings.HasPrefix(cfg.EventStoreURL, "esdb+discover://") {
		return nil, errors.New("EVENTSTORE_URL must be an esdb:// or esdb+discover:// URL")
	}
	store, err := esdb.New(ctx, cfg.EventStoreURL, esdb.WithLogger(cfg.Log))
	if err != nil {
		return nil, fmt.Errorf("eventstoredb: %w", err)
	}
	return store, nil
}

// Handler is the HTTP API.
func (s *Service) Handler() http.Handler { return s.server }

// Server exposes the HTTP server (routes, OpenAPI) to tests.
func (s *Service) Server() *httpapi.Server { return s.server }

// Store is the event store in use.
func (s *Service) Store() eventstore.Store { return s.store }

// Pool is the PostgreSQL pool of the read models.
func (s *Service) Pool() *pgxpool.Pool { return s.pool }

// ready is the /readyz check.
func (s *Service) ready(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	pending, err := migrations.Pending(ctx, db)
	if err != nil {
		return err
	}
	if pending > 0 {
		return fmt.Errorf("%d migrations not applied", pending)
	}
	if !s.engine.IsRunning() {
		return errors.New("projectors are not running")
	}
	return nil
}

// RunProjections runs the projection engine until ctx ends.
func (s *Service) RunProjections(ctx context.Context) error { return s.engine.Run(ctx) }

// ProjectionsRunning is closed once the projectors run.
func (s *Service) ProjectionsRunning() <-chan struct{} { return s.engine.Running() }

// Serve runs projections and the HTTP server on l until ctx ends, then
// shuts down gracefully.
func (s *Service) Serve(ctx context.Context, l net.Listener) error {
	errs := make(chan error, 2)
	go func() { errs <- s.engine.Run(ctx) }()
	srv := &http.Server{Handler: s.server, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			errs <- err
		}
	}()
	select {
	case <-ctx.Done():
	case err := <-errs:
		if err != nil {
			return err
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// Close releases the store and the pool.
func (s *Service) Close() {
	_ = s.store.Close()
	s.pool.Close()
}
