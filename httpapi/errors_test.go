package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/eventstore"
)

// A conflict the command's retries did not get past is a 409 that says
// what happened and what to do, without the stream and revisions it
// tripped on; a conflict a rule found keeps its own words.
func TestProblemFor_a_lasting_revision_conflict_names_no_stream(t *testing.T) {
	at := uint64(12)
	lasting := fmt.Errorf("%w: save user-1f2e: %w", domain.ErrConflict,
		&eventstore.WrongExpectedRevisionError{Stream: "user-1f2e", Expected: eventstore.Exact(11), Actual: &at})
	p := problemFor(lasting)
	if p == nil || p.Status != http.StatusConflict || strings.Contains(p.Detail, "user-1f2e") || strings.Contains(p.Detail, "revision") {
		t.Fatalf("lasting conflict: %+v", p)
	}
	rule := fmt.Errorf("ann@example.com is already a user of this account: %w", domain.ErrConflict)
	if p := problemFor(rule); p == nil || p.Status != http.StatusConflict || p.Detail != rule.Error() {
		t.Fatalf("a rule's conflict: %+v", p)
	}
}
