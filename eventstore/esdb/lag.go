package esdb

import (
	"context"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/bizcenter/bizcenter/eventstore"
)

// lagCap bounds the events Lag counts. EventStoreDB keeps no count of the
// events after a position, so Lag reads them, data and all; a consumer a
// thousand behind is catching up whatever the exact figure, and a monitor
// looking each second must not read the log faster than the consumers.
const lagCap = 1000

// headPage is how many events Lag reads back from the end at a time to
// find the last application event.
const headPage = 32

// Lag is what the projection monitor asks of a store (projections.Lagger):
// the position of the log's last application event, how many lie after
// after (at most lagCap), and when the first of those was recorded.
func (s *Store) Lag(ctx context.Context, after eventstore.Position) (head eventstore.Position, events int64, oldest time.Time, err error) {
	if head, err = s.head(ctx); err != nil || !after.Less(head) {
		return head, 0, time.Time{}, err
	}
	next, err := s.ReadAll(ctx, after, lagCap)
	if err != nil {
		return head, 0, time.Time{}, err
	}
	if len(next) > 0 {
		oldest = next[0].RecordedAt
	}
	return head, int64(len(next)), oldest, nil
}

// head is the position of the last application event (Start for a log
// of none), read back from the end past the server's own events.
func (s *Store) head(ctx context.Context) (eventstore.Position, error) {
	ctx, cancel := s.conn.scope(ctx)
	defer cancel()
	var from esdb.AllPosition = esdb.End{}
	for {
		page, err := s.readAllPage(ctx, from, esdb.Backwards, headPage)
		if err != nil {
			return eventstore.Position{}, fmt.Errorf("read the head of the log: %w", err)
		}
		for _, e := range page {
			if !isSystem(e.EventType) {
				return toPosition(e.Position), nil
			}
		}
		if len(page) < headPage {
			return eventstore.Start, nil
		}
		// On from the oldest event read: a read back from a position
		// of $all leaves out the event at it.
		from = esdb.Position{Commit: page[len(page)-1].Position.Commit, Prepare: page[len(page)-1].Position.Prepare}
	}
}
