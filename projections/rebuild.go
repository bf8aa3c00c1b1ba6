package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/personal"
)

// Progress is told, after each page, how many events a build has applied,
// and the total when the store can count it (0 when not).
type Progress func(done, total int64)

// Counter is a store that can count its events (for progress bars).
type Counter interface {
	Count(ctx context.Context) (int64, error)
}

// buildPage is how many events a build reads and applies per transaction.
const buildPage = 1000

// Rebuild builds a new version of a projector's read model beside the live
// one, from the start of the log, switches readers to it in one
// transaction once it has caught up with the live build, and drops the old
// one. Reads keep working throughout; the live build keeps advancing until
// the switch. Side effects never run: a build only writes its own tables.
//
// It refuses when the active build is of a newer version than p's: the
// instances of a newer release would wait behind an older build (see
// RollBack, for going back to an older release on purpose).
func Rebuild(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned, progress Progress) (Active, error) {
	if a, err := ActiveBuild(ctx, pool, p.Name()); err == nil && a.Version > p.Version() {
		return Active{}, fmt.Errorf("the active build of %s is version %d, newer than this binary's %d (to go back to this release's version, roll back)", p.Name(), a.Version, p.Version())
	}
	return rebuild(ctx, pool, store, p, "rebuild", progress)
}

// RollBack is Rebuild for going back to an older release: it builds p's
// version even when the active build is of a newer one, and switches to
// it. An older release's instances do not lead a projector whose active
// build is newer than their code (they cannot write it), so after a
// rollback that projector stands still until this has run; instances of
// the newer release, if any still run, wait behind the older build.
func RollBack(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned, progress Progress) (Active, error) {
	return rebuild(ctx, pool, store, p, "roll back", progress)
}

func rebuild(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned, purpose string, progress Progress) (Active, error) {
	tables, indexes := indexesApart(p)
	schema, err := startBuildWith(ctx, pool, p, purpose, tables)
	if err != nil {
		return Active{}, err
	}
	for {
		if err := build(ctx, pool, store, p, schema, nil, progress); err != nil {
			return Active{}, err
		}
		// Caught up (for now): the indexes readers need, before readers
		// may come.
		if err := createIndexes(ctx, pool, schema, indexes); err != nil {
			return Active{}, err
		}
		indexes = ""
		old, switched, err := switchTo(ctx, pool, store, p, schema)
		if err != nil {
			return Active{}, err
		}
		if switched {
			if old.Schema != "" {
				if err := dropBuild(ctx, pool, old.Schema); err != nil {
					return Active{}, err
				}
			}
			_, err := pool.Exec(ctx, `DELETE FROM projection_builds WHERE schema_name = $1`, schema)
			return Active{Schema: schema, Version: p.Version()}, err
		}
	}
}

// startBuild creates the schema and tables of a new build.
func startBuild(ctx context.Context, pool *pgxpool.Pool, p Versioned, purpose string) (string, error) {
	return startBuildWith(ctx, pool, p, purpose, p.Schema())
}

// startBuildWith is startBuild running ddl (p's Schema, or part of it).
func startBuildWith(ctx context.Context, pool *pgxpool.Pool, p Versioned, purpose, ddl string) (string, error) {
	schema := schemaName(p)
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := createTables(ctx, tx, schema, ddl); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO projection_builds (schema_name, name, version, purpose) VALUES ($1, $2, $3, $4)`,
			schema, p.Name(), p.Version(), purpose)
		return err
	})
	return schema, err
}

// build applies the log to a build, a page a transaction, until a page
// comes back empty or, when until is set, through that position.
func build(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Projector, schema string, until *eventstore.Position, progress Progress) error {
	var total int64
	if c, ok := store.(Counter); ok && progress != nil {
		total, _ = c.Count(ctx)
	}
	at, err := LoadCheckpoint(ctx, pool, schema)
	if err != nil {
		return err
	}
	skipped, err := skippedEvents(ctx, pool, p.Name())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	written := writtenTypes(p)
	var done int64
	for pg := range readPages(ctx, store, pool, at, until, written) {
		if pg.err != nil {
			return fmt.Errorf("build %s: %w", schema, pg.err)
		}
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return applyBatch(ctx, tx, p, schema, pg.records, pg.through, skipped)
		}); err != nil {
			return err
		}
		done += int64(len(pg.records))
		if progress != nil {
			progress(done, total)
		}
	}
	return ctx.Err()
}

// page is a page of the log read for a build.
type page struct {
	records []Record
	through eventstore.Position
	err     error
}

// readPages reads the log after at, up to until (nil: its end), a page
// at a time, and decodes the records of the types in decodes (see
// readAhead; keys holds the personal keys) while the build applies the
// page before.
func readPages(ctx context.Context, store eventstore.Store, keys personal.DB, at eventstore.Position, until *eventstore.Position, decodes map[string]bool) <-chan page {
	out := make(chan page, 1)
	go func() {
		defer close(out)
		for {
			events, err := store.ReadAll(ctx, at, buildPage)
			if err != nil {
				select {
				case out <- page{err: err}:
				case <-ctx.Done():
				}
				return
			}
			if until != nil {
				n := 0
				for n < len(events) && !until.Less(events[n].Position) {
					n++
				}
				events = events[:n]
			}
			if len(events) == 0 {
				return
			}
			pg := page{records: make([]Record, len(events)), through: events[len(events)-1].Position}
			ahead := make([]*Record, len(events))
			for i := range events {
				pg.records[i] = newRecord(&events[i])
				ahead[i] = &pg.records[i]
			}
			readAhead(ctx, keys, ahead, func(t string) bool { return decodes[t] })
			select {
			case out <- pg:
			case <-ctx.Done():
				return
			}
			at = pg.through
		}
	}()
	return out
}

// switchTo makes a build the active one if it has caught up with the live
// build; it returns the build it replaced and whether it switched. Locking
// the version row for update waits for the live handler's batch in flight
// and holds the next one until the views point at the new build.
func switchTo(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned, schema string) (Active, bool, error) {
	var old Active
	switched := false
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT active_schema, version FROM projection_versions WHERE name = $1 FOR UPDATE`, p.Name()).Scan(&old.Schema, &old.Version)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if old.Schema != "" {
			live, err := LoadCheckpoint(ctx, tx, old.Schema)
			if err != nil {
				return err
			}
			built, err := LoadCheckpoint(ctx, tx, schema)
			if err != nil {
				return err
			}
			// The build must hold every event the live one applied (the
			// live handler goes on from its own position, so what lies
			// between would be left out for good), but need not reach its
			// checkpoint, which may lie past the log's last application
			// event (EventStoreDB's can, and an idle log would then never
			// let a rebuild switch): it is behind only if the log has an
			// event after it, up to there.
			if built.Less(live) {
				next, err := store.ReadAll(ctx, built, 1)
				if err != nil {
					return err
				}
				if len(next) > 0 && !live.Less(next[0].Position) {
					return nil
				}
			}
		}
		switched = true
		return publish(ctx, tx, p, Active{Schema: schema, Version: p.Version()})
	})
	if err != nil {
		return Active{}, false, fmt.Errorf("switch %s to %s: %w", p.Name(), schema, err)
	}
	if !switched {
		time.Sleep(10 * time.Millisecond) // let the live build move on before catching up again
	}
	return old, switched, nil
}
