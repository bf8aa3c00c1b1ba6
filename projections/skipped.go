package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore"
)

// leftOut are the events a build left out because operators had skipped
// them when it came to them (see planPages). An event skipped after the
// build had passed it is not among them: the build applied it.
type leftOut map[string]bool

// leave reports whether the event id is among the skipped, noting it left
// out if so.
func (l leftOut) leave(skipped map[string]bool, id string) bool {
	if skipped[id] {
		l[id] = true
	}
	return skipped[id]
}

// errSkippedApplied: an operator skipped a dead letter after a build had
// applied its event. The build then holds what the live build leaves out
// for good: a rebuild switched in, it brought the skipped event back into
// the read model (and every verify after found the live build different
// from a fresh one); a verify's scratch copy reported it as rows that
// differ. Builds read the skipped events as they begin, and a skip does
// not wait for them (a build takes minutes over a large log).
var errSkippedApplied = errors.New("skipped after the build had applied its event")

// skippedApplied refuses a build, at through, that applied an event of a
// dead letter of projector skipped since (not in left). Run it in the
// transaction that holds the projector's version row for update, as a
// skip does (Resolve), so that no skip comes between it and what the
// caller does next (the switch, the comparison).
func skippedApplied(ctx context.Context, tx pgx.Tx, projector string, through eventstore.Position, left leftOut) error {
	rows, err := tx.Query(ctx, `
		SELECT id, event_id::text FROM projection_dead_letters
		 WHERE projector = $1 AND status = 'skipped' AND (commit_pos, prepare_pos) <= ($2, $3)
		 ORDER BY id`, projector, int64(through.Commit), int64(through.Prepare))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var eventID string
		if err := rows.Scan(&id, &eventID); err != nil {
			return err
		}
		if !left[eventID] {
			return fmt.Errorf("dead letter %d of %s was %w", id, projector, errSkippedApplied)
		}
	}
	return rows.Err()
}
