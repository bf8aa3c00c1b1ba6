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
	if out == nil {
		out = io.Discard
	}
	streams := map[string]*chain{}
	after := eventstore.Start
	for {
		recs, err := store.ReadAll(ctx, after, page)
		if err != nil {
			return broken, fmt.Errorf("verify: %w", err)
		}
		for _, rec := range recs {
			c := streams[rec.Stream]
			if c == nil {
				c = &chain{}
				streams[rec.Stream] = c
			}
			if c.broken {
				continue
			}
			hash, why := check(rec, c)
			if why != "" {
				b := Break{Stream: rec.Stream, Revision: rec.Revision, EventID: rec.ID, Reason: why}
				broken, c.broken = append(broken, b), true
				fmt.Fprintln(out, "broken:", b)
				continue
			}
			c.next, c.hash = rec.Revision+1, hash
		}
		if len(recs) < page {
			break
		}
		after = recs[len(recs)-1].Position
	}
	if len(broken) == 0 {
		fmt.Fprintf(out, "all %d streams verified\n", len(streams))
	} else {
		fmt.Fprintf(out, "%d of %d streams broken\n", len(broken), len(streams))
	}
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
