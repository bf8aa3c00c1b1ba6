// Package service assembles one bizcenter process: the event store, the
// command handlers, the projection engine with its projectors and mailer,
// and the HTTP server with the command, read and operations routes.
package service

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/esdb"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/httpapi"
	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/integration"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/migrations"
	"github.com/bizcenter/bizcenter/payment"
	"github.com/bizcenter/bizcenter/personal"
	"github.com/bizcenter/bizcenter/projections"
	"github.com/bizcenter/bizcenter/readapi"
	"github.com/bizcenter/bizcenter/tracing"
	"github.com/bizcenter/bizcenter/webhooks"
)

// Config is everything a process needs, already validated by cmd.
type Config struct {
	DatabaseURL string
	// EventStoreURL selects EventStoreDB (esdb://...); empty keeps events
	// in PostgreSQL at DatabaseURL.
	EventStoreURL string
	// MaxAppendSize is the EventStoreDB server's MaxAppendSize in
	// bytes (0: its default, 1 MiB).
	MaxAppendSize int
	JWTSecret     []byte
	// OIDCIssuer and OIDCAudience, when the issuer is set, also accept that
	// issuer's access tokens (auth.OIDCVerifier).
	OIDCIssuer   string
	OIDCAudience string
	// OIDCEmailsVerified: the issuer's email claims are all verified, so
	// one without email_verified counts (auth.OIDCConfig.EmailsVerified).
	OIDCEmailsVerified bool
	// InvitationKey derives invitation tokens.
	InvitationKey []byte
	Clock         clock.Clock
	Mail          mailer.Sender
	MailFrom      string
	// PublicURL is where people reach the service (accept links).
	PublicURL string
	Log       *slog.Logger
	// SweepInterval is how often expired invitations are recorded
	// (default one minute).
	SweepInterval time.Duration
	// StallAfter is how long a projector may sit still while the log
	// moves before it counts as stalled (default 30 seconds).
	StallAfter time.Duration
	// IdempotencyTTL is how long the answer to a request with an
	// Idempotency-Key is kept (default 24 hours).
	IdempotencyTTL time.Duration
	// Payments vaults the cards of billing profiles (nil: the local test
	// provider, payment.Local, on Clock).
	Payments payment.Provider
	// Integration configures the integration events: the broker the
	// publisher sends to, webhooks and tracing (integration.go).
	Integration IntegrationConfig
	// RequestReadTimeout bounds the reading of a request, headers and body
	// (default 30 seconds), and IdleTimeout how long a kept-alive
	// connection waits for its next request (default two minutes):
	// without them a client that sends its body a byte at a time, or
	// nothing at all, holds a connection and its goroutine for good.
	RequestReadTimeout time.Duration
	IdleTimeout        time.Duration
}

// Service is one running process.
type Service struct {
	cfg   Config
	pool  *pgxpool.Pool
	store eventstore.Store
	// orders names ordering partners for the feed, the webhooks and the
	// publisher alike, each subscription read once.
	orders   *integration.Orders
	engine   *projections.Engine
	server   *httpapi.Server
	resends  *httpapi.ResendRequests
	Monitor  *projections.Monitor
	Sweeper  *Sweeper
	Commands httpapi.Commands
	// Licenses are the license commands (licenses.go).
	Licenses httpapi.LicenseCommands
	// closers release what the integration wiring opened (integration.go)
	// and the locks' pools.
	closers []func() error
	// Webhooks posts the queued webhook deliveries (integration.go).
	Webhooks *webhooks.Worker
	// stopping is closed when Serve begins to shut down: the feeds that
	// follow the log end then (see Serve).
	stopping     chan struct{}
	stoppingOnce sync.Once
}

