package projections

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
)

// maxShown bounds the differing rows printed per table and direction.
const maxShown = 10

// Verify rebuilds a projector's read model into a scratch build and
// compares it row by row with the live one at the same position, printing
// the differences to out. It returns how many rows differ.
func Verify(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned, out io.Writer, progress Progress) (int, error) {
	if err := comparable(ctx, pool, p); err != nil {
		return 0, err
	}
	scratch, release, err := startBuild(ctx, pool, p, purposeVerify)
	if err != nil {
		return 0, err
	}
	defer release()
	defer dropBuild(context.WithoutCancel(ctx), pool, scratch) //nolint:errcheck // best effort
	left := leftOut{}
	if err := buildLeaving(ctx, pool, store, p, scratch, nil, progress, left); err != nil {
		return 0, err
	}
	for {
		diffs, done, err := compareAtLive(ctx, pool, store, p, scratch, left, out)
		if err != nil || done {
			return diffs, err
		}
	}
}

// comparable says why the live build cannot be compared with a fresh
// build of p, if it cannot: there is none yet, or it is of another
// version. Checked before the scratch build, which would otherwise take
// the whole log's time before the verify said so (compareAtLive checks
// again: a switch may come meanwhile).
func comparable(ctx context.Context, pool *pgxpool.Pool, p Versioned) error {
	live, err := ActiveBuild(ctx, pool, p.Name())
	if errors.Is(err, ErrNoVersion) {
		return fmt.Errorf("%s has no build yet, nothing to verify (serve makes the first): %w", p.Name(), err)
	}
	if err != nil {
		return err
	}
	return sameVersion(live, p)
}

// sameVersion refuses a live build of another version than p's.
func sameVersion(live Active, p Versioned) error {
	if live.Version != p.Version() {
		return fmt.Errorf("the live build of %s is version %d, this binary's is %d", p.Name(), live.Version, p.Version())
	}
	return nil
}

// compareAtLive holds the live build still (its version row locked for
// update), brings the scratch build to exactly the live checkpoint, and
// compares. done is false when the scratch build is ahead of the live one:
// the caller tries again once the live one has moved on. left are the
// skipped events the scratch build left out.
func compareAtLive(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, p Versioned, scratch string, left leftOut, out io.Writer) (int, bool, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	var live Active
	if err := tx.QueryRow(ctx, `SELECT active_schema, version FROM projection_versions WHERE name = $1 FOR UPDATE`, p.Name()).Scan(&live.Schema, &live.Version); err != nil {
		return 0, false, err
	}
	if err := sameVersion(live, p); err != nil {
		return 0, true, err
	}
	liveAt, err := LoadCheckpoint(ctx, tx, live.Schema)
	if err != nil {
		return 0, false, err
	}
	// The scratch build is written on other connections: the lock held
	// here only stops the live one.
	if err := buildLeaving(ctx, pool, store, p, scratch, &liveAt, nil, left); err != nil {
		return 0, false, err
	}
	builtAt, err := LoadCheckpoint(ctx, pool, scratch)
	if err != nil {
		return 0, false, err
	}
	// Built through liveAt, the scratch build may still stop short of it
	// when no application event sits exactly there (a store checkpoint):
	// it has then seen everything the live one has.
	if liveAt.Less(builtAt) {
		return 0, false, nil
	}
	// The lock held here keeps skips out until the comparison is made.
	if err := skippedApplied(ctx, tx, p.Name(), liveAt, left); err != nil {
		return 0, true, fmt.Errorf("%w, while the verify ran: verify again", err)
	}
	fmt.Fprintf(out, "comparing %s (live, at %s) with a fresh build (%s)\n", live.Schema, liveAt, scratch)
	diffs := 0
	for _, t := range p.Tables() {
		for _, dir := range [][2]string{{live.Schema, scratch}, {scratch, live.Schema}} {
			n, err := showExcept(ctx, tx, t, dir[0], dir[1], out)
			if err != nil {
				return 0, false, err
			}
			diffs += n
		}
	}
	if diffs == 0 {
		fmt.Fprintf(out, "%s: identical\n", p.Name())
	}
	return diffs, true, nil
}

// showExcept prints the rows of table t in schema a that are not in b.
// Rows compare as their text, which every type has (json has no equality)
// and which a deterministic build writes the same.
func showExcept(ctx context.Context, tx pgx.Tx, t, a, b string, out io.Writer) (int, error) {
	ta, tb := pgx.Identifier{a, t}.Sanitize(), pgx.Identifier{b, t}.Sanitize()
	rows, err := tx.Query(ctx, `SELECT x FROM (SELECT r::text FROM `+ta+` r EXCEPT ALL SELECT r::text FROM `+tb+` r) AS d (x)`)
	if err != nil {
		return 0, fmt.Errorf("compare %s: %w", t, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var row string
		if err := rows.Scan(&row); err != nil {
			return n, err
		}
		if n < maxShown {
			fmt.Fprintf(out, "%s: only in %s: %s\n", t, a, row)
		}
		n++
	}
	if n > maxShown {
		fmt.Fprintf(out, "%s: ... %d rows only in %s\n", t, n, a)
	}
	return n, rows.Err()
}
