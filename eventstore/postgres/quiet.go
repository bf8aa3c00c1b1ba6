package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore"
)

// The advisory lock every append holds shared (migrations/010).
const appendMark1, appendMark2 = 1651077731, 1

// readQuiet reads the events after a position that are final: every one
// committed, if no append is in flight, and otherwise those below the
// oldest transaction in flight (what readBelow reads); hidden reports
// committed events it had to leave. readBelow alone stops at the oldest
// transaction in flight, which is usually a consumer's rather than an
// append's; this read passes those. Its first statement takes the
// appends' lock exclusively (without waiting), and the second takes its
// snapshot only then, in the same implicit transaction, so every append
// with a lower transaction id has ended and is in the snapshot or never
// will be, and every later append gets a higher id: nothing can appear
// before what it returns. While the lock is held (one statement), appends
// wait to begin. One round trip either way: the second statement marks
// the rows below the oldest transaction in flight, which come first.
func (s *Store) readQuiet(ctx context.Context, after eventstore.Position, limit int) (events []eventstore.RecordedEvent, hidden bool, err error) {
	b := &pgx.Batch{}
	// Only under read committed does the second statement take a snapshot
	// of its own; a session that defaults to another level never reads
	// this way (it waits for the transactions in flight instead).
	var quiet bool
	b.Queue(`SELECT CASE WHEN current_setting('transaction_isolation') = 'read committed'
	                THEN pg_try_advisory_xact_lock($1, $2) ELSE false END`, appendMark1, appendMark2).QueryRow(func(row pgx.Row) error {
		return row.Scan(&quiet)
	})
	var settled int
	b.Queue(`SELECT `+columns+`, tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint + log_xid_offset()
	           FROM events WHERE (tx_id, seq) > ($1, $2) ORDER BY tx_id, seq LIMIT $3`,
		int64(after.Commit), int64(after.Prepare), limit).Query(func(rows pgx.Rows) error {
		var err error
		events, settled, err = scanSettled(rows)
		return err
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, false, fmt.Errorf("read all after %s with appends quiet: %w", after, err)
	}
	if quiet {
		return events, false, nil
	}
	return events[:settled], settled < len(events), nil
}

// scanSettled scans rows of events followed by whether each is below the
// oldest transaction in flight, and counts those.
func scanSettled(rows pgx.Rows) ([]eventstore.RecordedEvent, int, error) {
	defer rows.Close()
	var out []eventstore.RecordedEvent
	settled := 0
	for rows.Next() {
		var e eventstore.RecordedEvent
		var revision, commit, prepare int64
		var below bool
		if err := rows.Scan(&e.ID, &e.Stream, &revision, &commit, &prepare, &e.Type, &e.Data, &e.Metadata, &e.RecordedAt, &below); err != nil {
			return nil, 0, err
		}
		e.Revision = uint64(revision)
		e.Position = eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}
		out = append(out, e)
		if below { // ordered by tx_id: these come first
			settled++
		}
	}
	return out, settled, rows.Err()
}
