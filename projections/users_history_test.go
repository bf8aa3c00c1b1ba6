package projections

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The history SQL splices arrays as encoding/json writes them, and entries
// already stored were written by it: entriesJSON must write the same text.
func TestEntriesJSON_writes_what_encoding_json_writes(t *testing.T) {
	at := time.Date(2026, 5, 1, 8, 0, 0, 123456000, time.FixedZone("KST", 9*3600))
	sent := &SentInvitation{ID: uuid.MustParse("0190a4c2-7c1e-7b1a-9a55-3f1d2e8a0c03"), SentAt: at, ExpiresAt: at.AddDate(0, 0, 60), SentBy: "관리자 <admin@contoso.example>"}
	for _, hs := range [][]HistoryEntry{
		{{Kind: "invited", At: at, By: "op \"1\" & \u2028", Roles: []string{"account_viewer", "reports_viewer"}, Invitation: sent}},
		{{Kind: "resent", At: at.UTC(), By: "", Invitation: sent}, {Kind: "accepted", At: time.Time{}}, {Kind: "roles_changed", Roles: []string{}}},
	} {
		want, err := json.Marshal(hs)
		if err != nil {
			t.Fatal(err)
		}
		if got := entriesJSON(hs); got != string(want) {
			t.Errorf("entriesJSON wrote\n%s\nencoding/json writes\n%s", got, want)
		}
	}
}

// Random entries, with strings of every kind of character encoding/json
// escapes and times in any zone, read as encoding/json writes them.
func TestEntriesJSON_writes_random_entries_as_encoding_json_does(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	pieces := []string{"a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "é", "관리자", "\u2028", "\u2029", "😀", "\xff", "\xe2\x80"}
	str := func() string {
		var s strings.Builder
		for range rng.IntN(8) {
			s.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return s.String()
	}
	when := func() time.Time {
		at := time.Unix(rng.Int64N(4e9), rng.Int64N(1e9))
		if rng.IntN(3) == 0 {
			return at.Round(time.Second)
		}
		return at.In(time.FixedZone("", (rng.IntN(27)-12)*3600+rng.IntN(2)*1800))
	}
	for range 3000 {
		hs := make([]HistoryEntry, 1+rng.IntN(4))
		for i := range hs {
			h := HistoryEntry{Kind: str(), At: when(), By: str()}
			switch rng.IntN(3) {
			case 0:
				h.Roles = []string{}
			case 1:
				for range 1 + rng.IntN(3) {
					h.Roles = append(h.Roles, str())
				}
			}
			if rng.IntN(2) == 0 {
				var id uuid.UUID
				for k := range id {
					id[k] = byte(rng.IntN(256))
				}
				h.Invitation = &SentInvitation{ID: id, SentAt: when(), ExpiresAt: when(), SentBy: str()}
			}
			hs[i] = h
		}
		want, err := json.Marshal(hs)
		if err != nil {
			t.Fatal(err)
		}
		if got := entriesJSON(hs); got != string(want) {
			t.Fatalf("entriesJSON wrote\n%s\nencoding/json writes\n%s", got, want)
		}
	}
}

// A catch-up's typical history: an invitation and four resends.
func BenchmarkEntriesJSON(b *testing.B) {
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	sent := &SentInvitation{ID: uuid.New(), SentAt: at, ExpiresAt: at.AddDate(0, 0, 60), SentBy: "seed"}
	hs := []HistoryEntry{{Kind: "invited", At: at, By: "seed", Roles: []string{"account_viewer"}, Invitation: sent}}
	for range 4 {
		hs = append(hs, HistoryEntry{Kind: "resent", At: at, By: "seed", Invitation: sent})
	}
	b.ReportAllocs()
	for b.Loop() {
		entriesJSON(hs)
	}
}
