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
//
// It checks every stream's hash chain as VerifyExport does and refuses a
// tampered export at its first break, appending nothing from that event
// on (the events before it are in; run VerifyExport first to write
// nothing of a tampered file).
func Import(ctx context.Context, store eventstore.Store, r io.Reader, progress func(int64)) (int64, error) {
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
			return fmt.Errorf("%s@%d: %w", first.Stream, first.Revision, err)
		}
		run, size = run[:0], 0
		if progress != nil {
			progress(n)
		}
		return nil
	}
	chains := chains{}
	err := readLines(r, func(line int64, l Line) error {
		if b := chains.follow(l.record()); b != nil {
			// The events before it held their chains: they go in, as the
			// doc comment says, and nothing from the break on.
			if err := flush(); err != nil {
				return err
			}
			return fmt.Errorf("line %d: the export is not intact: %s", line, b)
		}
		n++
		bytes := len(l.Data) + len(l.Metadata)
		if len(run) > 0 && (l.Stream != run[0].Stream || l.Revision != run[len(run)-1].Revision+1 ||
			len(run) == 500 || size+bytes > eventstore.AppendBudget) {
			if err := flush(); err != nil {
				return err
			}
		}
		run, size = append(run, l), size+bytes
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return n, fmt.Errorf("import: %w", err)
	}
	return n, nil
}

// readLines calls f with each line of an export, numbered from 1.
func readLines(r io.Reader, f func(n int64, l Line) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var n int64
	for sc.Scan() {
		n++
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if err := f(n, l); err != nil {
			return err
		}
	}
	return sc.Err()
}

// record is the stored event an export line stands for (its position
// aside).
func (l Line) record() eventstore.RecordedEvent {
	return eventstore.RecordedEvent{ID: l.ID, Stream: l.Stream, Revision: l.Revision, Type: l.Type,
		Data: l.Data, Metadata: l.Metadata, RecordedAt: l.RecordedAt}
}
