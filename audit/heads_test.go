package audit_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/bizcenter/bizcenter/audit"
	"github.com/bizcenter/bizcenter/eventstore"
)

// A store is held to a copy of the log exported earlier: a stream cut
// short, a stream removed and a tail rewritten and sealed again each
// verify on their own (the chain cannot show them) and break against the
// copy; streams grown since the copy verify.
func TestVerifyAgainst_finds_what_changed_since_a_copy(t *testing.T) {
	m := interleaved(t) // streams a, b, c of three events each
	m.add(t, "d")
	var copied bytes.Buffer
	if _, err := audit.Export(context.Background(), m, &copied, audit.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	heads, err := audit.HeadsOf(&copied)
	if err != nil {
		t.Fatal(err)
	}

	m.add(t, "a") // grown since: fine
	m.add(t, "e") // new since: fine
	m.recs = slices.DeleteFunc(m.recs, func(r eventstore.RecordedEvent) bool { return r.Stream == "b" && r.Revision == 2 })
	m.recs = slices.DeleteFunc(m.recs, func(r eventstore.RecordedEvent) bool { return r.Stream == "d" })
	// c's last event, replaced by another sealed in its place.
	m.recs = slices.DeleteFunc(m.recs, func(r eventstore.RecordedEvent) bool { return r.Stream == "c" && r.Revision == 2 })
	m.add(t, "c")

	if broken, err := audit.Verify(context.Background(), m, nil); err != nil || len(broken) != 0 {
		t.Fatalf("the chain alone: %v, %v; want nothing to show", broken, err)
	}
	var out bytes.Buffer
	broken, err := audit.VerifyAgainst(context.Background(), m, heads, &out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, b := range broken {
		got[b.Stream] = b.Reason
	}
	want := map[string]string{
		"b": "the store's stream ends at 1: cut",
		"c": "rewritten since the copy was made",
		"d": "the store has no such stream",
	}
	if len(got) != len(want) {
		t.Fatalf("breaks %v, want streams b, c and d", broken)
	}
	for stream, reason := range want {
		if !strings.Contains(got[stream], reason) {
			t.Errorf("stream %s: %q, want it to say %q", stream, got[stream], reason)
		}
	}
	if !strings.Contains(out.String(), "3 of 5 streams broken") {
		t.Errorf("summary: %s", out.String())
	}
}

// A copy with no events holds the store to nothing: verifying against it
// is an error, not "verified" (the wrong file named, or a copy cut short).
func TestHeadsOf_refuses_a_copy_without_events(t *testing.T) {
	for _, copy := range []string{"", "\n"} {
		if hs, err := audit.HeadsOf(strings.NewReader(copy)); err == nil {
			t.Errorf("HeadsOf(%q) = %v, nil; want an error", copy, hs)
		}
	}
}
