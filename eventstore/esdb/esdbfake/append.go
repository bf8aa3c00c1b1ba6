package esdbfake

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Append reads the options, then every proposed event until the client
// closes its side, and answers once, as the server does. A wrong expected
// version is an ordinary answer, not a gRPC error.
func (s *service) Append(stream streams.Streams_AppendServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil || opts.GetStreamIdentifier() == nil {
		return status.Error(codes.InvalidArgument, "append: the first message must carry the options")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	expected := expectedFromProto(opts)

	var batch []proposed
	size := 0
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		p, err := proposedFromProto(req.GetProposedMessage())
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		// As the server does, counting each message as it arrives.
		if size += proto.Size(req.GetProposedMessage()); size > maxAppendSize {
			return status.Error(codes.InvalidArgument, fmt.Sprintf("Maximum Append Size of %d Exceeded.", maxAppendSize))
		}
		batch = append(batch, p)
	}
	if err := stream.Context().Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	o := s.db.append(name, expected, batch)
	if o.ok && takeOne(s.timeouts) {
		// RpcExceptions.Timeout, after the write (TimeOutAppends).
		return status.Error(codes.Aborted, "Operation timed out: Commit timeout.")
	}
	return stream.SendAndClose(appendResp(o, opts))
}

// takeOne counts one down from a positive n.
func takeOne(n *atomic.Int64) bool {
	for {
		v := n.Load()
		if v <= 0 {
			return false
		}
		if n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

// maxAppendSize is the server's default limit on one append, in bytes of
// its proposed messages (Streams.Append.cs, MaxAppendSize).
const maxAppendSize = 1 << 20

func expectedFromProto(opts *streams.AppendReq_Options) int64 {
	switch e := opts.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Revision:
		return int64(e.Revision)
	case *streams.AppendReq_Options_NoStream:
		return expectNoStream
	case *streams.AppendReq_Options_StreamExists:
		return expectStreamExists
	default:
		return expectAny
	}
}

func proposedFromProto(m *streams.AppendReq_ProposedMessage) (proposed, error) {
	if m == nil {
		return proposed{}, errors.New("append: expected a proposed message")
	}
	id, err := uuidFromProto(m.GetId())
	if err != nil {
		return proposed{}, fmt.Errorf("append: event id: %w", err)
	}
	typ, ok1 := m.GetMetadata()["type"]
	ct, ok2 := m.GetMetadata()["content-type"]
	if !ok1 || !ok2 {
		return proposed{}, errors.New("append: type and content-type metadata are required")
	}
	return proposed{id: id, eventType: typ, contentType: ct, data: m.GetData(), meta: m.GetCustomMetadata()}, nil
}

func appendResp(o outcome, opts *streams.AppendReq_Options) *streams.AppendResp {
	if o.ok {
		ok := &streams.AppendResp_Success{}
		if o.revision < 0 {
			ok.CurrentRevisionOption = &streams.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
			ok.PositionOption = &streams.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
		} else {
			ok.CurrentRevisionOption = &streams.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(o.revision)}
			ok.PositionOption = &streams.AppendResp_Success_Position{Position: &streams.AppendResp_Position{CommitPosition: o.pos, PreparePosition: o.pos}}
		}
		return &streams.AppendResp{Result: &streams.AppendResp_Success_{Success: ok}}
	}
	// The *_20_6_0 duplicates a real server also fills are left out: v4
	// clients read only these fields.
	wrong := &streams.AppendResp_WrongExpectedVersion{}
	if o.current < 0 {
		wrong.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
	} else {
		wrong.CurrentRevisionOption = &streams.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(o.current)}
	}
	switch e := opts.GetExpectedStreamRevision().(type) {
	case *streams.AppendReq_Options_Revision:
		wrong.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: e.Revision}
	case *streams.AppendReq_Options_NoStream:
		wrong.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case *streams.AppendReq_Options_StreamExists:
		wrong.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
	default:
		wrong.ExpectedRevisionOption = &streams.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
	}
	return &streams.AppendResp{Result: &streams.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: wrong}}
}

// uuidFromProto reads either encoding; the structured one is two
// big-endian halves of the RFC 4122 bytes.
func uuidFromProto(u *shared.UUID) (uuid.UUID, error) {
	if s := u.GetStructured(); s != nil {
		var id uuid.UUID
		binary.BigEndian.PutUint64(id[:8], uint64(s.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(id[8:], uint64(s.GetLeastSignificantBits()))
		return id, nil
	}
	if u.GetString_() != "" {
		return uuid.Parse(u.GetString_())
	}
	return uuid.Nil, errors.New("missing")
}

func uuidToProto(id uuid.UUID, asString bool) *shared.UUID {
	if asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}
