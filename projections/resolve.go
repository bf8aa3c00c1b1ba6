package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/eventstore"
)

// Resolution is an operator's decision on a parked dead letter.
type Resolution struct {
	ID     int64
	Skip   bool // false: apply it again
	By     string
	Reason string
}

// maxSkipReason bounds a skip's reason, as other free text is bounded.
const maxSkipReason = 2000

// SkipReason is a skip's reason trimmed, or why it is none: free text by
// the rule of every route (domain.CheckFreeText), which refuses a NUL
// (PostgreSQL would, as a 500) and hidden characters; and not empty,
// white space alone included, since a skip records why. The admin route
// and `bizcenter projections skip` both hold a reason to it: the command
// recorded a reason of spaces, or of terminal escapes, that the route
// refused.
func SkipReason(s string) (string, string) {
	reason, why := domain.CheckFreeText(s, maxSkipReason)
	if why == "" && reason == "" {
		why = "a skip records why"
	}
	return reason, why
}

// maxResolver bounds who resolves a dead letter, as a name is bounded.
const maxResolver = 200

// Resolver checks who resolves a dead letter (the command's --by) as a
// name is checked: one line, spaces at the ends trimmed, no control or
// invisible characters; "required" when empty. The list of dead letters
// prints it as recorded, and a --by of a terminal's escapes was printed
// raw there.
func Resolver(s string) (string, string) { return domain.CheckName(s, maxResolver) }

// Resolved is what a Resolve did.
type Resolved struct {
	// Applied counts the events applied: the retried one, and those that
	// waited behind the letter.
	Applied int
	// Parked is the letter of a waiting event that failed in its turn and
	// is parked now, the events behind it still waiting (0: none). It was
	// not said: a resolve that parked the stream again reported only what
	// it applied.
	Parked int64
}

// ErrOtherRelease: the active build is of another version than the
// projector this release runs. Its code would write rows the build's
// version does not (a retry, and the events applied after a skip), so
// the dead letter is left to a release that runs the build's version.
var ErrOtherRelease = errors.New("the active build is of another release's version")

// ErrStillFailing: a retried event failed again, and stays parked with
// the error it failed with. Any other error of a Resolve tells nothing
// about the event (the database could not be reached, say): the admin
// route answered those 409 still-failing too, the connection's error
// read as the event's, where every other route answers 503.
var ErrStillFailing = errors.New("the event still fails")

// stillFailing is a retry's apply error, marked as ErrStillFailing and
// read as it reads.
type stillFailing struct{ error }

func (e stillFailing) Is(target error) bool { return target == ErrStillFailing }

func (e stillFailing) Unwrap() error { return e.error }

// Resolve retries or skips a parked dead letter of p, then applies the
// events of its stream that waited behind it, in order, into the active
// build. It returns how many events it applied. A retry that fails again
// leaves the dead letter parked (with its new error); a waiting event that
// fails is parked in its turn and the rest keep waiting.
func Resolve(ctx context.Context, pool *pgxpool.Pool, p Versioned, res Resolution) (Resolved, error) {
	var done Resolved
	if res.Skip && (res.By == "" || res.Reason == "") {
		return done, errors.New("a skip records who and why: both are required")
	}
	var failed error // a retry's: recorded, and then answered
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var a Active
		// Hold the live handler still so nothing of the stream overtakes.
		if err := tx.QueryRow(ctx, `SELECT active_schema, version FROM projection_versions WHERE name = $1 FOR UPDATE`, p.Name()).Scan(&a.Schema, &a.Version); err != nil {
			return err
		}
		if a.Version != p.Version() {
			return fmt.Errorf("projector %s: the active build is version %d, this release runs version %d; resolve it with a release that runs version %d: %w",
				p.Name(), a.Version, p.Version(), a.Version, ErrOtherRelease)
		}
		if err := setSchema(ctx, tx, a.Schema); err != nil {
			return err
		}
		parked, err := loadDead(ctx, tx, `id = $1 AND projector = $2 AND status = 'parked'`, res.ID, p.Name())
		if err != nil {
			return err
		}
		if len(parked) == 0 {
			return notParked(ctx, tx, p.Name(), res.ID)
		}
		if res.Skip {
			if _, err := tx.Exec(ctx, `UPDATE projection_dead_letters SET status = 'skipped', resolved_by = $2, resolved_reason = $3, resolved_at = now() WHERE id = $1`, res.ID, res.By, res.Reason); err != nil {
				return err
			}
		} else if err := applyDead(ctx, tx, p, parked[0], res.By); err != nil {
			// Kept with the error it fails with now (applyOne's savepoint
			// undid its writes): that is what to fix before the next try.
			failed = stillFailing{err}
			_, err = tx.Exec(ctx, `UPDATE projection_dead_letters SET error = $2, attempts = attempts + 1 WHERE id = $1`, res.ID, err.Error())
			return err
		} else {
			done.Applied++
		}
		waiting, err := loadDead(ctx, tx, `projector = $1 AND stream = $2 AND status = 'waiting' ORDER BY commit_pos, prepare_pos`, p.Name(), parked[0].record.Stream)
		if err != nil {
			return err
		}
		for _, w := range waiting {
			if err := applyDead(ctx, tx, p, w, res.By); err != nil {
				done.Parked = w.id
				_, perr := tx.Exec(ctx, `UPDATE projection_dead_letters SET status = 'parked', error = $2, attempts = attempts + 1 WHERE id = $1`, w.id, err.Error())
				return perr
			}
			done.Applied++
		}
		return nil
	})
	if err == nil {
		err = failed
	}
	return done, err
}

