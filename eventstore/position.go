package eventstore

import (
	"fmt"
	"strconv"
	"strings"
)

// Position is a place in the global log. Events of one append may share a
// commit position, so a position is the pair (commit, prepare) compared in
// that order. In the PostgreSQL store, Commit is the appending transaction's
// id and Prepare the event's sequence number; in EventStoreDB they are the
// server's commit and prepare positions.
type Position struct {
	Commit  uint64
	Prepare uint64
}

// Start is the position before the first event.
var Start = Position{}

// Less orders positions.
func (p Position) Less(q Position) bool {
	if p.Commit != q.Commit {
		return p.Commit < q.Commit
	}
	return p.Prepare < q.Prepare
}

// IsZero reports whether p is Start.
func (p Position) IsZero() bool { return p == Start }

// String is the opaque form clients see, "commit-prepare".
func (p Position) String() string {
	return strconv.FormatUint(p.Commit, 10) + "-" + strconv.FormatUint(p.Prepare, 10)
}

// ParsePosition reads the form String writes. The empty string is Start.
// Each part fits in 63 bits: both stores keep positions as signed 64-bit
// numbers, and a larger one, which no store ever gave, would wrap to a
// negative one and read the log from its start.
func ParsePosition(s string) (Position, error) {
	if s == "" {
		return Start, nil
	}
	c, p, ok := strings.Cut(s, "-")
	if !ok {
		return Position{}, fmt.Errorf("position %q: want commit-prepare", s)
	}
	commit, err := strconv.ParseUint(c, 10, 63)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: %w", s, err)
	}
	prepare, err := strconv.ParseUint(p, 10, 63)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: %w", s, err)
	}
	return Position{Commit: commit, Prepare: prepare}, nil
}
