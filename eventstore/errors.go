package eventstore

import (
	"errors"
	"fmt"
)

var (
	// ErrWrongExpectedRevision: the stream was not at the expected revision.
	ErrWrongExpectedRevision = errors.New("wrong expected revision")
	// ErrStreamNotFound: the stream has no events.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrSubscriptionClosed: Recv after Close.
	ErrSubscriptionClosed = errors.New("subscription closed")
	// ErrAppendTooLarge: the store refuses to take this much in one
	// append (EventStoreDB: 1 MiB by default). See AppendBudget.
	ErrAppendTooLarge = errors.New("append larger than the store takes at once")
	// ErrUnavailable: the store could not be reached, or did not answer
	// in time (an append's outcome is then unknown); a caller may try
	// again later. The embedded store's are the database's connection
	// errors (kit.Unreachable tells them).
	ErrUnavailable = errors.New("event store unavailable")
	// ErrInvalidPosition: the store cannot read the log from a position
	// that is no event's (EventStoreDB refuses one inside a record; the
	// embedded store reads from any). A caller's made-up position, not a
	// fault of the store.
	ErrInvalidPosition = errors.New("no event of the log has this position")
)

// AppendBudget bounds the data and metadata, in bytes, of one append by
// a caller free to split its events into several appends (an import).
// It leaves room below EventStoreDB's default maximum append size of
// 1 MiB, which counts each event's framing as well.
const AppendBudget = 512 << 10

// WrongExpectedRevisionError details a failed expectation. Actual is nil
// when the stream has no events.
type WrongExpectedRevisionError struct {
	Stream   string
	Expected ExpectedRevision
	Actual   *uint64
}

func (e *WrongExpectedRevisionError) Error() string {
	actual := "no_stream"
	if e.Actual != nil {
		actual = fmt.Sprintf("%d", *e.Actual)
	}
	return fmt.Sprintf("append to %s: expected revision %s, stream is at %s", e.Stream, e.Expected, actual)
}

func (e *WrongExpectedRevisionError) Is(target error) bool {
	return target == ErrWrongExpectedRevision
}