// New connects, migrates, and wires everything; nothing runs until Run.
func New(ctx context.Context, cfg Config) (*Service, error) {
	pcfg, err := poolConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	// Each feed topic this instance leads holds a connection for good,
	// and a projector's batch takes another while it applies (all of them
	// at once when the builds are locked); beyond those, about twice the
	// cores serve requests best. The consumers (mailer, webhooks, ...) are
	// counted as four topics.
	pcfg.MaxConns = max(pcfg.MaxConns, 12, int32(2*len(ProjectorNames())+4+4))
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	s := &Service{cfg: cfg, pool: pool, stopping: make(chan struct{})}
	if err := s.wire(ctx); err != nil {
		for _, c := range s.closers {
			_ = c()
		}
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
	s.orders = integration.NewOrders(store, s.cfg.Log)
	log := s.cfg.Log

	// What commands seal, the projectors of this process open without
	// fetching the key again (personal.Recent).
	recent := personal.NewRecent()
	feed := projections.NewFeed(store, s.pool, log)
	feed.Recent = recent
	engine, err := projections.NewEngine(feed, log)
	if err != nil {
		return err
	}
	stallAfter := s.cfg.StallAfter
	if stallAfter <= 0 {
		stallAfter = 30 * time.Second
	}
	s.Monitor = projections.NewMonitor(s.pool, store, stallAfter, ProjectorNames()...)
	s.Monitor.Topics = append(s.Monitor.Topics, mailer.Name)
	engine.Observe(s.Monitor)
	projectors := Projectors()
	for _, name := range ProjectorNames() {
		if err := engine.Prepare(ctx, s.pool, store, log, projectors[name]); err != nil {
			return err
		}
		engine.AddProjector(s.pool, projectors[name])
	}
	mail := &mailer.Consumer{Pool: s.pool, Store: store, Sender: s.cfg.Mail, TokenKey: s.cfg.InvitationKey, Clock: s.cfg.Clock, BaseURL: s.cfg.PublicURL, From: s.cfg.MailFrom, Log: log,
		Stopping: s.stopping}
	if err := mail.Validate(); err != nil {
		return fmt.Errorf("mailer: %w", err)
	}
	engine.AddConsumer(mailer.Name, mail.Handle)
	engine.Linger(mailer.Name, sideEffectLinger, nil)
	engine.MovesBack(mailer.Name) // it puts emails back while the relay is away
	if err := s.wireIntegration(engine); err != nil {
		return err
	}
	s.engine = engine

	// The embedded store appends in this pool's cluster: its appends
	// flush a new key's insert (see FlushedByAppends).
	keys := personal.Keys{DB: s.pool, Recent: recent, FlushedByAppends: s.cfg.EventStoreURL == ""}
	accountLocks, partnerLocks, closeLocks, err := openSerials(ctx, s.pool)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, func() error { closeLocks(); return nil })
	deps := commands.Deps{Store: store, Clock: s.cfg.Clock, TokenKey: s.cfg.InvitationKey, Personal: keys, Holders: commands.NewHolders(),
		PartnerSerial: partnerLocks, AccountSerial: accountLocks, PackageTurns: memorySerial{&turns{}}}
	lic, err := s.licensing(deps)
	if err != nil {
		return err
	}
	s.Commands = httpapi.NewCommands(deps, lic, log)
	s.resends = httpapi.NewResendRequests(s.Commands.RequestResend, log)
	interval := s.cfg.SweepInterval
	if interval <= 0 {
		interval = time.Minute
	}
	s.Sweeper = &Sweeper{Pool: s.pool, Clock: s.cfg.Clock, Record: s.Commands.RecordExpiry,
		RecordSubscription: s.Commands.RecordSubscriptionExpiry, Erase: s.Commands.FinishErasure, Interval: interval, Log: log}
	licenses := s.licenseRoutes(deps, lic)
	verifier, err := authenticator(s.cfg)
	if err != nil {
		return err
	}
	s.server = httpapi.New(verifier, log,
		httpapi.CommandRoutes(s.Commands, log),
		licenses,
		httpapi.BillingRoutes(httpapi.NewBillingCommands(deps, s.payments(), log), log),
		[]kit.Route{s.resends.Route()},
		s.readRoutes(deps),
		httpapi.OpsRoutes(s.ready),
		httpapi.AdminRoutes(s.Monitor, s.pool, Projectors(), log),
		httpapi.AuditRoutes(store, keys.Opener, s.cfg.Clock),
		s.integrationRoutes(deps),
	)
	s.server.UseIdempotency(httpapi.NewIdempotencyKeys(s.pool, httpapi.IdempotencyConfig{TTL: s.cfg.IdempotencyTTL, HashKey: idempotencyHashKey(s.cfg.InvitationKey), Log: log}))
	s.server.Registry().MustRegister(s.Monitor.Collector(), s.resends.Collector())
	return nil
}

