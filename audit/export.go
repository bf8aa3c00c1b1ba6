// Package audit holds what auditors and operators do with the whole log:
// export it, import it into an empty store, and verify its hash chains.
package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Line is one exported event: a JSON Lines record.
type Line struct {
	ID         uuid.UUID       `json:"id"`
	Stream     string          `json:"stream"`
	Revision   uint64          `json:"revision"`
	Position   string          `json:"position"`
	Type       string          `json:"type"`
	Data       json.RawMessage `json:"data"`
	Metadata   json.RawMessage `json:"metadata"`
	RecordedAt time.Time       `json:"recordedAt"`
}

// ExportOptions narrow an export. Only an unfiltered export can be
// imported into identical streams (a filter leaves revisions out).
type ExportOptions struct {
	From, To  time.Time // by the event's occurredAt; zero: unbounded
	AccountID uuid.UUID // events whose payload names this account; Nil: all
	// Progress is told how many events were read and written so far.
	Progress func(read, written int64)
}

// Export writes the log as JSON Lines, in log order, streaming a page at a
// time (memory stays flat however long the log). It returns the number of
// events written.
func Export(ctx context.Context, store eventstore.Store, w io.Writer, opts ExportOptions) (int64, error) {
	out := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(out)
	var read, written int64
	at := eventstore.Start
	for {
		page, err := store.ReadAll(ctx, at, 1000)
		if err != nil {
			return written, fmt.Errorf("export after %s: %w", at, err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			read++
			if !opts.keeps(e) {
				continue
			}
			if err := enc.Encode(Line{e.ID, e.Stream, e.Revision, e.Position.String(), e.Type, e.Data, e.Metadata, e.RecordedAt.UTC()}); err != nil {
				return written, err
			}
			written++
		}
		at = page[len(page)-1].Position
		if opts.Progress != nil {
			opts.Progress(read, written)
		}
	}
	return written, out.Flush()
}

func (o ExportOptions) keeps(e eventstore.RecordedEvent) bool {
	if !o.From.IsZero() || !o.To.IsZero() {
		var meta struct {
			OccurredAt time.Time `json:"occurredAt"`
		}
		_ = json.Unmarshal(e.Metadata, &meta)
		if (!o.From.IsZero() && meta.OccurredAt.Before(o.From)) || (!o.To.IsZero() && !meta.OccurredAt.Before(o.To)) {
			return false
		}
	}
	if o.AccountID != uuid.Nil {
		var ids struct {
			AccountID uuid.UUID `json:"accountId"`
		}
		_ = json.Unmarshal(e.Data, &ids)
		return ids.AccountID == o.AccountID
	}
	return true
}
