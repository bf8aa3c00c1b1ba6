package kit

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A cursor reads back as the key it was made from; JSON that only looks
// like one (a field missing, renamed or added, or written otherwise) does
// not, though encoding/json alone would read most of it as a first page.
func TestDecodeCursor_reads_only_a_cursor_made_for_its_key(t *testing.T) {
	type key struct {
		At time.Time `json:"t"`
		ID uuid.UUID `json:"id"`
		N  int64     `json:"n"`
	}
	made := key{At: time.Date(2026, 12, 7, 3, 0, 0, 123456000, time.FixedZone("", 9*3600)), ID: uuid.New(), N: -4}
	var got key
	if !DecodeCursor(EncodeCursor(made), &got) || !got.At.Equal(made.At) || got.ID != made.ID || got.N != made.N {
		t.Fatalf("a cursor made for the key read as %+v, want %+v", got, made)
	}
	if !DecodeCursor(EncodeCursor(made)+"==", &got) {
		t.Fatal("a cursor with base64 padding added was refused")
	}
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, c := range []string{
		raw(`{"n":1}`), // fields missing
		raw(`{"t":"2026-12-07T03:00:00Z","id":"` + made.ID.String() + `","n":1,"x":2}`), // one added
		raw(`{"T":"2026-12-07T03:00:00Z","id":"` + made.ID.String() + `","n":1}`),       // one renamed in case
		raw(`{"t":"2026-12-07T03:00:00Z", "id":"` + made.ID.String() + `","n":1}`),      // spaced otherwise
		raw(`{"s":"x","k":[1,2,3]}`), // another list's
		raw(`null`),
		"not base64!",
	} {
		if DecodeCursor(c, &key{}) {
			t.Errorf("cursor %s was read", c)
		}
	}
}