// authenticator accepts dev tokens and, when an issuer is configured, its
// access tokens. Tokens expire by the real clock: a fixed or shifted demo
// clock is for business rules, not for authentication.
func authenticator(cfg Config) (auth.Authenticator, error) {
	dev := auth.NewVerifier(cfg.JWTSecret, nil)
	if cfg.OIDCIssuer == "" {
		return auth.NewChain(dev, nil), nil
	}
	oidc, err := auth.NewOIDCVerifier(auth.OIDCConfig{Issuer: cfg.OIDCIssuer, Audience: cfg.OIDCAudience, EmailsVerified: cfg.OIDCEmailsVerified, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	return auth.NewChain(dev, oidc), nil
}

// CheckEventStoreURL refuses an EVENTSTORE_URL that is no EventStoreDB
// URL (empty: events in PostgreSQL). The programs call it before they
// connect to anything, so that the mistake costs no connection.
func CheckEventStoreURL(url string) error {
	if url != "" && !strings.HasPrefix(url, "esdb://") && !strings.HasPrefix(url, "esdb+discover://") {
		return errors.New("EVENTSTORE_URL must be an esdb:// or esdb+discover:// URL")
	}
	return nil
}

func openStore(ctx context.Context, cfg Config, pool *pgxpool.Pool) (eventstore.Store, error) {
	if cfg.EventStoreURL == "" {
		store, err := postgres.Open(ctx, pool, postgres.Config{})
		if err != nil {
			return nil, err
		}
		return store, nil
	}
	if err := CheckEventStoreURL(cfg.EventStoreURL); err != nil {
		return nil, err
	}
	opts := []esdb.Option{esdb.WithLogger(cfg.Log)}
	if cfg.MaxAppendSize > 0 {
		opts = append(opts, esdb.WithMaxAppendSize(cfg.MaxAppendSize))
	}
	store, err := esdb.New(ctx, cfg.EventStoreURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("eventstoredb: %w", err)
	}
	return store, nil
}

// Handler is the HTTP API.
func (s *Service) Handler() http.Handler { return tracing.HTTP(s.server) }

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
	if p, ok := s.store.(pinger); ok {
		// EventStoreDB: every command needs it, and the projectors
		// stand still without it (PostgreSQL's store is the pool above).
		if err := p.Ping(ctx); err != nil {
			return fmt.Errorf("event store unreachable: %w", err)
		}
	}
	if !s.engine.IsRunning() {
		return errors.New("projectors are not running")
	}
	return s.Monitor.Stalled()
}

// pinger is an event store apart from the read models' database, which
// /readyz checks as it checks that database.
type pinger interface {
	Ping(ctx context.Context) error
}

// RunProjections runs the projection engine, and the background work that
// follows the events (resend requests, the expiry sweeper, the webhook
// worker), until ctx ends. It returns once the webhook worker has
// recorded the posts it had in flight, or given back those the stop cut
// short: returning before, the process closed the pool under it and
// exited, and a delivery the endpoint had taken stayed claimed, to be
// sent again when the claim lapsed.
func (s *Service) RunProjections(ctx context.Context) error {
	go s.resends.Run(ctx)
	go s.Sweeper.Run(ctx)
	go s.Monitor.Run(ctx)
	// The worker stops with the engine, also when the engine fails first.
	hooksCtx, stopHooks := context.WithCancel(ctx)
	var hooks sync.WaitGroup
	hooks.Go(func() { s.Webhooks.Run(hooksCtx) })
	defer hooks.Wait()
	defer stopHooks()
	return s.engine.Run(ctx)
}

// ProjectionsRunning is closed once the projectors run.
func (s *Service) ProjectionsRunning() <-chan struct{} { return s.engine.Running() }

// Serve runs projections and the HTTP server on l until ctx ends, then
// shuts down gracefully: the server first, then the projections, whose
// handlers finish their batches. It returns once both have stopped, so
// that the process exits (and Close closes the pool) only after the
// mails a consumer claimed have gone out: returning after the server
// alone, a SIGTERM left them pending, never sent.
func (s *Service) Serve(ctx context.Context, l net.Listener) error {
	projected := make(chan error, 1)
	go func() { projected <- s.RunProjections(ctx) }()
	// ReadTimeout bounds the body as well as the headers; the server lifts
	// it once a request is read, so a feed streams past it. No
	// WriteTimeout: it would cut the feed.
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: cmp.Or(s.cfg.RequestReadTimeout, 30*time.Second), IdleTimeout: cmp.Or(s.cfg.IdleTimeout, 2*time.Minute)}
	// Shutdown waits for every request to end, and a feed that follows
	// the log never ends by itself: each would hold the shutdown for its
	// whole grace period and make it fail. The feeds end when it begins;
	// their clients reconnect with Last-Event-ID.
	srv.RegisterOnShutdown(func() { s.stoppingOnce.Do(func() { close(s.stopping) }) })
	served := make(chan error, 1)
	go func() {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			served <- err
		}
	}()
	select {
	case <-ctx.Done():
	case err := <-served:
		return err
	case err := <-projected:
		if err != nil {
			return err
		}
		projected <- nil // stopped: nothing to wait for below
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	select {
	case perr := <-projected:
		return errors.Join(err, perr)
	case <-shutdown.Done():
		return errors.Join(err, errors.New("projections still stopping after 15s"))
	}
}

