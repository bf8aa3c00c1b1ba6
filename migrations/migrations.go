// Package migrations holds the numbered SQL files of every PostgreSQL schema
// bizcenter owns (the event store and the read models), embedded in the
// binary and applied with goose.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Files are the migrations, exported so test harnesses can tell when they change.
//
//go:embed *.sql
var Files embed.FS

func provider(db *sql.DB) (*goose.Provider, error) {
	return goose.NewProvider(goose.DialectPostgres, db, Files)
}

// Up applies every migration not yet applied. Concurrent callers (several
// instances starting at once) are serialised by a session lock.
func Up(ctx context.Context, db *sql.DB) error {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, Files, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Pending reports how many migrations are not applied yet.
func Pending(ctx context.Context, db *sql.DB) (int, error) {
	_, pending, err := count(ctx, db)
	return pending, err
}

// count reports how many of this binary's migrations are applied, and how
// many are not yet.
func count(ctx context.Context, db *sql.DB) (applied, pending int, err error) {
	p, err := provider(db)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: %w", err)
	}
	status, err := p.Status(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migration status: %w", err)
	}
	for _, s := range status {
		if s.State == goose.StatePending {
			pending++
		} else {
			applied++
		}
	}
	return applied, pending, nil
}

// ErrBehind: the database was migrated by an older release, and an
// operator command of this one found migrations pending.
var ErrBehind = errors.New("the database is behind this binary's migrations")

// UpIfNew migrates a new database (none of the migrations applied), and
// refuses one an older release migrated, with ErrBehind: an operator
// command of a newer binary (projections status, an export) run against
// the database a running release uses would otherwise migrate it under
// that release, which only `migrate`, or `serve` of the new release, is
// asked to do.
func UpIfNew(ctx context.Context, db *sql.DB) error {
	applied, pending, err := count(ctx, db)
	switch {
	case err != nil:
		return err
	case applied == 0:
		return Up(ctx, db)
	case pending > 0:
		return fmt.Errorf("%w: %d migrations pending; run `bizcenter migrate` with this binary first, or use the binary of the release that runs", ErrBehind, pending)
	}
	return nil
}

// Versions are the database's migration version and the last of this
// binary's: a database ahead of the binary was migrated by a newer
// release, which the older one runs beside during a rolling deploy (or
// after a roll back) with nothing to apply.
func Versions(ctx context.Context, db *sql.DB) (database, binary int64, err error) {
	p, err := provider(db)
	if err != nil {
		return 0, 0, fmt.Errorf("migrations: %w", err)
	}
	if database, err = p.GetDBVersion(ctx); err != nil {
		return 0, 0, fmt.Errorf("migration version: %w", err)
	}
	sources := p.ListSources()
	return database, sources[len(sources)-1].Version, nil
}
