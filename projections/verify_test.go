package projections

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// A verify of a projector that has no build yet (a database that no
// serve has run on, one an export was just imported into) has nothing to
// compare: it said so only after building its whole scratch copy, as
// "no rows in result set". And one whose live build is of another
// version said so after the whole build too.
func TestVerify_without_a_comparable_live_build_says_so_before_building(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	invitedSome(ctx, t, store, "v", 3)
	built := func(done, total int64) { t.Errorf("a scratch build applied %d events", done) }

	_, err := Verify(ctx, pool, store, Users{}, io.Discard, built)
	if !errors.Is(err, ErrNoVersion) || !strings.Contains(err.Error(), "users has no build yet") {
		t.Fatalf("no build: %v", err)
	}

	if _, _, err := Ensure(ctx, pool, Users{}); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(ctx, pool, store, otherVersion{}, io.Discard, built)
	if err == nil || !strings.Contains(err.Error(), "the live build of users is version") {
		t.Fatalf("another version: %v", err)
	}
}
