package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Import appends an export's events to a store, stream by stream with the
// revisions they had, keeping their ids, data and metadata. Consecutive
// events of one stream go in one append, up to 500 events or AppendBudget
// bytes (EventStoreDB refuses larger appends). It is safe to run again
// after an interruption: an event already imported is recognised by its
// id and revision. It returns the number of events read.
func Import(ctx context.Context, store eventstore.Store, r io.Reader, progress func(int64)) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var n int64
	var run []Line
	size := 0 // of run's data and metadata
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		first := run[0]
		expected := eventstore.NoStream()
		if first.Revision > 0 {
			expected = eventstore.Exact(first.Revision - 1)
		}
		data := make([]eventstore.EventData, len(run))
		for i, l := range run {
			data[i] = eventstore.EventData{ID: l.ID, Type: l.Type, Data: l.Data, Metadata: l.Metadata}
		}
		if _, err := store.Append(ctx, first.Stream, expected, data); err != nil {
			return fmt.Errorf("import %s@%d: %w", first.Stream, first.Revision, err)
		}
		run, size = run[:0], 0
		if progress != nil {
			progress(n)
		}
		return nil
	}
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return n, fmt.Errorf("import line %d: %w", n+1, err)
		}
		n++
		bytes := len(l.Data) + len(l.Metadata)
		if len(run) > 0 && (l.Stream != run[0].Stream || l.Revision != run[len(run)-1].Revision+1 ||
			len(run) == 500 || size+bytes > eventstore.AppendBudget) {
			if err := flush(); err != nil {
				return n, err
			}
		}
		run, size = append(run, l), size+bytes
	}
	if err := sc.Err(); err != nil {
		return n, err
	}
	return n, flush()
}
