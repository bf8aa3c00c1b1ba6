package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/personal"
)

// buildPage is how many events a build reads and applies per transaction.
const buildPage = 1000

// Rebuild builds a new version of a projector's read model beside the live
// one, from the start of the log, switches readers to it in one
// transaction once it has caught up with the live build, and drops the old
// one. Reads keep working throughout; the live build keeps advancing until
// the switch. Side effects never run: a build only writes its own tables.
// An error with the new build (a non-empty Active) came after the switch,
// from the drop of the old build: readers read the new one.
//
// It refuses when the active build is of a newer version than p's: the
// instances of a newer release would wait behind an older build (see
// RollBack, for going back to an older release on purpose).
func Rebuild(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned, progress Progress) (Active, error) {
	if a, err := ActiveBuild(ctx, pool, p.Name()); err == nil && a.Version > p.Version() {
		return Active{}, fmt.Errorf("the active build of %s is version %d, %w %d (to go back to this release's version: bizcenter projections rebuild --roll-back %[1]s)", p.Name(), a.Version, errNewerActive, p.Version())
	}
	return rebuild(ctx, pool, store, p, purposeRebuild, progress)
}

// RollBack is Rebuild for going back to an older release: it builds p's
// version even when the active build is of a newer one, and switches to
// it. An older release's instances do not lead a projector whose active
// build is newer than their code (they cannot write it), so after a
// rollback that projector stands still until this has run; instances of
// the newer release, if any still run, wait behind the older build.
func RollBack(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned, progress Progress) (Active, error) {
	return rebuild(ctx, pool, store, p, purposeRollBack, progress)
}

func rebuild(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned, purpose string, progress Progress) (Active, error) {
	for {
		// A skip that came after the build had applied its event left
		// it dropped: a build begun now leaves the event out.
		a, err := rebuildOnce(ctx, pool, store, p, purpose, progress)
		if !errors.Is(err, errSkippedApplied) {
			return a, err
		}
	}
}

// rebuildOnce is rebuild with one build, which it drops when it stops
// before its switch.
func rebuildOnce(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned, purpose string, progress Progress) (Active, error) {
	tables, indexes := indexesApart(p)
	schema, release, err := startBuildWith(ctx, pool, p, purpose, tables, indexes)
	if err != nil {
		return Active{}, err
	}
	defer release()
	// Each catch-up counts its events from zero. Under load the live build
	// often moves on before the switch, and the next catch-up's progress
	// then read as a rebuild started over ("0.4% … 5h40m left" a second
	// before it switched): add the events of the catch-ups before.
	var before, last int64
	left := leftOut{}
	if progress != nil {
		told := progress
		progress = func(done, total int64) { last = done; told(before+done, total) }
	}
	for {
		old, switched, err := catchUpAndSwitch(ctx, pool, store, p, schema, left, progress)
		before, last = before+last, 0
		if err != nil {
			// Interrupted or stopped at an event that fails: nothing
			// reads this build, and the next one starts from zero.
			// Unless the interrupt came while the switch's COMMIT was
			// on its way: the client stops waiting for its answer, and
			// the server commits all the same.
			active, derr := dropUnlessActive(context.WithoutCancel(ctx), pool, p.Name(), schema)
			if derr == nil && active {
				return Active{Schema: schema, Version: p.Version()}, fmt.Errorf("switched to %s, but the build before was left: %w", schema, err)
			}
			return Active{}, err
		}
		if switched {
			a := Active{Schema: schema, Version: p.Version()}
			if old.Schema != "" {
				// The switch stands whatever stops the drop (an
				// interrupt while it waits for the old build's
				// readers): a, with the error, says readers read it.
				// The switch listed the old build among the builds
				// nobody holds: if this stops, the next build drops it.
				if err := dropUnheld(ctx, pool, []string{old.Schema}); err != nil {
					return a, fmt.Errorf("switched to %s, but the build before, %s, was left: %w", schema, old.Schema, err)
				}
			}
			return a, nil
		}
	}
}

// catchUpAndSwitch brings a build up to the end of the log, makes the
// readers' indexes it deferred, if it has not yet (before readers may
// come), and switches to it if it has caught up with the live build (see
// switchTo). left gathers the skipped events the build leaves out.
func catchUpAndSwitch(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned, schema string, left leftOut, progress Progress) (Active, bool, error) {
	if err := buildLeaving(ctx, pool, store, p, schema, nil, progress, left); err != nil {
		return Active{}, false, err
	}
	if err := makeIndexes(ctx, pool, schema); err != nil {
		return Active{}, false, err
	}
	return switchTo(ctx, pool, store, p, schema, left)
}

// The purposes of the builds in projection_builds.
const (
	purposeRebuild  = "rebuild" // projections rebuild, and a new version's build
	purposeRollBack = "roll back"
	purposeVerify   = "verify" // a scratch build, of the active version
	// purposeReplaced is the build a switch replaced, listed for the next
	// build of the projector to drop should the rebuild not.
	purposeReplaced = "replaced"
)

