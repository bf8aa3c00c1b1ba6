package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bizcenter/bizcenter/audit"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// appended records what Import appends.
type appended struct {
	eventstore.Store
	events []string // stream@revision
	next   map[string]uint64
}

func (a *appended) Append(_ context.Context, stream string, _ eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if a.next == nil {
		a.next = map[string]uint64{}
	}
	for range events {
		a.events = append(a.events, fmt.Sprintf("%s@%d", stream, a.next[stream]))
		a.next[stream]++
	}
	return eventstore.AppendResult{}, nil
}

// ReadAll reads an empty log: Import looks at the store's first event.
func (a *appended) ReadAll(context.Context, eventstore.Position, int) ([]eventstore.RecordedEvent, error) {
	return nil, nil
}

// exportLines exports m and returns its lines, decoded.
func exportLines(t *testing.T, m *memLog) []audit.Line {
	t.Helper()
	var buf bytes.Buffer
	if _, err := audit.Export(context.Background(), m, &buf, audit.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	var lines []audit.Line
	for _, b := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var l audit.Line
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	return lines
}

func encodeLines(t *testing.T, lines []audit.Line) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// An export altered after it was written is refused by import at the
// altered event, and VerifyExport names the line: import used to append
// whatever the file held, a changed payload or hash included.
func TestImport_refuses_a_tampered_export_and_VerifyExport_names_the_line(t *testing.T) {
	at := func(lines []audit.Line, stream string, rev uint64) int {
		return slices.IndexFunc(lines, func(l audit.Line) bool { return l.Stream == stream && l.Revision == rev })
	}
	cases := []struct {
		name   string
		tamper func(lines []audit.Line) []audit.Line
		line   int // of the break, from 1; 0: intact
		reason string
	}{
		{"nothing", func(ls []audit.Line) []audit.Line { return ls }, 0, ""},
		{"an edited payload", func(ls []audit.Line) []audit.Line {
			i := at(ls, "b", 1)
			ls[i].Data = bytes.Replace(ls[i].Data, []byte("account_viewer"), []byte("account_administrator"), 1)
			return ls
		}, 5, "does not match the event's content"},
		{"a changed hash", func(ls []audit.Line) []audit.Line {
			i := at(ls, "b", 1)
			ls[i].Metadata = bytes.Replace(ls[i].Metadata, []byte(`"hash":"`), []byte(`"hash":"00`), 1)
			return ls
		}, 5, "does not match the event's content"},
		{"a removed event", func(ls []audit.Line) []audit.Line {
			return slices.Delete(ls, at(ls, "b", 1), at(ls, "b", 1)+1)
		}, 7, "revision 2 where 1 was due"},
		{"two events swapped", func(ls []audit.Line) []audit.Line {
			i, j := at(ls, "b", 0), at(ls, "b", 1)
			ls[i], ls[j] = ls[j], ls[i]
			return ls
		}, 2, "revision 1 where 0 was due"},
		{"two events swapped, revisions too", func(ls []audit.Line) []audit.Line {
			i, j := at(ls, "b", 0), at(ls, "b", 1)
			ls[i], ls[j] = ls[j], ls[i]
			ls[i].Revision, ls[j].Revision = 0, 1
			return ls
		}, 2, "previous hash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := encodeLines(t, c.tamper(exportLines(t, interleaved(t))))

			var out bytes.Buffer
			broken, err := audit.VerifyExport(bytes.NewReader(file), &out)
			if err != nil {
				t.Fatal(err)
			}
			store := &appended{}
			_, ierr := audit.Import(context.Background(), store, bytes.NewReader(file), nil)
			if c.reason == "" {
				if len(broken) != 0 || !strings.Contains(out.String(), "all 3 streams verified") || ierr != nil || len(store.events) != 9 {
					t.Fatalf("intact export: %v %v, %d imported\n%s", broken, ierr, len(store.events), out.String())
				}
				return
			}
			if len(broken) != 1 || broken[0].Stream != "b" || !strings.Contains(broken[0].Reason, c.reason) {
				t.Fatalf("got %v, want a break of b: %s", broken, c.reason)
			}
			if want := fmt.Sprintf("broken: line %d: %s", c.line, broken[0]); !strings.Contains(out.String(), want) {
				t.Fatalf("output does not say %q:\n%s", want, out.String())
			}
			if ierr == nil || !strings.Contains(ierr.Error(), "not intact") || !strings.Contains(ierr.Error(), c.reason) {
				t.Fatalf("import: %v, want the export refused: %s", ierr, c.reason)
			}
			if len(store.events) != c.line-1 {
				t.Fatalf("import appended %v; want the %d events before the break at line %d, and nothing from it on", store.events, c.line-1, c.line)
			}
		})
	}
}

