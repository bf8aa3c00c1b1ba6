package personal

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
)

// Invitation is an invitation with every field set, for this package's
// tests and benchmarks, inside and outside the package.
func Invitation() user.Invited {
	return user.Invited{UserID: uuid.New(), AccountID: uuid.New(), Email: "ines.secret@example.com", FirstName: "Ines", LastName: "Verborgen",
		Language: "nl-NL", Country: "NL", Roles: []user.Role{user.ReportsViewer}, InvitationID: uuid.New(), InvitedBy: "nora",
		SentAt: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 6, 30, 8, 0, 0, 0, time.UTC)}
}

// BenchmarkSealInvitation is what InviteUser does to store its event,
// the key at hand: encode it, seal its fields, hash it.
func BenchmarkSealInvitation(b *testing.B) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	e := Invitation()
	seal := SealWith(key)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := event.EncodeAtWith(e, user.Stream(e.UserID), 0, event.Metadata{EventID: uuid.New()}, seal); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenSealedInvitation is what a catch-up does for each sealed
// invitation: find its subject, then open its fields.
func BenchmarkOpenSealedInvitation(b *testing.B) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	e := Invitation()
	data, _, _, err := event.EncodeAtWith(e, user.Stream(e.UserID), 0, event.Metadata{EventID: uuid.New()}, SealWith(key))
	if err != nil {
		b.Fatal(err)
	}
	keys := map[uuid.UUID][]byte{e.UserID: key}
	k := Keys{}
	b.ReportAllocs()
	for b.Loop() {
		subject, ok := SealedSubject(e.EventType(), data)
		if !ok || subject != e.UserID {
			b.Fatal("no subject")
		}
		if _, err := k.opener(b.Context(), keys)(e.EventType(), data); err != nil {
			b.Fatal(err)
		}
	}
}
