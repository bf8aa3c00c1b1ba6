package esdbfake

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// Expected versions as the server encodes them internally (IndexWriter):
// an exact revision is n >= 0.
const (
	expectAny          int64 = -2
	expectNoStream     int64 = -1
	expectStreamExists int64 = -4
)

// record is one event of the log. Records never change once written, so
// readers may keep a slice of them without holding the lock.
type record struct {
	id          uuid.UUID
	stream      string
	revision    uint64
	pos         uint64 // commit == prepare, as for every event written over gRPC
	end         uint64 // position just past the record: backwards $all reads compare it
	eventType   string
	contentType string
	created     int64 // .NET ticks (100 ns) since the Unix epoch
	data, meta  []byte
}

// proposed is an event of an append request.
type proposed struct {
	id          uuid.UUID
	eventType   string
	contentType string
	data, meta  []byte
}

// outcome answers an append. On success revision and pos name the last
// event of the batch (revision -1 and pos 0 when nothing was written to a
// stream that does not exist); on failure current is the stream's revision
// (-1: no stream).
type outcome struct {
	ok       bool
	revision int64
	pos      uint64
	current  int64
}

// db is the whole store: one log in commit order.
type db struct {
	mu      sync.RWMutex
	records []record
	streams map[string][]int // record index by stream revision
	ids     map[uuid.UUID]int
	next    uint64
	changed chan struct{} // closed and replaced after every write
}

// firstPosition leaves room for a log header, so no event sits at 0 and a
// subscription "from (0,0)" cannot skip one.
const firstPosition = 128

func newDB() *db {
	d := &db{
		streams: map[string][]int{},
		ids:     map[uuid.UUID]int{},
		next:    firstPosition,
		changed: make(chan struct{}),
	}
	// A real database is never empty: these are the kinds of system events
	// a fresh node writes. Readers of $all must cope with them.
	for _, s := range []struct{ stream, typ string }{
		{"$users", "$UserCreated"},
		{"$user-admin", "$user"},
		{"$$$scavenges", "$metadata"},
		{"$stats-127.0.0.1:2113", "$statsCollected"},
	} {
		d.append(s.stream, expectAny, []proposed{{id: uuid.New(), eventType: s.typ, contentType: "application/json", data: []byte("{}")}})
	}
	return d
}

// append applies EventStoreDB's write rules (IndexWriter.CheckCommit):
// exact and no-stream expectations below the current revision are answered
// from the ids already stored; any and stream-exists check the ids of the
// batch against the whole log.
func (d *db) append(stream string, expected int64, batch []proposed) outcome {
	d.mu.Lock()
	defer d.mu.Unlock()
	revs := d.streams[stream]
	cur := int64(len(revs)) - 1
	switch {
	case expected == expectStreamExists && cur < 0:
		return outcome{current: cur}
	case expected == expectAny || expected == expectStreamExists:
		if len(batch) > 0 {
			if i, known := d.ids[batch[0].id]; known && d.records[i].stream == stream {
				return d.replayed(stream, int64(d.records[i].revision)-1, batch, cur)
			}
		}
	case expected > cur:
		return outcome{current: cur}
	case expected < cur:
		return d.replayed(stream, expected, batch, cur)
	}
	if len(batch) == 0 {
		return d.current(stream, cur)
	}
	now := time.Now().UnixNano() / 100
	for i, p := range batch {
		size := uint64(80 + len(stream) + len(p.eventType) + len(p.data) + len(p.meta))
		d.records = append(d.records, record{
			id: p.id, stream: stream, revision: uint64(cur + 1 + int64(i)),
			pos: d.next, end: d.next + size,
			eventType: p.eventType, contentType: p.contentType, created: now,
			data: p.data, meta: p.meta,
		})
		d.next += size
		idx := len(d.records) - 1
		d.streams[stream] = append(d.streams[stream], idx)
		d.ids[p.id] = idx
	}
	close(d.changed)
	d.changed = make(chan struct{})
	last := d.records[len(d.records)-1]
	if expected == expectNoStream && repeatsID(batch) {
		// The server writes such a batch and then answers it as a wrong
		// expected version at the revision it wrote (ESDB-PROTOCOL.md
		// §12, KurrentDB-Client-Dotnet#159).
		return outcome{current: int64(last.revision)}
	}
	return outcome{ok: true, revision: int64(last.revision), pos: last.pos}
}

// repeatsID tells a batch that carries one event id twice.
func repeatsID(batch []proposed) bool {
	seen := make(map[uuid.UUID]bool, len(batch))
	for _, p := range batch {
		if seen[p.id] {
			return true
		}
		seen[p.id] = true
	}
	return false
}

// replayed answers a retry: the batch's ids must be those stored right
// after revision after, all of them, or the append is a wrong expected
// version (the server's "CorruptedIdempotency" included).
func (d *db) replayed(stream string, after int64, batch []proposed, cur int64) outcome {
	revs := d.streams[stream]
	for i, p := range batch {
		rev := after + 1 + int64(i)
		if rev > cur || d.records[revs[rev]].id != p.id {
			return outcome{current: cur}
		}
	}
	if len(batch) == 0 {
		return d.current(stream, cur)
	}
	last := d.records[revs[after+int64(len(batch))]]
	return outcome{ok: true, revision: int64(last.revision), pos: last.pos}
}

// current is the success answer of an append that wrote nothing.
func (d *db) current(stream string, cur int64) outcome {
	if cur < 0 {
		return outcome{ok: true, revision: -1}
	}
	return outcome{ok: true, revision: cur, pos: d.records[d.streams[stream][cur]].pos}
}

// snapshot returns the log as written so far and a channel closed by the
// next write.
func (d *db) snapshot() ([]record, <-chan struct{}) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.records, d.changed
}

// stream returns the records of one stream in revision order.
func (d *db) stream(name string) []record {
	d.mu.RLock()
	defer d.mu.RUnlock()
	idx := d.streams[name]
	out := make([]record, len(idx))
	for i, j := range idx {
		out[i] = d.records[j]
	}
	return out
}