// startBuild creates the schema and tables of a new build, held by this
// process until release (see holdBuild).
func startBuild(ctx context.Context, pool *pgxpool.Pool, p Versioned, purpose string) (schema string, release func(), err error) {
	return startBuildWith(ctx, pool, p, purpose, p.Schema(), nil)
}

// startBuildWith is startBuild running ddl (p's Schema, or part of it),
// the indexes deferred recorded for makeIndexes. It first drops the
// builds of p that nobody holds.
func startBuildWith(ctx context.Context, pool *pgxpool.Pool, p Versioned, purpose, ddl string, deferred []string) (string, func(), error) {
	if err := dropAbandoned(ctx, pool, p.Name()); err != nil {
		return "", nil, fmt.Errorf("drop abandoned builds of %s: %w", p.Name(), err)
	}
	schema := schemaName(p)
	release, err := holdBuild(ctx, pool, schema)
	if err != nil {
		return "", nil, err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := createTables(ctx, tx, schema, ddl); err != nil {
			return err
		}
		if err := deferIndexes(ctx, tx, schema, deferred); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO projection_builds (schema_name, name, version, purpose) VALUES ($1, $2, $3, $4)`,
			schema, p.Name(), p.Version(), purpose)
		return err
	})
	if err != nil {
		release()
		return "", nil, err
	}
	return schema, release, nil
}

// buildKey is the advisory lock key of the build $1, which the process
// making it holds on a session of its own. A build in projection_builds
// whose lock is free was left by a process that died half way (kill -9,
// a lost host): the next build of its projector drops it.
const buildKey = `hashtextextended('build:' || $1, 0)`

// holdBuild takes a build's lock on a session of its own and returns its
// release.
func holdBuild(ctx context.Context, pool *pgxpool.Pool, schema string) (func(), error) {
	conn, err := ownSession(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("hold %s: %w", schema, err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+buildKey+`)`, schema); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("hold %s: %w", schema, err)
	}
	// Ending the session frees the lock.
	return func() { _ = conn.Close(context.WithoutCancel(ctx)) }, nil
}

// dropAbandoned drops the builds of projector name that no process holds.
func dropAbandoned(ctx context.Context, pool *pgxpool.Pool, name string) error {
	rows, err := pool.Query(ctx, `
		SELECT schema_name FROM projection_builds b
		 WHERE name = $1 AND NOT EXISTS (SELECT FROM projection_versions v WHERE v.active_schema = b.schema_name)`, name)
	if err != nil {
		return err
	}
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(schemas) == 0 {
		return err
	}
	return dropUnheld(ctx, pool, schemas)
}

// dropUnheld drops those of schemas, builds that readers do not read,
// that no process holds (see holdBuild): a build in progress is left to
// the process making it, and a build that another process drops meanwhile
// is left to it.
func dropUnheld(ctx context.Context, pool *pgxpool.Pool, schemas []string) error {
	// The locks taken here go with this session when it closes, whatever
	// fails (a schema's name is never used again, so none waits for them).
	conn, err := ownSession(ctx, pool)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx)) //nolint:errcheck // closing frees the locks
	for _, s := range schemas {
		var free bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+buildKey+`)`, s).Scan(&free); err != nil {
			return err
		}
		if free { // else a build in progress
			if err := dropBuild(ctx, pool, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropUnlessActive drops a build that stopped before its switch, unless
// readers read it: a switch whose COMMIT was on its way when the context
// ended (an interrupt) commits on the server though the client stopped
// waiting for its answer. The switch holds the projector's version row,
// and its views hold the build's tables, until it ends: this waits for
// it, and looks after the drop again for a projector's first switch,
// which inserts the row.
func dropUnlessActive(ctx context.Context, pool *pgxpool.Pool, name, schema string) (active bool, err error) {
	errActive := errors.New("readers read the build")
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		isActive := func(lock string) error {
			var a string
			err := tx.QueryRow(ctx, `SELECT active_schema FROM projection_versions WHERE name = $1`+lock, name).Scan(&a)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err == nil && a == schema {
				return errActive
			}
			return err
		}
		if err := isActive(` FOR UPDATE`); err != nil {
			return err
		}
		if err := dropBuild(ctx, tx, schema); err != nil {
			return err
		}
		return isActive("")
	})
	if errors.Is(err, errActive) {
		return true, nil
	}
	return false, err
}

// ownSession takes a connection out of pool for session locks: closing it
// ends the session, which frees every lock it took whatever state it is
// in, and the pool makes another connection in its place.
func ownSession(ctx context.Context, pool *pgxpool.Pool) (*pgx.Conn, error) {
	c, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return c.Hijack(), nil
}

// build applies the log to a build, a page a transaction, until a page
// comes back empty or, when until is set, through that position.
func build(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Projector, schema string, until *eventstore.Position, progress Progress) error {
	return buildLeaving(ctx, pool, store, p, schema, until, progress, leftOut{})
}

// buildLeaving is build, gathering in left the skipped events it leaves
// out (see skippedApplied).
func buildLeaving(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Projector, schema string, until *eventstore.Position, progress Progress, left leftOut) error {
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
	total := countBeside(ctx, store, progress)
	written := writtenTypes(p)
	var done int64
	for pg := range planPages(ctx, readPages(ctx, store, pool, at, until, written), plannerOf(p), skipped, left, at) {
		if pg.err != nil {
			return fmt.Errorf("build %s: %w", schema, pg.err)
		}
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return applyBatch(ctx, tx, p, schema, &pg)
		}); err != nil {
			return err
		}
		done += int64(pg.read)
		if progress != nil {
			progress(done, total.Load())
		}
	}
	return ctx.Err()
}

// page is a page of the log read for a build.
type page struct {
	records []Record // without skipped events, once planPages has passed it
	through eventstore.Position
	read    int // events, skipped ones too
	planned plannedWrites
	err     error
}

// planPages passes pages on without the events operators skipped (put
// in left), each with its writes planned (see plannedWrites) while the
// build applies the page before; at is where the build starts.
func planPages(ctx context.Context, in <-chan page, plan planner, skipped map[string]bool, left leftOut, at eventstore.Position) <-chan page {
	out := make(chan page, 1)
	go func() {
		defer close(out)
		for pg := range in {
			if pg.err == nil {
				if len(skipped) > 0 {
					pg.records = slices.DeleteFunc(pg.records, func(r Record) bool { return left.leave(skipped, r.ID.String()) })
				}
				pg.planned = plannedWrites{from: at, w: plan(pg.records, at)}
				at = pg.through
			}
			select {
			case out <- pg:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
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
			pg := page{records: make([]Record, len(events)), through: events[len(events)-1].Position, read: len(events)}
			ahead := make([]*Record, len(events))
			for i := range events {
				pg.records[i] = newRecord(&events[i])
				ahead[i] = &pg.records[i]
			}
			readAhead(ctx, keys, nil, ahead, func(t string) bool { return decodes[t] })
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
// and holds the next one until the views point at the new build, and keeps
// skips out: it refuses a build that applied an event skipped since.
func switchTo(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned, schema string, left leftOut) (Active, bool, error) {
	var old Active
	switched := false
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT active_schema, version FROM projection_versions WHERE name = $1 FOR UPDATE`, p.Name()).Scan(&old.Schema, &old.Version)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		built, err := LoadCheckpoint(ctx, tx, schema)
		if err != nil {
			return err
		}
		if old.Schema != "" {
			live, err := LoadCheckpoint(ctx, tx, old.Schema)
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
		if err := skippedApplied(ctx, tx, p.Name(), built, left); err != nil {
			return err
		}
		// The build applied the events the live one parked or held back
		// (a build never parks, and leaves out only skipped ones): left
		// open, they would block their streams in the new build, and a
		// retry would apply them a second time.
		if _, err := tx.Exec(ctx, `
			UPDATE projection_dead_letters SET status = 'retried', resolved_by = $2, resolved_reason = $3, resolved_at = now()
			 WHERE projector = $1 AND status IN ('parked', 'waiting')`,
			p.Name(), "rebuild", "applied by the rebuild into "+schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM projection_builds WHERE schema_name = $1`, schema); err != nil {
			return err
		}
		if old.Schema != "" {
			// Listed as a build nobody holds, the build before is
			// dropped by the next build of the projector should this
			// process not get to drop it (killed, interrupted, or the
			// drop failed); nothing else would ever drop it.
			if _, err := tx.Exec(ctx, `
				INSERT INTO projection_builds (schema_name, name, version, purpose) VALUES ($1, $2, $3, $4)
				ON CONFLICT (schema_name) DO NOTHING`, old.Schema, p.Name(), old.Version, purposeReplaced); err != nil {
				return err
			}
		}
		switched = true
		return publish(ctx, tx, p, Active{Schema: schema, Version: p.Version()})
	})
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == deadlockDetected {
		// publish locks the public views one by one, and so do statements
		// parsed against them in another order: a reader's, or a live
		// batch's new ones, parsed before its BEGIN (applyOneTrip). When
		// PostgreSQL stops the switch, nothing of the build is lost: catch
		// up and try again, rather than drop it.
		err, switched = nil, false
	}
	if err != nil {
		return Active{}, false, fmt.Errorf("switch %s to %s: %w", p.Name(), schema, err)
	}
	if !switched {
		time.Sleep(10 * time.Millisecond) // let the live build move on before catching up again
	}
	return old, switched, nil
}

// deadlockDetected is PostgreSQL's SQLSTATE for a transaction it stopped
// to break a deadlock.
const deadlockDetected = "40P01"
