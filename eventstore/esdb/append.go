package esdb

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Append writes events with the expected revision. Event ids make a retry
// safe: the server answers a repeated batch with the first result.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.CheckAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	data := make([]esdb.EventData, len(events))
	size := 0
	for i, e := range events {
		data[i] = esdb.EventData{EventID: e.ID, EventType: e.Type, ContentType: esdb.ContentTypeJson, Data: e.Data, Metadata: e.Metadata}
		size += len(e.Data) + len(e.Metadata) + len(e.Type) + framing
	}
	// The server refuses a larger append by failing the call while the
	// client still sends, which the client then reports as a failed send
	// (EOF) as often as the server's reason: so it is judged here.
	if size > s.opts.maxAppendSize {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w: about %d bytes, the server takes %d",
			stream, eventstore.ErrAppendTooLarge, size, s.opts.maxAppendSize)
	}
	opts := esdb.AppendToStreamOptions{ExpectedRevision: toExpected(expected)}
	ctx, cancel := s.conn.scope(ctx)
	defer cancel()
	var res *esdb.WriteResult
	err := s.conn.do(ctx, func(ctx context.Context, c *esdb.Client) (err error) {
		res, err = c.AppendToStream(ctx, stream, opts, data...)
		return err
	})
	if hasCode(err, esdb.ErrorCodeWrongExpectedVersion) {
		return eventstore.AppendResult{}, s.wrongRevision(ctx, stream, expected, err)
	}
	if err != nil && strings.Contains(err.Error(), tooLarge) {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w: %w", stream, eventstore.ErrAppendTooLarge, err)
	}
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	return eventstore.AppendResult{
		NextRevision: res.NextExpectedVersion,
		Position:     eventstore.Position{Commit: res.CommitPosition, Prepare: res.PreparePosition},
	}, nil
}

// framing bounds what a proposed message adds to an event's data,
// metadata and type: its id as text, the content type, field tags and
// lengths.
const framing = 100

// tooLarge is how the server words its refusal of an append past its
// maximum append size (InvalidArgument, "Maximum Append Size of 1048576
// Exceeded."), which client v4.2.0 passes on as an unknown error.
const tooLarge = "Maximum Append Size of"

func toExpected(e eventstore.ExpectedRevision) esdb.ExpectedRevision {
	if rev, ok := e.Exact(); ok {
		return esdb.Revision(rev)
	}
	switch {
	case e.IsNoStream():
		return esdb.NoStream{}
	case e.IsStreamExists():
		return esdb.StreamExists{}
	default:
		return esdb.Any{}
	}
}

// wrongMessage is how client v4.2.0 words the server's wrong-expected-
// version answer (client.go); the current revision is all it keeps of it.
var wrongMessage = regexp.MustCompile(`^wrong expected version: expecting '[^']*' but got '([^']*)'$`)

// wrongRevision builds the port's error with the stream's actual revision.
// The revision comes from the server's answer, which is what the server
// saw when it refused the append; reading the stream afterwards could see
// later writes. Only if the client's wording changes does it fall back to
// reading the last event.
func (s *Store) wrongRevision(ctx context.Context, stream string, expected eventstore.ExpectedRevision, err error) error {
	wrong := &eventstore.WrongExpectedRevisionError{Stream: stream, Expected: expected}
	if actual, ok := actualFromMessage(err); ok {
		wrong.Actual = actual
		return wrong
	}
	last, rerr := s.ReadStream(ctx, stream, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, FromEnd: true, Limit: 1})
	switch {
	case errors.Is(rerr, eventstore.ErrStreamNotFound):
	case rerr != nil:
		return fmt.Errorf("append to %s: %w (actual revision unknown: %w)", stream, eventstore.ErrWrongExpectedRevision, rerr)
	case len(last) == 1:
		wrong.Actual = &last[0].Revision
	}
	return wrong
}

// actualFromMessage reads the current revision out of the client's error:
// nil for no stream.
func actualFromMessage(err error) (*uint64, bool) {
	var e *esdb.Error
	if !errors.As(err, &e) || e.Err() == nil {
		return nil, false
	}
	m := wrongMessage.FindStringSubmatch(e.Err().Error())
	if m == nil {
		return nil, false
	}
	if m[1] == "no_stream" {
		return nil, true
	}
	n, perr := strconv.ParseUint(m[1], 10, 64)
	if perr != nil {
		return nil, false
	}
	return &n, true
}
