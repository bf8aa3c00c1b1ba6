package esdbfake

import (
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
)

func batch(n int) []proposed {
	out := make([]proposed, n)
	for i := range out {
		out[i] = proposed{id: uuid.New(), eventType: "t", contentType: "application/json"}
	}
	return out
}

func wantOK(t *testing.T, o outcome, revision int64) outcome {
	t.Helper()
	if !o.ok || o.revision != revision {
		t.Fatalf("got %+v, want success at revision %d", o, revision)
	}
	return o
}

func wantWrong(t *testing.T, o outcome, current int64) {
	t.Helper()
	if o.ok || o.current != current {
		t.Fatalf("got %+v, want wrong expected version with current %d", o, current)
	}
}

// The write rules of IndexWriter.CheckCommit, as ESDB-PROTOCOL.md §4 lists
// them.
func TestAppend_follows_the_server_write_rules(t *testing.T) {
	d := newDB()
	a, b := batch(2), batch(2)

	first := wantOK(t, d.append("s", expectNoStream, a), 1)
	second := wantOK(t, d.append("s", 1, b), 3)
	if first.pos <= firstPosition || second.pos <= first.pos {
		t.Fatal("positions do not increase")
	}

	// Retries below the current revision are answered from the ids.
	if again := wantOK(t, d.append("s", expectNoStream, a), 1); again != first {
		t.Fatalf("retry answered %+v, first %+v", again, first)
	}
	wantOK(t, d.append("s", 1, b), 3)
	wantWrong(t, d.append("s", 1, append(b[:1:1], batch(1)...)), 3) // second id differs
	wantWrong(t, d.append("s", 2, b), 3)                            // runs past the end
	wantWrong(t, d.append("s", 0, batch(1)), 3)
	wantWrong(t, d.append("s", 7, batch(1)), 3)

	// Any and stream-exists look the ids up in the whole log.
	wantOK(t, d.append("s", expectAny, b), 3)
	wantWrong(t, d.append("s", expectAny, append(b[:1:1], batch(1)...)), 3)
	wantOK(t, d.append("s", expectStreamExists, batch(1)), 4)
	wantWrong(t, d.append("missing", expectStreamExists, batch(1)), -1)
	wantWrong(t, d.append("missing", 0, batch(1)), -1)

	// At the current revision there is no dedup: the same ids write again.
	wantOK(t, d.append("s", 4, b), 6)
}

// ESDB-PROTOCOL.md §12: one id twice in a no-stream batch is written, and
// answered as a wrong expected version at the revision written.
func TestAppend_an_id_twice_in_a_no_stream_batch_is_written_and_refused(t *testing.T) {
	d := newDB()
	b := batch(1)
	wantWrong(t, d.append("s", expectNoStream, append(b, b[0])), 1)
	if n := len(d.stream("s")); n != 2 {
		t.Fatalf("stream holds %d events, want the 2 written", n)
	}
}

func TestReadAll_backwards_excludes_the_event_at_the_position(t *testing.T) {
	d := newDB()
	d.append("s", expectAny, batch(3))
	log, _ := d.snapshot()
	at := log[len(log)-1]
	all := &streams.ReadReq_Options_AllOptions{AllOption: &streams.ReadReq_Options_AllOptions_Position{
		Position: &streams.ReadReq_Options_Position{CommitPosition: at.pos, PreparePosition: at.pos},
	}}
	back := readAll(log, all, streams.ReadReq_Options_Backwards, 1)
	if len(back) != 1 || back[0].pos >= at.pos {
		t.Fatalf("backwards from %d gave %+v", at.pos, back)
	}
	fwd := readAll(log, all, streams.ReadReq_Options_Forwards, 1)
	if len(fwd) != 1 || fwd[0].pos != at.pos {
		t.Fatalf("forwards from %d gave %+v", at.pos, fwd)
	}
}
