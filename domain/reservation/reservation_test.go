package reservation

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// A release frees a domain or an agreement; a user's email, released by
// earlier versions when its user changed it, stays claimed as it was (the
// commands check the user for the email).
func TestReleased_frees_all_but_a_users_email(t *testing.T) {
	owner, at := uuid.New(), time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	for _, kind := range []string{KindDomain, KindAgreement, KindUserEmail} {
		var r Reservation
		claim := Claim(kind, owner, at)
		rev := uint64(3)
		claim.OwnerRevision = &rev
		r.Apply(claim)
		if r.Owner() != owner || r.OwnerRevision() == nil || *r.OwnerRevision() != 3 {
			t.Fatalf("%s claimed: owner %v revision %v", kind, r.Owner(), r.OwnerRevision())
		}
		r.Apply(*r.Release(kind, owner, at))
		want, wantRevision := uuid.Nil, (*uint64)(nil)
		if kind == KindUserEmail {
			want, wantRevision = owner, &rev
		}
		if r.Owner() != want || (r.OwnerRevision() == nil) != (wantRevision == nil) {
			t.Errorf("%s released: owner %v revision %v, want owner %v revision %v", kind, r.Owner(), r.OwnerRevision(), want, wantRevision)
		}
	}
}
