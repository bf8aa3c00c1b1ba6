package esdbfake

import (
	"sort"
	"strconv"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Read serves reads (count_option = count) and subscriptions
// (count_option = subscription). A read answers only with events or
// stream_not_found: the v4.2.0 client panics on anything else in a read.
func (s *service) Read(req *streams.ReadReq, out streams.Streams_ReadServer) error {
	opts := req.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "read: options are required")
	}
	enc := encoder{asString: opts.GetUuidOption().GetString_() != nil}
	if opts.GetSubscription() != nil {
		return s.subscribe(opts, enc, out)
	}
	var recs []record
	var err error
	if st := opts.GetStream(); st != nil {
		name := string(st.GetStreamIdentifier().GetStreamName())
		all := s.db.stream(name)
		if len(all) == 0 {
			return out.Send(&streams.ReadResp{Content: &streams.ReadResp_StreamNotFound_{StreamNotFound: &streams.ReadResp_StreamNotFound{
				StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
			}}})
		}
		recs, err = readStream(all, st, opts.GetReadDirection(), opts.GetCount())
	} else {
		log, _ := s.db.snapshot()
		if !onBoundary(log, opts.GetAll().GetPosition()) {
			return errInvalidPosition
		}
		recs = readAll(log, opts.GetAll(), opts.GetReadDirection(), opts.GetCount())
	}
	if err != nil {
		return err
	}
	for i := range recs {
		if err := out.Send(enc.event(&recs[i])); err != nil {
			return err
		}
	}
	return nil
}

// readStream: forwards from R returns R, R+1, ...; backwards from R returns
// R, R-1, ... starting at the last event when R is past it.
func readStream(all []record, opts *streams.ReadReq_Options_StreamOptions, dir streams.ReadReq_Options_ReadDirection, count uint64) ([]record, error) {
	last := uint64(len(all) - 1)
	from := uint64(0)
	switch r := opts.GetRevisionOption().(type) {
	case *streams.ReadReq_Options_StreamOptions_Revision:
		from = r.Revision
	case *streams.ReadReq_Options_StreamOptions_End:
		if dir == streams.ReadReq_Options_Forwards {
			// The server trips an assertion here; say so plainly.
			return nil, status.Error(codes.InvalidArgument, "read: forwards from the end of a stream is not supported")
		}
		from = last
	}
	var out []record
	if dir == streams.ReadReq_Options_Backwards {
		from = min(from, last)
		for r := int64(from); r >= 0 && uint64(len(out)) < count; r-- {
			out = append(out, all[r])
		}
		return out, nil
	}
	for r := from; r <= last && uint64(len(out)) < count; r++ {
		out = append(out, all[r])
	}
	return out, nil
}

// readAll: forwards from P includes the record at P; backwards from P
// includes only records that end at or before P. Forwards from the end is
// empty.
func readAll(log []record, opts *streams.ReadReq_Options_AllOptions, dir streams.ReadReq_Options_ReadDirection, count uint64) []record {
	var out []record
	if dir == streams.ReadReq_Options_Backwards {
		i := len(log) - 1
		if p := opts.GetPosition(); p != nil {
			i = sort.Search(len(log), func(i int) bool { return log[i].end > p.GetCommitPosition() }) - 1
		}
		for ; i >= 0 && uint64(len(out)) < count; i-- {
			out = append(out, log[i])
		}
		return out
	}
	i := 0
	switch {
	case opts.GetEnd() != nil:
		i = len(log)
	case opts.GetPosition() != nil:
		i = sort.Search(len(log), func(i int) bool { return log[i].pos >= opts.GetPosition().GetCommitPosition() })
	}
	for ; i < len(log) && uint64(len(out)) < count; i++ {
		out = append(out, log[i])
	}
	return out
}

// errInvalidPosition is what the server answers a read or subscription
// of $all from a position that is no record's (RpcExceptions.
// InvalidPositionException; servers before 23.10 answered gRPC Unknown,
// "Unexpected ReadAllResult: InvalidPosition").
var errInvalidPosition = status.Error(codes.InvalidArgument, "Trying to read from an invalid position.")

// onBoundary tells a position the server can read $all from: the start,
// a record's position, or the end of the log. The server refuses one
// inside a record (StorageReaderWorker, InvalidPosition); past the end the
// fake stays lenient, as no client here depends on that answer.
func onBoundary(log []record, p *streams.ReadReq_Options_Position) bool {
	if p == nil || p.GetCommitPosition() == 0 && p.GetPreparePosition() == 0 {
		return true
	}
	c := p.GetCommitPosition()
	if len(log) == 0 || c >= log[len(log)-1].end {
		return true
	}
	i := sort.Search(len(log), func(i int) bool { return log[i].pos >= c })
	return i < len(log) && log[i].pos == c && p.GetPreparePosition() == c
}

// encoder writes records as the server does. Every field the client
// dereferences is set: a nil stream identifier panics it, and a missing
// "created" makes it call log.Fatalf.
type encoder struct{ asString bool }

func (e encoder) event(r *record) *streams.ReadResp {
	return &streams.ReadResp{Content: &streams.ReadResp_Event{Event: &streams.ReadResp_ReadEvent{
		Event: &streams.ReadResp_ReadEvent_RecordedEvent{
			Id:               uuidToProto(r.id, e.asString),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.revision,
			PreparePosition:  r.pos,
			CommitPosition:   r.pos,
			Metadata: map[string]string{
				"type":         r.eventType,
				"content-type": r.contentType,
				"created":      strconv.FormatInt(r.created, 10),
			},
			CustomMetadata: r.meta,
			Data:           r.data,
		},
		Position: &streams.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.pos},
	}}}
}
