package projections

import (
	"github.com/bizcenter/bizcenter/eventstore"
)

// plannedWrites are a page's writes, planned while the build applied
// the page before (see planPages). A build did both one after the other:
// planning a page's writes (decoding aside) took about a fifth of its
// time, while the database waited.
type plannedWrites struct {
	from eventstore.Position // planned for the records after it
	w    *writes             // nil: none, or taken
}

// take returns the planned writes, if there are any and they are what
// queueAll(p, records, from, nil) would plan: no record they were planned
// for is at or before from. They are handed out once.
func (pw *plannedWrites) take(from eventstore.Position) *writes {
	if pw.w == nil || pw.from.Less(from) {
		return nil
	}
	w := pw.w
	pw.w = nil
	return w
}

// planner plans a projector's writes for records after from, for a batch
// that opens without a personal key; nil when it cannot (they are then
// planned in the transaction, as they always were, and any error is
// reported there).
type planner func(records []Record, from eventstore.Position) *writes

// plannerOf is the planner of projector p.
func plannerOf(p Projector) planner {
	return func(records []Record, from eventstore.Position) *writes {
		if !needsNoKey(records, from) {
			return nil
		}
		w, err := queueAll(p, records, from, nil)
		if err != nil {
			return nil
		}
		return w
	}
}
