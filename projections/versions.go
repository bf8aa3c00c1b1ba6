package projections

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Versioned is a projector whose read model can be rebuilt beside the live
// one: its tables are created from Schema in a schema of their own per
// build, and readers read them through views of the same names.
type Versioned interface {
	Projector
	// Version changes whenever the tables or what Apply writes change.
	Version() int
	// Schema is the DDL of the read model's tables, run in an empty schema
	// (unqualified names).
	Schema() string
	// Tables are the tables readers read (each gets a public view).
	Tables() []string
}

// Active is the build readers see.
type Active struct {
	Schema  string
	Version int
}

// ErrNoVersion: the projector has no build yet.
var ErrNoVersion = errors.New("no read model version")

type queryRower interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}

// ActiveBuild reads the build readers of a projector see.
func ActiveBuild(ctx context.Context, db queryRower, name string) (Active, error) {
	var a Active
	err := db.QueryRow(ctx, `SELECT active_schema, version FROM projection_versions WHERE name = $1`, name).Scan(&a.Schema, &a.Version)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("projector %s: %w", name, ErrNoVersion)
	}
	return a, err
}

// LiveCheckpoint is the checkpoint of the build readers see (Start when
// there is none yet).
func LiveCheckpoint(ctx context.Context, db queryRower, name string) (eventstore.Position, error) {
	_, at, err := activeAt(ctx, db, name)
	if errors.Is(err, ErrNoVersion) {
		return eventstore.Start, nil
	}
	return at, err
}

// activeAt reads the active build with its checkpoint in one statement.
// Read in two, a switch committed between them left the second reading
// the checkpoint of a build just dropped: Start, a whole log behind.
func activeAt(ctx context.Context, db queryRower, name string) (Active, eventstore.Position, error) {
	var a Active
	var commit, prepare *int64
	err := db.QueryRow(ctx, `
		SELECT v.active_schema, v.version, c.commit_pos, c.prepare_pos
		  FROM projection_versions v LEFT JOIN projection_checkpoints c ON c.name = v.active_schema
		 WHERE v.name = $1`, name).Scan(&a.Schema, &a.Version, &commit, &prepare)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return a, eventstore.Start, fmt.Errorf("projector %s: %w", name, ErrNoVersion)
	case err != nil:
		return a, eventstore.Start, fmt.Errorf("projector %s: active build: %w", name, err)
	case commit == nil || prepare == nil:
		return a, eventstore.Start, nil
	}
	return a, eventstore.Position{Commit: uint64(*commit), Prepare: uint64(*prepare)}, nil
}

// Ensure gives a projector its first build when it has none, and tells
// whether the code declares a newer version than the active build.
// Concurrent callers (several instances starting) are serialised.
func Ensure(ctx context.Context, pool *pgxpool.Pool, p Versioned) (Active, bool, error) {
	return ensure(ctx, pool, p, false)
}

// EnsureOver is Ensure for a projector the engine is about to catch up
// with store's log: when the log holds events, a first build of a
// ReadIndexes projector defers its readers' indexes until the engine has
// caught it up (see makePendingIndexes). On an empty log there is
// nothing to catch up, and no batch would come to make them.
func EnsureOver(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned) (Active, bool, error) {
	first, err := store.ReadAll(ctx, eventstore.Start, 1)
	if err != nil {
		return Active{}, false, err
	}
	return ensure(ctx, pool, p, len(first) > 0)
}

func ensure(ctx context.Context, pool *pgxpool.Pool, p Versioned, deferring bool) (Active, bool, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return Active{}, false, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('projection:' || $1, 0))`, p.Name()); err != nil {
		return Active{}, false, err
	}
	a, err := ActiveBuild(ctx, tx, p.Name())
	if err == nil {
		return a, a.Version < p.Version(), tx.Commit(ctx)
	}
	if !errors.Is(err, ErrNoVersion) {
		return Active{}, false, err
	}
	a = Active{Schema: schemaName(p), Version: p.Version()}
	tables, indexes := p.Schema(), []string(nil)
	if deferring {
		tables, indexes = indexesApart(p)
	}
	if err := createTables(ctx, tx, a.Schema, tables); err != nil {
		return Active{}, false, err
	}
	// Made once the engine has caught the build up (see
	// makePendingIndexes); readers meanwhile read without them.
	if err := deferIndexes(ctx, tx, a.Schema, indexes); err != nil {
		return Active{}, false, err
	}
	if err := publish(ctx, tx, p, a); err != nil {
		return Active{}, false, err
	}
	return a, false, tx.Commit(ctx)
}

// schemaName names a new build: rm_<name>_v<version>_<random>.
func schemaName(p Versioned) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "rm_" + p.Name() + "_v" + strconv.Itoa(p.Version()) + "_" + hex.EncodeToString(b)
}

// createTables makes a build's schema and runs ddl in it.
func createTables(ctx context.Context, tx pgx.Tx, schema, ddl string) error {
	if _, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("create %s: %w", schema, err)
	}
	if err := setSchema(ctx, tx, schema); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("create tables of %s: %w", schema, err)
	}
	_, err := tx.Exec(ctx, `RESET search_path`)
	return err
}

// publish points the public views at a build and records it as active.
func publish(ctx context.Context, tx pgx.Tx, p Versioned, a Active) error {
	for _, t := range p.Tables() {
		view := pgx.Identifier{"public", t}.Sanitize()
		if _, err := tx.Exec(ctx, `DROP VIEW IF EXISTS `+view); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE VIEW `+view+` AS SELECT * FROM `+pgx.Identifier{a.Schema, t}.Sanitize()); err != nil {
			return fmt.Errorf("view %s: %w", t, err)
		}
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO projection_versions (name, active_schema, version) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET active_schema = $2, version = $3, switched_at = now()`,
		p.Name(), a.Schema, a.Version)
	return err
}

// execer is a pool, a connection or a transaction.
type execer interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}

// dropBuild removes a build's schema and checkpoint.
func dropBuild(ctx context.Context, pool execer, schema string) error {
	if _, err := pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		return fmt.Errorf("drop %s: %w", schema, err)
	}
	_, err := pool.Exec(ctx, `DELETE FROM projection_checkpoints WHERE name = $1`, schema)
	for _, table := range []string{"projection_builds", "projection_deferred_indexes"} {
		if err == nil {
			_, err = pool.Exec(ctx, `DELETE FROM `+table+` WHERE schema_name = $1`, schema)
		}
	}
	return err
}
