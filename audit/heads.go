package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
)

// Heads are the newest event of each stream in a copy of the log kept
// elsewhere. Each event's hash covers the one before it, so a store that
// still holds a stream's head unchanged holds everything the copy has of
// that stream.
type Heads map[string]Head

// Head is a stream's newest event in a copy.
type Head struct {
	Revision uint64
	EventID  uuid.UUID
	Hash     string
}

// HeadsOf reads the heads of an export. A filtered export serves as well
// as a whole one: its newest event of a stream is still one the store
// must hold.
func HeadsOf(r io.Reader) (Heads, error) {
	hs := Heads{}
	err := readLines(r, func(n int64, l Line) error {
		var meta event.Metadata
		if err := json.Unmarshal(l.Metadata, &meta); err != nil || meta.Hash == "" {
			return fmt.Errorf("line %d: no hash to hold the store to", n)
		}
		if h, ok := hs[l.Stream]; !ok || l.Revision >= h.Revision {
			hs[l.Stream] = Head{Revision: l.Revision, EventID: l.ID, Hash: meta.Hash}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("heads: %w", err)
	}
	if len(hs) == 0 {
		// Else a store held to an empty file (the wrong one, or a copy
		// cut short) was "verified", against nothing.
		return nil, errors.New("heads: the copy holds no events, nothing to hold the store to")
	}
	return hs, nil
}

// comparison holds a pass over the store to a copy's heads.
type comparison struct {
	heads Heads
	met   map[string]bool
	ends  map[string]uint64 // the store's last revision of the copy's streams
}

func newComparison(heads Heads) *comparison {
	return &comparison{heads: heads, met: map[string]bool{}, ends: map[string]uint64{}}
}

// meet takes the store's next event: a break when it is a copied stream's
// head, changed.
func (c *comparison) meet(rec eventstore.RecordedEvent) *Break {
	h, ok := c.heads[rec.Stream]
	if !ok {
		return nil
	}
	c.ends[rec.Stream] = rec.Revision
	if rec.Revision != h.Revision {
		return nil
	}
	c.met[rec.Stream] = true
	var meta event.Metadata
	if json.Unmarshal(rec.Metadata, &meta) == nil && meta.Hash == h.Hash {
		return nil
	}
	return &Break{Stream: rec.Stream, Revision: rec.Revision, EventID: rec.ID,
		Reason: fmt.Sprintf("not the event the copy holds here (event %s, hash %q): rewritten since the copy was made", h.EventID, h.Hash)}
}

// unmet are the copied streams whose head the store no longer reaches,
// but for those already broken in cs, in stream order.
func (c *comparison) unmet(cs chains) []Break {
	var out []Break
	for stream, h := range c.heads {
		if c.met[stream] || (cs[stream] != nil && cs[stream].broken) {
			continue
		}
		why := fmt.Sprintf("the copy holds it up to revision %d; the store has no such stream", h.Revision)
		if end, ok := c.ends[stream]; ok {
			why = fmt.Sprintf("the copy holds it up to revision %d; the store's stream ends at %d", h.Revision, end)
		}
		out = append(out, Break{Stream: stream, Revision: h.Revision, EventID: h.EventID, Reason: why + ": cut since the copy was made"})
	}
	slices.SortFunc(out, func(a, b Break) int { return strings.Compare(a.Stream, b.Stream) })
	return out
}
