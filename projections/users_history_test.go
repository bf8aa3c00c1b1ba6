package projections

import (
	"encoding/json"
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