// notParked tells why letter id of projector is not one to resolve: it
// waits behind another letter of its stream (ErrWaiting, naming that
// one, which is what to retry or skip), or it is no open letter at all
// (ErrNotParked). A waiting letter was answered as though it did not
// exist.
func notParked(ctx context.Context, tx pgx.Tx, projector string, id int64) error {
	var ahead int64
	err := tx.QueryRow(ctx, `
		SELECT p.id FROM projection_dead_letters w
		  JOIN projection_dead_letters p ON p.projector = w.projector AND p.stream = w.stream AND p.status = 'parked'
		 WHERE w.id = $1 AND w.projector = $2 AND w.status = 'waiting'
		 ORDER BY p.commit_pos, p.prepare_pos LIMIT 1`, id, projector).Scan(&ahead)
	if errors.Is(err, pgx.ErrNoRows) {
		return closedOrNone(ctx, tx, projector, id)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("dead letter %d of %s waits behind dead letter %d of its stream, which goes first: retry or skip %[3]d: %w", id, projector, ahead, ErrWaiting)
}

// closedOrNone tells a letter already retried or skipped (ErrResolved,
// naming by whom and when) from no letter at all (ErrNotParked). Both
// read "no parked dead letter with that id", a 404 for a letter the list
// shows, when a second operator, or a script run again, came after the
// first.
func closedOrNone(ctx context.Context, tx pgx.Tx, projector string, id int64) error {
	var status, by string
	var at *time.Time // set by every resolution; a row mended by hand may lack it
	err := tx.QueryRow(ctx, `
		SELECT status, coalesce(resolved_by, 'someone'), resolved_at FROM projection_dead_letters
		 WHERE id = $1 AND projector = $2 AND status IN ('retried', 'skipped')`, id, projector).Scan(&status, &by, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("dead letter %d of %s: %w", id, projector, ErrNotParked)
	}
	if err != nil {
		return err
	}
	when := "at an unknown time"
	if at != nil {
		when = "at " + at.UTC().Format(time.RFC3339)
	}
	return fmt.Errorf("dead letter %d of %s was already %s by %s %s: %w", id, projector, status, by, when, ErrResolved)
}

type deadRow struct {
	id     int64
	record Record
}

func loadDead(ctx context.Context, tx pgx.Tx, where string, args ...any) ([]deadRow, error) {
	rows, err := tx.Query(ctx, `SELECT id, event_id, event_type, stream, revision, commit_pos, prepare_pos, data, metadata, recorded_at
		FROM projection_dead_letters WHERE `+where+` FOR UPDATE`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (deadRow, error) {
		var d deadRow
		var id uuid.UUID
		var revision, commit, prepare int64
		var data, meta []byte
		err := row.Scan(&d.id, &id, &d.record.Type, &d.record.Stream, &revision, &commit, &prepare, &data, &meta, &d.record.RecordedAt)
		d.record.ID, d.record.Revision, d.record.Data, d.record.Metadata = id, uint64(revision), data, meta
		d.record.Position = eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}
		d.record.Pos = d.record.Position.String()
		return d, err
	})
}

// applyDead applies one dead letter and marks it retried.
func applyDead(ctx context.Context, tx pgx.Tx, p Projector, d deadRow, by string) error {
	if err := applyOne(ctx, tx, p, d.record); err != nil {
		return fmt.Errorf("dead letter %d (%s %s@%d): %w", d.id, d.record.Type, d.record.Stream, d.record.Revision, err)
	}
	_, err := tx.Exec(ctx, `UPDATE projection_dead_letters SET status = 'retried', resolved_by = $2, resolved_at = now() WHERE id = $1`, d.id, by)
	return err
}
