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
