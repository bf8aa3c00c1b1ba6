package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore"
)

// The advisory lock every append holds shared (migrations/010).
const appendMark1, appendMark2 = 1651077731, 1

// readQuiet reads every committed event after a position, if no append is
// in flight: quiet is false when one is, and the events it read then are
// only a sign that some are held back (not to be passed on). ReadAll
// reads below the oldest transaction in flight, which is usually a
// consumer's rather than an append's; this read passes those. Its first statement takes the
// appends' lock exclusively (without waiting), and the second takes its
// snapshot only then, in the same implicit transaction, so every append
// with a lower transaction id has ended and is in the snapshot or never
// will be, and every later append gets a higher id: nothing can appear
// before what it returns. While the lock is held (one statement), appends
// wait to begin.
func (s *Store) readQuiet(ctx context.Context, after eventstore.Position, limit int) (events []eventstore.RecordedEvent, quiet bool, err error) {
	b := &pgx.Batch{}
	// Only under read committed does the second statement take a snapshot
	// of its own; a session that defaults to another level never reads
	// this way (it waits for the transactions in flight instead).
	b.Queue(`SELECT CASE WHEN current_setting('transaction_isolation') = 'read committed'
	                THEN pg_try_advisory_xact_lock($1, $2) ELSE false END`, appendMark1, appendMark2).QueryRow(func(row pgx.Row) error {
		return row.Scan(&quiet)
	})
	b.Queue(`SELECT `+columns+` FROM events WHERE (tx_id, seq) > ($1, $2) ORDER BY tx_id, seq LIMIT $3`,
		int64(after.Commit), int64(after.Prepare), limit).Query(func(rows pgx.Rows) error {
		var err error
		events, err = scanEvents(rows)
		return err
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, false, fmt.Errorf("read all after %s with appends quiet: %w", after, err)
	}
	return events, quiet, nil
}
