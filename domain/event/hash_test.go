package event_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
)

type noted struct {
	Note string `json:"note"`
}

func (noted) EventType() string { return "test.noted" }

func init() { event.Register[noted](2) }

// input is what Hash reads.
type input struct {
	stream   string
	revision uint64
	typ      string
	data     []byte
	meta     event.Metadata
}

func (in input) hash() string { return event.Hash(in.stream, in.revision, in.typ, in.data, in.meta) }

// vector is the known vector's input.
func vector() input {
	return input{"user-0190a4c2-7c1e-7b1a-9a55-3f1d2e8a0c03", 1, "user.invited", []byte(`{"userId":"x"}`), event.Metadata{
		EventID:       uuid.MustParse("0b9f1c9e-53c1-4b40-a9a4-8a2b7e2e8f11"),
		SchemaVersion: 1,
		Actor:         "op-1",
		CorrelationID: "4bf92f3577b34da6a3ce929d0e0e4736",
		OccurredAt:    time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC),
		PreviousHash:  "9c1e",
	}}
}

func TestHash_known_vector_and_every_field_counts(t *testing.T) {
	// Computed independently (Python: hashlib.sha256 over
	// struct.pack(">Q", len(f)) + f for each field, in order).
	const known = "7ef451ee96f50ef4d97ffc48c8df06711aa11ed286da0656282eef4d6268f6b4"
	if got := vector().hash(); got != known {
		t.Fatalf("known vector: got %s", got)
	}
	cases := []struct {
		name    string
		change  func(in *input)
		changes bool
	}{
		{"stream", func(in *input) { in.stream += "x" }, true},
		{"revision", func(in *input) { in.revision++ }, true},
		{"type", func(in *input) { in.typ = "user.invitation_resent" }, true},
		{"data", func(in *input) { in.data = []byte(`{"userId":"y"}`) }, true},
		{"data bytes, same JSON value", func(in *input) { in.data = []byte(`{"userId": "x"}`) }, true},
		{"schemaVersion", func(in *input) { in.meta.SchemaVersion = 2 }, true},
		{"eventId", func(in *input) { in.meta.EventID = uuid.Nil }, true},
		{"actor", func(in *input) { in.meta.Actor = "op-2" }, true},
		{"correlationId", func(in *input) { in.meta.CorrelationID = "other" }, true},
		{"causationId", func(in *input) { in.meta.CausationID = "cause" }, true},
		{"occurredAt", func(in *input) { in.meta.OccurredAt = in.meta.OccurredAt.Add(time.Microsecond) }, true},
		{"previousHash", func(in *input) { in.meta.PreviousHash = "" }, true},
		// Lengths prefix each field: moving a byte across a boundary counts.
		{"field boundary", func(in *input) {
			in.meta.Actor += in.meta.CorrelationID[:1]
			in.meta.CorrelationID = in.meta.CorrelationID[1:]
		}, true},
		{"hash itself", func(in *input) { in.meta.Hash = "anything" }, false},
		{"time zone of the same instant", func(in *input) { in.meta.OccurredAt = in.meta.OccurredAt.In(time.FixedZone("KST", 9*3600)) }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := vector()
			c.change(&in)
			if changed := in.hash() != known; changed != c.changes {
				t.Fatalf("hash changed: %v, want %v", changed, c.changes)
			}
		})
	}
}

func TestEncodeAt_seals_what_it_stores(t *testing.T) {
	meta := event.Metadata{EventID: uuid.New(), Actor: "a", CorrelationID: "c", OccurredAt: time.Now().UTC(), PreviousHash: "prev"}
	data, metadata, hash, err := event.EncodeAt(noted{Note: "hi"}, "s-1", 7, meta)
	if err != nil {
		t.Fatal(err)
	}
	var stored event.Metadata
	if err := json.Unmarshal(metadata, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Hash != hash || stored.PreviousHash != "prev" || stored.SchemaVersion != 2 {
		t.Fatalf("stored %+v, hash %s", stored, hash)
	}
	if again := event.Hash("s-1", 7, "test.noted", data, stored); again != hash {
		t.Fatalf("recomputed from what is stored: %s, sealed %s", again, hash)
	}
}