// An import that stopped within a run of one stream's events (a piped
// export broken there, or a copy cut short) can be run again with the
// whole export, and adds the rest: the run it appended then is the
// beginning of the run the whole export appends, which the store took
// for a conflict ("expected revision no_stream, stream is at 2").
func TestImport_run_again_after_stopping_within_a_stream_adds_the_rest(t *testing.T) {
	m := &memLog{}
	for range 6 {
		m.add(t, "a")
	}
	m.add(t, "b")
	lines := exportLines(t, m)
	whole := encodeLines(t, lines)
	tampered := slices.Clone(lines)
	tampered[3].Data = bytes.Replace(tampered[3].Data, []byte("account_viewer"), []byte("account_administrator"), 1)
	other := &memLog{}
	for range 3 {
		other.add(t, "a")
	}
	for name, first := range map[string][]byte{
		"after a break":        encodeLines(t, tampered),
		"after a copy cut off": encodeLines(t, lines[:3]),
		"onto other events":    encodeLines(t, exportLines(t, other)),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := postgres.New(pgtest.Pool(t), postgres.Config{})
			_, _ = audit.Import(ctx, store, bytes.NewReader(first), nil)
			_, err := audit.Import(ctx, store, bytes.NewReader(whole), nil)
			if name == "onto other events" {
				// A log of its own: refused before anything is appended
				// (TestImport_refuses_a_store_with_a_log_of_its_own).
				if err == nil || !strings.Contains(err.Error(), "holds a log of its own") {
					t.Fatalf("an export imported onto other events of its stream: %v, want it refused", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("the whole export, imported again: %v", err)
			}
			var got bytes.Buffer
			if _, err := audit.Export(ctx, store, &got, audit.ExportOptions{}); err != nil {
				t.Fatal(err)
			}
			imported := bytes.Split(bytes.TrimSpace(got.Bytes()), []byte("\n"))
			if len(imported) != len(lines) {
				t.Fatalf("%d events in the store, want the export's %d", len(imported), len(lines))
			}
			for i, b := range imported {
				var l audit.Line
				if err := json.Unmarshal(b, &l); err != nil {
					t.Fatal(err)
				}
				if l.ID != lines[i].ID || l.Stream != lines[i].Stream || l.Revision != lines[i].Revision ||
					!bytes.Equal(l.Data, lines[i].Data) || !bytes.Equal(l.Metadata, lines[i].Metadata) {
					t.Fatalf("line %d imported as %s@%d, want %s@%d as exported", i+1, l.Stream, l.Revision, lines[i].Stream, lines[i].Revision)
				}
			}
		})
	}
}

// An import goes into an empty store, or one it began (run again after it
// stopped). A store with a log of its own (another installation's, or the
// live database that DATABASE_URL still named) took the export's events
// beside its own, stream by stream, until a stream both held: two
// histories merged in an append-only log, for good.
func TestImport_refuses_a_store_with_a_log_of_its_own(t *testing.T) {
	ctx := context.Background()
	store := postgres.New(pgtest.Pool(t), postgres.Config{})
	own, theirs := &memLog{}, &memLog{}
	own.add(t, "ours")
	theirs.add(t, "theirs-a")
	theirs.add(t, "theirs-b")
	if _, err := audit.Import(ctx, store, bytes.NewReader(encodeLines(t, exportLines(t, own))), nil); err != nil {
		t.Fatal(err)
	}
	_, err := audit.Import(ctx, store, bytes.NewReader(encodeLines(t, exportLines(t, theirs))), nil)
	if err == nil || !strings.Contains(err.Error(), "holds a log of its own") {
		t.Fatalf("imported into a store with a log of its own: %v", err)
	}
	if events, err := store.ReadAll(ctx, eventstore.Start, 10); err != nil || len(events) != 1 {
		t.Fatalf("the store holds %d events (%v), want its own one alone", len(events), err)
	}
	// Its own export again is the import it began: nothing new, no error.
	if _, err := audit.Import(ctx, store, bytes.NewReader(encodeLines(t, exportLines(t, own))), nil); err != nil {
		t.Fatalf("the export the store began with, again: %v", err)
	}
}
