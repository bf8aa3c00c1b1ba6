package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/audit"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// memLog is a global log in memory; only ReadAll is used.
type memLog struct {
	eventstore.Store
	recs []eventstore.RecordedEvent
}

func (m *memLog) ReadAll(_ context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	var out []eventstore.RecordedEvent
	for _, r := range m.recs {
		if after.Less(r.Position) && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

// add appends a sealed event to a stream, chained to its last one.
func (m *memLog) add(t *testing.T, stream string) {
	t.Helper()
	var rev uint64
	prev := ""
	for _, r := range m.recs {
		if r.Stream == stream {
			rev = r.Revision + 1
			var meta event.Metadata
			_ = json.Unmarshal(r.Metadata, &meta)
			prev = meta.Hash
		}
	}
	id := uuid.New()
	e := user.RolesChanged{UserID: uuid.New(), Roles: []user.Role{user.AccountViewer}, ChangedBy: "a", ChangedAt: time.Now().UTC()}
	data, meta, _, err := event.EncodeAt(e, stream, rev, event.Metadata{EventID: id, Actor: "a", CorrelationID: "c", OccurredAt: time.Now().UTC(), PreviousHash: prev})
	if err != nil {
		t.Fatal(err)
	}
	pos := eventstore.Position{Commit: uint64(len(m.recs) + 1), Prepare: uint64(len(m.recs) + 1)}
	m.recs = append(m.recs, eventstore.RecordedEvent{ID: id, Stream: stream, Revision: rev, Position: pos, Type: e.EventType(), Data: data, Metadata: meta})
}

// at finds the stored event of a stream at a revision.
func (m *memLog) at(stream string, rev uint64) *eventstore.RecordedEvent {
	for i := range m.recs {
		if m.recs[i].Stream == stream && m.recs[i].Revision == rev {
			return &m.recs[i]
		}
	}
	return nil
}

// rewrite changes a stored event's metadata.
func rewrite(r *eventstore.RecordedEvent, change func(r *eventstore.RecordedEvent, meta *event.Metadata)) {
	var meta event.Metadata
	_ = json.Unmarshal(r.Metadata, &meta)
	change(r, &meta)
	r.Metadata, _ = json.Marshal(meta)
}

// interleaved makes three streams of three events each, in mixed order.
func interleaved(t *testing.T) *memLog {
	m := &memLog{}
	for range 3 {
		for _, s := range []string{"a", "b", "c"} {
			m.add(t, s)
		}
	}
	return m
}

func TestVerify_reports_the_first_break_of_each_stream(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(m *memLog)
		rev    uint64
		reason string
	}{
		{"nothing", func(*memLog) {}, 0, ""},
		{"an edited payload", func(m *memLog) {
			r := m.at("b", 1)
			r.Data = bytes.Replace(r.Data, []byte("account_viewer"), []byte("account_administrator"), 1)
		}, 1, "does not match the event's content"},
		{"an edited actor", func(m *memLog) {
			r := m.at("b", 2)
			r.Metadata = bytes.Replace(r.Metadata, []byte(`"actor":"a"`), []byte(`"actor":"x"`), 1)
		}, 2, "does not match"},
		{"an event without a hash", func(m *memLog) {
			rewrite(m.at("b", 0), func(r *eventstore.RecordedEvent, meta *event.Metadata) { meta.Hash = "" })
		}, 0, "no hash"},
		{"an edited event sealed again", func(m *memLog) {
			rewrite(m.at("b", 1), func(r *eventstore.RecordedEvent, meta *event.Metadata) {
				meta.Actor = "x"
				meta.Hash = event.Hash(r.Stream, r.Revision, r.Type, r.Data, *meta)
			})
		}, 2, "previous hash"},
		{"a removed event", func(m *memLog) {
			m.recs = slices.DeleteFunc(m.recs, func(r eventstore.RecordedEvent) bool { return r.Stream == "b" && r.Revision == 1 })
		}, 2, "revision 2 where 1 was due"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := interleaved(t)
			c.tamper(m)
			var out bytes.Buffer
			broken, err := audit.Verify(context.Background(), m, &out)
			if err != nil {
				t.Fatal(err)
			}
			if c.reason == "" {
				if len(broken) != 0 || !strings.Contains(out.String(), "all 3 streams verified") {
					t.Fatalf("clean log: %v\n%s", broken, out.String())
				}
				return
			}
			if len(broken) != 1 || broken[0].Stream != "b" || broken[0].Revision != c.rev || !strings.Contains(broken[0].Reason, c.reason) {
				t.Fatalf("got %v, want b@%d: %s", broken, c.rev, c.reason)
			}
			if !strings.Contains(out.String(), broken[0].String()) {
				t.Fatalf("output does not name the break:\n%s", out.String())
			}
		})
	}
}
