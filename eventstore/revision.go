package eventstore

import "fmt"

type expectation int

const (
	expectAny expectation = iota
	expectNoStream
	expectStreamExists
	expectExact
)

// ExpectedRevision is what an append expects of the stream it writes to.
type ExpectedRevision struct {
	kind     expectation
	revision uint64
}

// Any appends whatever the stream holds.
func Any() ExpectedRevision { return ExpectedRevision{kind: expectAny} }

// NoStream appends only to a stream with no events.
func NoStream() ExpectedRevision { return ExpectedRevision{kind: expectNoStream} }

// StreamExists appends only to a stream with at least one event.
func StreamExists() ExpectedRevision { return ExpectedRevision{kind: expectStreamExists} }

// Exact appends only when the stream's last event has this revision.
func Exact(revision uint64) ExpectedRevision {
	return ExpectedRevision{kind: expectExact, revision: revision}
}

// IsAny, IsNoStream, IsStreamExists report the kind of expectation; Exact
// reports the revision when the expectation is exact.
func (e ExpectedRevision) IsAny() bool          { return e.kind == expectAny }
func (e ExpectedRevision) IsNoStream() bool     { return e.kind == expectNoStream }
func (e ExpectedRevision) IsStreamExists() bool { return e.kind == expectStreamExists }
func (e ExpectedRevision) Exact() (uint64, bool) {
	return e.revision, e.kind == expectExact
}

func (e ExpectedRevision) String() string {
	switch e.kind {
	case expectNoStream:
		return "no_stream"
	case expectStreamExists:
		return "stream_exists"
	case expectExact:
		return fmt.Sprintf("%d", e.revision)
	default:
		return "any"
	}
}

// Check tells whether a stream whose last revision is current (nil: no
// events) satisfies the expectation.
func (e ExpectedRevision) Check(current *uint64) bool {
	switch e.kind {
	case expectNoStream:
		return current == nil
	case expectStreamExists:
		return current != nil
	case expectExact:
		return current != nil && *current == e.revision
	default:
		return true
	}
}

// Revision is the expectation to use after reading a stream whose last
// revision is current (nil: the stream has no events).
func Revision(current *uint64) ExpectedRevision {
	if current == nil {
		return NoStream()
	}
	return Exact(*current)
}
