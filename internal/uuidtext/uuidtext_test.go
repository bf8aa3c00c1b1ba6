package uuidtext

import (
	"testing"

	"github.com/google/uuid"
)

// The text is uuid.UUID.String's, appended after what dst holds.
func TestAppend_writes_what_String_writes(t *testing.T) {
	for _, id := range []uuid.UUID{uuid.Nil, uuid.Max, uuid.New(), uuid.Must(uuid.NewV7())} {
		if got := Append([]byte("x:"), id); string(got) != "x:"+id.String() {
			t.Errorf("%s: %q", id, got)
		}
	}
}
