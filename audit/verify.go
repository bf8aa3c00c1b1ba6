package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
)

// Break is the first event of a stream whose chain does not hold.
type Break struct {
	Stream   string
	Revision uint64
	EventID  uuid.UUID
	Reason   string
}

func (b Break) String() string {
	return fmt.Sprintf("%s@%d (event %s): %s", b.Stream, b.Revision, b.EventID, b.Reason)
}

// page is how many events Verify reads at a time.
const page = 1000

// chain is what Verify knows of one stream so far.
type chain struct {
	next   uint64 // the revision the next event must have
	hash   string // the last event's hash
	broken bool
}

// chains follows every stream's hash chain through a log read in order.
type chains map[string]*chain

// follow takes the next event of the log: the break it makes in its
// stream's chain, or nil when the chain holds (or broke earlier: only a
// stream's first break is told).
func (cs chains) follow(rec eventstore.RecordedEvent) *Break {
	c := cs[rec.Stream]
	if c == nil {
		c = &chain{}
		cs[rec.Stream] = c
	}
	if c.broken {
		return nil
	}
	hash, why := check(rec, c)
	if why != "" {
		c.broken = true
		return &Break{Stream: rec.Stream, Revision: rec.Revision, EventID: rec.ID, Reason: why}
	}
	c.next, c.hash = rec.Revision+1, hash
	return nil
}

// summary writes the last line of a verification of streams streams.
func summary(out io.Writer, broken []Break, streams int) {
	if len(broken) == 0 {
		fmt.Fprintf(out, "all %d streams verified\n", streams)
	} else {
		fmt.Fprintf(out, "%d of %d streams broken\n", len(broken), streams)
	}
}

// Verify checks the log's tamper evidence. Every event's metadata carries
// a hash over its content and the previous event's hash in its stream
// (event.Hash), so an event edited, removed or reordered in the store
// breaks its stream's chain from there on. Verify reads the whole log in
// order and checks each stream's chain: revisions follow on from 0, each
// event's previous hash is the hash of the event before it, and its hash
// is the one its content gives. It reports the first break of each stream
// (an event without a hash is one), writing each to out as it finds it
// and a summary at the end.
func Verify(ctx context.Context, store eventstore.Store, out io.Writer) (broken []Break, err error) {
	return VerifyAgainst(ctx, store, nil, out)
}

// VerifyAgainst is Verify that also holds the store to a copy of the log
// kept elsewhere (HeadsOf an earlier export): each stream of the copy
// must still hold the copy's newest event of it, unchanged. That shows
// what the chain alone cannot: a stream cut short or removed, or a tail
// rewritten and sealed again, since the copy was made.
func VerifyAgainst(ctx context.Context, store eventstore.Store, kept Heads, out io.Writer) (broken []Break, err error) {
	if out == nil {
		out = io.Discard
	}
	cs, copied := chains{}, newComparison(kept)
	report := func(b *Break) {
		if b != nil {
			broken = append(broken, *b)
			fmt.Fprintln(out, "broken:", b)
		}
	}
	after := eventstore.Start
	for {
		recs, err := store.ReadAll(ctx, after, page)
		if err != nil {
			return broken, fmt.Errorf("verify: %w", err)
		}
		for _, rec := range recs {
			if b := cs.follow(rec); b != nil {
				report(b)
			} else if !cs[rec.Stream].broken {
				report(copied.meet(rec))
			}
		}
		if len(recs) < page {
			break
		}
		after = recs[len(recs)-1].Position
	}
	streams := len(cs)
	for _, b := range copied.unmet(cs) {
		if cs[b.Stream] == nil {
			streams++
		}
		report(&b)
	}
	summary(out, broken, streams)
	return broken, nil
}

// VerifyExport checks an export's hash chains as Verify checks the
// store's, naming the line of each stream's first break. Only an
// unfiltered export verifies: a filter leaves events out of streams.
func VerifyExport(r io.Reader, out io.Writer) (broken []Break, err error) {
	if out == nil {
		out = io.Discard
	}
	cs := chains{}
	err = readLines(r, func(n int64, l Line) error {
		if b := cs.follow(l.record()); b != nil {
			broken = append(broken, *b)
			fmt.Fprintf(out, "broken: line %d: %s\n", n, b)
		}
		return nil
	})
	if err != nil {
		return broken, fmt.Errorf("verify export: %w", err)
	}
	summary(out, broken, len(cs))
	return broken, nil
}

// check returns the event's hash, or why it breaks the chain.
func check(rec eventstore.RecordedEvent, c *chain) (string, string) {
	var meta event.Metadata
	switch err := json.Unmarshal(rec.Metadata, &meta); {
	case rec.Revision != c.next:
		return "", fmt.Sprintf("revision %d where %d was due", rec.Revision, c.next)
	case err != nil:
		return "", fmt.Sprintf("unreadable metadata: %v", err)
	case meta.Hash == "":
		return "", "no hash"
	case meta.EventID != rec.ID:
		return "", fmt.Sprintf("metadata names event %s", meta.EventID)
	case meta.PreviousHash != c.hash:
		return "", fmt.Sprintf("previous hash %q is not the hash of the event before (%q)", meta.PreviousHash, c.hash)
	case event.Hash(rec.Stream, rec.Revision, rec.Type, rec.Data, meta) != meta.Hash:
		return "", "the hash does not match the event's content"
	}
	return meta.Hash, ""
}
