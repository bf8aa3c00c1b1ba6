package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore"
)

const columns = `event_id, stream, revision, tx_id, seq, type, data, metadata, recorded_at`

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	limit := int64(opts.Limit)
	if limit <= 0 {
		limit = -1
	}
	var query string
	from := int64(opts.From)
	switch {
	case opts.Direction == eventstore.Backwards && opts.FromEnd:
		query = `SELECT ` + columns + ` FROM events WHERE stream = $1 AND $2::bigint IS NOT NULL ORDER BY revision DESC LIMIT NULLIF($3, -1)`
	case opts.Direction == eventstore.Backwards:
		query = `SELECT ` + columns + ` FROM events WHERE stream = $1 AND revision <= $2 ORDER BY revision DESC LIMIT NULLIF($3, -1)`
	case opts.FromEnd:
		// Forwards from the end: the last event, where the read starts
		// (as EventStoreDB answers it).
		query = `SELECT ` + columns + ` FROM events WHERE stream = $1 AND $2::bigint IS NOT NULL ORDER BY revision DESC LIMIT least(NULLIF($3, -1), 1)`
	default:
		query = `SELECT ` + columns + ` FROM events WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT NULLIF($3, -1)`
	}
	rows, err := s.pool.Query(ctx, query, stream, from, limit)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	events, err := scanEvents(rows, int(max(limit, 0)))
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	// Streams are never deleted, so a stream read forwards from its first
	// revision and found empty does not exist; any other empty read needs
	// a look.
	forwardsFromStart := opts.Direction != eventstore.Backwards && !opts.FromEnd && opts.From == 0
	if len(events) == 0 && forwardsFromStart {
		return nil, fmt.Errorf("read stream %s: %w", stream, eventstore.ErrStreamNotFound)
	}
	if len(events) == 0 {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE stream = $1)`, stream).Scan(&exists); err != nil {
			return nil, fmt.Errorf("read stream %s: %w", stream, err)
		}
		if !exists {
			return nil, fmt.Errorf("read stream %s: %w", stream, eventstore.ErrStreamNotFound)
		}
	}
	return events, nil
}

// ReadAll implements eventstore.Store. What it returns is final: no event
// can later appear before the last position it returned (see readFinal).
// And a page shorter than limit is the end of the log: while appends in
// flight keep committed events hidden (behind a transaction that began
// before them, a command's or a consumer's), it looks again after 1 ms,
// doubling up to the poll interval, as a subscription does. Builds,
// verify and the audit take a short page for the end: under load a
// rebuild took the hidden events for it and switched in without those
// the live build had applied.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	for wait := time.Millisecond; ; wait = min(2*wait, s.cfg.PollInterval) {
		page, hidden, err := s.readFinal(ctx, after, limit)
		if err != nil || !hidden || len(page) == limit {
			return page, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// readFinal reads below every transaction in flight, without taking the
// appends' lock (whole pages, while catching up), and when that comes out
// short reads again with appends quiet (readQuiet): a short page is the
// end of the log, or events held back by a transaction in flight that may
// be anyone's (a consumer's, a report's, another database's in the
// cluster). Builds took such a page for the end of the log and stopped
// early; subscriptions behind the tail read this way too.
func (s *Store) readFinal(ctx context.Context, after eventstore.Position, limit int) (page []eventstore.RecordedEvent, hidden bool, err error) {
	page, err = s.readBelow(ctx, after, limit)
	if err != nil || len(page) == limit {
		return page, false, err
	}
	return s.readQuiet(ctx, after, limit)
}

// readBelow reads the events after a position below the oldest
// transaction in flight: final, but maybe not all that are committed.
func (s *Store) readBelow(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+columns+` FROM events
		 WHERE (tx_id, seq) > ($1, $2)
		   AND tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint + log_xid_offset()
		 ORDER BY tx_id, seq
		 LIMIT $3`, int64(after.Commit), int64(after.Prepare), limit)
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", after, err)
	}
	events, err := scanEvents(rows, limit)
	if err != nil {
		return nil, fmt.Errorf("read all after %s: %w", after, err)
	}
	return events, nil
}

// scanEvents reads the events of rows, at most limit (0: no limit known).
// The page grows four times over, up to limit, rather than by append
// alone (a quarter at a time past 256 events), and each row is scanned
// through the same destinations: catching up, the pages' growth and an
// event moved to the heap for every row were an eighth of what a
// catch-up allocated. Live, a page holds an event or two.
func scanEvents(rows pgx.Rows, limit int) ([]eventstore.RecordedEvent, error) {
	defer rows.Close()
	var out []eventstore.RecordedEvent
	// One event scanned into, and copied out. Each row's data, metadata
	// and strings are new allocations, so no copy shares another's bytes.
	var e eventstore.RecordedEvent
	var revision, commit, prepare int64
	dest := []any{&e.ID, &e.Stream, &revision, &commit, &prepare, &e.Type, &e.Data, &e.Metadata, &e.RecordedAt}
	for rows.Next() {
		if len(out) == cap(out) {
			room := max(16, 4*cap(out))
			if limit > 0 {
				room = max(min(room, limit), len(out)+1)
			}
			out = append(make([]eventstore.RecordedEvent, 0, room), out...)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		e.Revision = uint64(revision)
		e.Position = eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}
		out = append(out, e)
	}
	return out, rows.Err()
}
