package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
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
// The store must be empty, or have begun with the export's first event
// (this import, stopped part way): a store with a log of its own is
// refused before anything is appended.
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
		if err := appendRun(ctx, store, run, expected, data); err != nil {
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
		if line == 1 {
			if err := emptyOrBegunBy(ctx, store, l); err != nil {
				return err
			}
		}
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

// emptyOrBegunBy refuses a store whose log did not begin with the
// export's first event: one with a history of its own (another
// installation's, or the live database named by mistake), which the
// import would merge with the export's, stream by stream, until a stream
// both hold. A store that began with it is this export's import, stopped
// part way (or the store it was exported from).
func emptyOrBegunBy(ctx context.Context, store eventstore.Store, first Line) error {
	events, err := store.ReadAll(ctx, eventstore.Start, 1)
	if err != nil || len(events) == 0 || events[0].ID == first.ID {
		return err
	}
	return fmt.Errorf("the store holds a log of its own, nothing imported: its first event is %s@%d (event %s), the export's %s@%d (event %s); import into an empty database",
		events[0].Stream, events[0].Revision, events[0].ID, first.Stream, first.Revision, first.ID)
}

// appendRun appends a run of one stream's consecutive events. A run whose
// beginning is in the store already (an import that stopped within it: at
// a break of a piped export, or at the end of a copy cut short, flushes
// the run so far) has the rest appended after it, once the events stored
// there are found to be the run's own, by id; the store's retry check
// took such a run for a conflict, and the import could not be run again.
func appendRun(ctx context.Context, store eventstore.Store, run []Line, expected eventstore.ExpectedRevision, data []eventstore.EventData) error {
	_, err := store.Append(ctx, run[0].Stream, expected, data)
	var wrong *eventstore.WrongExpectedRevisionError
	if !errors.As(err, &wrong) || wrong.Actual == nil || *wrong.Actual < run[0].Revision || *wrong.Actual >= run[len(run)-1].Revision {
		return err
	}
	in := int(*wrong.Actual - run[0].Revision + 1) // of the run's events
	stored, rerr := store.ReadStream(ctx, run[0].Stream, eventstore.ReadStreamOptions{From: run[0].Revision, Limit: in})
	if rerr != nil || len(stored) != in {
		return err
	}
	for i, rec := range stored {
		if rec.ID != run[i].ID || rec.Revision != run[i].Revision {
			return err
		}
	}
	_, err = store.Append(ctx, run[0].Stream, eventstore.Exact(*wrong.Actual), data[in:])
	return err
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