// Close releases the store and the pool.
func (s *Service) Close() {
	for _, c := range s.closers {
		_ = c()
	}
	_ = s.store.Close()
	s.pool.Close()
}

// readRoutes are the read API's routes, with sign-in activation on
// GET /v1/me.
func (s *Service) readRoutes(deps commands.Deps) []kit.Route {
	signIn := commands.Logged("SignIn", s.cfg.Log, commands.SignInHandler(deps, s.pendingByEmail))
	routes := readapi.Routes(s.readDeps())
	for i, r := range routes {
		if r.Method == http.MethodGet && r.Path == "/v1/me" {
			routes[i] = httpapi.SignInOn(r, signIn, s.cfg.Log)
		}
	}
	return routes
}

// readDeps are what the read API needs, and what a command waiting for a
// read model does (licenseLookup).
func (s *Service) readDeps() readapi.Deps {
	return readapi.Deps{Pool: s.pool, Clock: s.cfg.Clock, Advanced: s.engine.Advances().Next, Hurry: s.engine.Hurry, PastHead: s.pastHead}
}

// pendingByEmail finds the users a first sign-in may activate.
func (s *Service) pendingByEmail(ctx context.Context, email string) ([]uuid.UUID, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_id FROM rm_users WHERE email_lower = $1 AND status = 'pending'`, email)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// idempotencyHashKey derives the key of kept request fingerprints from the
// service's invitation key, a secret every instance shares.
func idempotencyHashKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("bizcenter idempotency request fingerprint"))
	return m.Sum(nil)
}

// pastHead reports whether pos lies past the log's last event, from the
// store's head as the projection monitor reads it (counting the events
// after pos, none when it is past the head).
func (s *Service) pastHead(ctx context.Context, pos eventstore.Position) (bool, error) {
	l, ok := s.store.(projections.Lagger)
	if !ok {
		return false, errors.New("this event store tells no head")
	}
	head, _, _, err := l.Lag(ctx, pos)
	return err == nil && head.Less(pos), err
}
