package esdbfake

import (
	"regexp"
	"sort"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// defaultWindow is the server's read batch size, the search window of a
// filter sent with window = count.
const defaultWindow = 32

// selection is what one subscription follows.
type selection struct {
	start    func(log []record) int // index of the first record to consider
	match    func(r *record) bool
	interval uint32 // checkpoint every this many considered records; 0: never
	fromPos  uint64 // the $all position subscribed from, 0 for start
}

// subscribe follows the server's order: confirmation, catch-up events
// ("from" is exclusive), a checkpoint then caught_up for filtered
// subscriptions, then live events. The snapshot is taken before the
// confirmation, so a write after it wakes the loop and nothing is missed.
// Appends never wait for a subscriber: each one has its own cursor.
func (s *service) subscribe(opts *streams.ReadReq_Options, enc encoder, out streams.Streams_ReadServer) error {
	sel, err := selectionFrom(opts)
	if err != nil {
		return err
	}
	ctx := out.Context()
	log, changed := s.db.snapshot()
	cursor := sel.start(log)
	confirm := &streams.ReadResp{Content: &streams.ReadResp_Confirmation{Confirmation: &streams.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()}}}
	if err := out.Send(confirm); err != nil {
		return err
	}
	if all := opts.GetAll(); all != nil && !onBoundary(log, all.GetPosition()) {
		return errInvalidPosition // after the confirmation, as the server does
	}
	var considered uint32
	var lastCheckpoint uint64
	checkpoint := func(pos uint64) error {
		if pos <= lastCheckpoint {
			return nil // checkpoints never go backwards or repeat
		}
		lastCheckpoint = pos
		return out.Send(&streams.ReadResp{Content: &streams.ReadResp_Checkpoint_{Checkpoint: &streams.ReadResp_Checkpoint{CommitPosition: pos, PreparePosition: pos}}})
	}
	caughtUp := false
	for {
		for ; cursor < len(log); cursor++ {
			r := &log[cursor]
			if sel.match(r) {
				if err := out.Send(enc.event(r)); err != nil {
					return err
				}
			}
			if sel.interval == 0 {
				continue
			}
			if considered++; considered >= sel.interval {
				considered = 0
				if err := checkpoint(r.pos); err != nil {
					return err
				}
			}
		}
		if !caughtUp {
			caughtUp = true
			if sel.interval > 0 {
				// The server always checkpoints once when it goes live.
				pos := sel.fromPos
				if cursor > 0 {
					pos = max(pos, log[cursor-1].pos)
				}
				if err := checkpoint(pos); err != nil {
					return err
				}
			}
			if err := out.Send(&streams.ReadResp{Content: &streams.ReadResp_CaughtUp_{CaughtUp: &streams.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
			log, changed = s.db.snapshot()
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

func selectionFrom(opts *streams.ReadReq_Options) (selection, error) {
	if st := opts.GetStream(); st != nil {
		return streamSelection(st), nil
	}
	all := opts.GetAll()
	sel := selection{match: func(*record) bool { return true }}
	switch {
	case all.GetEnd() != nil:
		sel.start = func(log []record) int { return len(log) }
	case all.GetPosition() != nil:
		sel.fromPos = all.GetPosition().GetCommitPosition()
		sel.start = func(log []record) int {
			return sort.Search(len(log), func(i int) bool { return log[i].pos > sel.fromPos })
		}
	default:
		sel.start = func([]record) int { return 0 }
	}
	f := opts.GetFilter()
	if f == nil {
		return sel, nil
	}
	match, err := filterMatch(f)
	if err != nil {
		return selection{}, status.Error(codes.InvalidArgument, err.Error())
	}
	if f.GetCheckpointIntervalMultiplier() == 0 {
		return selection{}, status.Error(codes.InvalidArgument, "subscribe: checkpoint interval multiplier must be positive")
	}
	window := uint32(defaultWindow)
	if m, ok := f.GetWindow().(*streams.ReadReq_Options_FilterOptions_Max); ok {
		window = m.Max
	}
	sel.match = match
	sel.interval = f.GetCheckpointIntervalMultiplier() * window
	return sel, nil
}

// streamSelection follows one stream; "from revision R" starts at R+1.
func streamSelection(st *streams.ReadReq_Options_StreamOptions) selection {
	name := string(st.GetStreamIdentifier().GetStreamName())
	sel := selection{start: func([]record) int { return 0 }}
	switch r := st.GetRevisionOption().(type) {
	case *streams.ReadReq_Options_StreamOptions_End:
		sel.start = func(log []record) int { return len(log) }
		sel.match = func(rec *record) bool { return rec.stream == name }
	case *streams.ReadReq_Options_StreamOptions_Revision:
		sel.match = func(rec *record) bool { return rec.stream == name && rec.revision > r.Revision }
	default:
		sel.match = func(rec *record) bool { return rec.stream == name }
	}
	return sel
}

// filterMatch applies a prefix list (any StartsWith) or an unanchored
// regex to the event type or the stream name, as EventFilter does.
func filterMatch(f *streams.ReadReq_Options_FilterOptions) (func(*record) bool, error) {
	expr, onType := f.GetEventType(), true
	if expr == nil {
		expr, onType = f.GetStreamIdentifier(), false
	}
	subject := func(r *record) string {
		if onType {
			return r.eventType
		}
		return r.stream
	}
	if expr.GetRegex() != "" {
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return nil, err
		}
		return func(r *record) bool { return re.MatchString(subject(r)) }, nil
	}
	prefixes := expr.GetPrefix()
	return func(r *record) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(subject(r), p) {
				return true
			}
		}
		return false
	}, nil
}
