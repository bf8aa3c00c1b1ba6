package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/status"

	"github.com/bizcenter/bizcenter/eventstore"
)

// minPage is the least number of events ReadAll asks for at once, so that
// runs of system events are skipped in few round trips.
const minPage = 32

// ReadStream reads a slice of one stream.
func (s *Store) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	if opts.Limit < 0 {
		return nil, fmt.Errorf("read stream %s: negative limit %d", stream, opts.Limit)
	}
	if eventstore.IsSystemStream(stream) {
		// The server's own ($user-admin holds its password hash): left
		// out as ReadAll leaves out its events.
		return nil, fmt.Errorf("read stream %s: %w: the server's own", stream, eventstore.ErrStreamNotFound)
	}
	ro := esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(opts.From)}
	// The server converts the count to a signed 64-bit number.
	count := uint64(math.MaxInt64)
	if opts.Limit > 0 {
		count = uint64(opts.Limit)
	}
	if opts.Direction == eventstore.Backwards {
		ro.Direction = esdb.Backwards
	}
	if opts.FromEnd {
		ro.From = esdb.End{}
		if opts.Direction == eventstore.Forwards {
			// Forwards from the end yields the last event alone, and the
			// server cannot read forwards from the end: read it backwards.
			ro.Direction, count = esdb.Backwards, 1
		}
	}
	ctx, cancel := s.conn.scope(ctx)
	defer cancel()
	evs, err := s.read(ctx, func(ctx context.Context, c *esdb.Client) (*esdb.ReadStream, error) {
		return c.ReadStream(ctx, stream, ro, count)
	})
	if hasCode(err, esdb.ErrorCodeResourceNotFound) || hasCode(err, esdb.ErrorCodeStreamDeleted) {
		return nil, fmt.Errorf("read stream %s: %w: %w", stream, eventstore.ErrStreamNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	out := make([]eventstore.RecordedEvent, len(evs))
	for i, e := range evs {
		out[i] = toRecorded(e)
	}
	return out, nil
}

// ReadAll reads application events strictly after a position. The server
// reads forwards from a position inclusively and mixes in system events,
// so it drops the event at after itself and the system events, and reads
// on until it has limit events or reaches the end of the log.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	ctx, cancel := s.conn.scope(ctx)
	defer cancel()
	var out []eventstore.RecordedEvent
	from := after
	for len(out) < limit {
		want := max(limit-len(out)+1, minPage)
		page, err := s.readAllPage(ctx, allPosition(from), esdb.Forwards, uint64(want))
		if err != nil {
			return nil, fmt.Errorf("read all after %s: %w", after, invalidPosition(err))
		}
		for _, e := range page {
			pos := toPosition(e.Position)
			if !from.Less(pos) {
				continue
			}
			from = pos
			if !isSystem(e.EventType) && len(out) < limit {
				out = append(out, toRecorded(e))
			}
		}
		if len(page) < want {
			break
		}
	}
	return out, nil
}

func (s *Store) readAllPage(ctx context.Context, from esdb.AllPosition, dir esdb.Direction, count uint64) ([]*esdb.RecordedEvent, error) {
	opts := esdb.ReadAllOptions{From: from, Direction: dir}
	return s.read(ctx, func(ctx context.Context, c *esdb.Client) (*esdb.ReadStream, error) {
		return c.ReadAll(ctx, opts, count)
	})
}

// read opens a read and drains it inside one client call. A missing
// stream surfaces from the first Recv, not from the open. The events are
// handed over only on success: an abandoned call may still be running.
func (s *Store) read(ctx context.Context, open func(context.Context, *esdb.Client) (*esdb.ReadStream, error)) ([]*esdb.RecordedEvent, error) {
	var evs []*esdb.RecordedEvent
	err := s.conn.do(ctx, func(ctx context.Context, c *esdb.Client) error {
		rs, err := open(ctx, c)
		if err != nil {
			return err
		}
		defer rs.Close()
		var got []*esdb.RecordedEvent
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				evs = got
				return nil
			}
			if err != nil {
				return err
			}
			got = append(got, ev.OriginalEvent())
		}
	})
	if err != nil {
		return nil, err
	}
	return evs, nil
}

func toRecorded(e *esdb.RecordedEvent) eventstore.RecordedEvent {
	return eventstore.RecordedEvent{
		ID:         e.EventID,
		Stream:     e.StreamID,
		Revision:   e.EventNumber,
		Position:   toPosition(e.Position),
		Type:       e.EventType,
		Data:       e.Data,
		Metadata:   e.UserMetadata,
		RecordedAt: e.CreatedDate,
	}
}

func toPosition(p esdb.Position) eventstore.Position {
	return eventstore.Position{Commit: p.Commit, Prepare: p.Prepare}
}

func allPosition(p eventstore.Position) esdb.AllPosition {
	if p.IsZero() {
		return esdb.Start{}
	}
	return esdb.Position{Commit: p.Commit, Prepare: p.Prepare}
}

// invalidPosition marks the server's refusal to read $all from a position
// that is no record's as eventstore.ErrInvalidPosition. The client reports
// it as an unknown error; only gRPC's status tells it: InvalidArgument,
// "Trying to read from an invalid position." (RpcExceptions), or before
// 23.10 Unknown, "Unexpected ReadAllResult: InvalidPosition".
func invalidPosition(err error) error {
	s, ok := status.FromError(err)
	if !ok {
		return err
	}
	msg := strings.ToLower(s.Message())
	if strings.Contains(msg, "invalid position") || strings.Contains(msg, "invalidposition") {
		return fmt.Errorf("%w: %w", eventstore.ErrInvalidPosition, err)
	}
	return err
}

// isSystem tells the server's own events ($metadata, $statsCollected, ...).
func isSystem(eventType string) bool { return strings.HasPrefix(eventType, "$") }
