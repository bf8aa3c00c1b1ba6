package service

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/pgtypes"
	"github.com/bizcenter/bizcenter/migrations"
	"github.com/bizcenter/bizcenter/projections"
)

// Projectors are the read models this binary builds, by name.
func Projectors() map[string]projections.Versioned {
	users, audit, partners, billing := projections.Users{}, projections.Audit{}, projections.Partners{}, projections.Billing{}
	licenses := projections.Licenses{}
	return map[string]projections.Versioned{users.Name(): users, audit.Name(): audit, partners.Name(): partners, billing.Name(): billing,
		licenses.Name(): licenses}
}

// ProjectorNames lists Projectors' names, sorted.
func ProjectorNames() []string {
	var names []string
	for n := range Projectors() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Tools is what operator commands need: the database and the event store,
// without serving anything.
type Tools struct {
	Pool  *pgxpool.Pool
	Store eventstore.Store
}

// OpenTools connects. It migrates a new database, and refuses one an
// older release migrated (migrations.UpIfNew).
func OpenTools(ctx context.Context, cfg Config) (*Tools, error) {
	pcfg, err := poolConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	err = migrations.UpIfNew(ctx, db)
	db.Close()
	if err != nil {
		pool.Close()
		return nil, err
	}
	store, err := openStore(ctx, cfg, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &Tools{Pool: pool, Store: store}, nil
}

// Close releases the store and the pool.
func (t *Tools) Close() {
	_ = t.Store.Close()
	t.Pool.Close()
}

// connectTimeout bounds a connection attempt whose DATABASE_URL sets no
// connect_timeout: a host that does not answer would otherwise hold a
// start, or an operator's command, for the system's own limit (about two
// minutes on Linux) before it said anything.
const connectTimeout = 10 * time.Second

// poolConfig parses DATABASE_URL for a pool: UUIDs as pguuid has them,
// times scanned in UTC (pgutc), and connectTimeout unless the URL says
// otherwise.
func poolConfig(databaseURL string) (*pgxpool.Config, error) {
	pcfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if pcfg.ConnConfig.ConnectTimeout == 0 {
		pcfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pgtypes.Register(pcfg)
	return pcfg, nil
}
