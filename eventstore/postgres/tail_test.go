package postgres

import (
	"testing"

	"github.com/bizcenter/bizcenter/eventstore"
)

// The tail keeps every event after its base up to its head, in order,
// however many came through it one by one, and between tailCap and twice
// that many.
func TestTail_keeps_the_newest_events_in_order(t *testing.T) {
	at := func(i int) eventstore.Position { return eventstore.Position{Commit: uint64(i), Prepare: uint64(i)} }
	tl := tail{valid: true}
	for i := 1; i <= 5*tailCap+7; i++ {
		tl.extend([]eventstore.RecordedEvent{{Revision: uint64(i), Position: at(i)}})
		if n := len(tl.events); n > 2*tailCap || (i > tailCap && n < tailCap) {
			t.Fatalf("after %d events the tail holds %d", i, n)
		}
		if tl.head != at(i) || tl.events[len(tl.events)-1].Position != at(i) {
			t.Fatalf("after %d events the head is %v", i, tl.head)
		}
		if first := tl.events[0].Position; !tl.base.Less(first) || first != at(int(tl.base.Commit)+1) {
			t.Fatalf("after %d events the tail starts at %v with base %v", i, first, tl.base)
		}
	}
	from := int(tl.base.Commit) + 10
	page := tl.after(at(from), 3)
	if len(page) != 3 || page[0].Revision != uint64(from+1) || page[2].Revision != uint64(from+3) {
		t.Fatalf("3 events after %d: %+v", from, page)
	}
}
