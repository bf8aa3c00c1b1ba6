// Package reservation keeps values unique across streams: a value is claimed
// by appending to a stream named after it with "no stream", so of two
// concurrent claims exactly one succeeds.
package reservation

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
)

// Claimed: a unique value now belongs to an owner (a user or an account).
// The value itself is not in the event (it may be personal data); the
// stream name holds its hash.
//
// OwnerRevision, on a user's email claimed for a change of email, is the
// revision of the user's stream the change read: the claim is for the
// user's next event, and in flight while the user's stream still ends
// there. Absent on a claim for an owner whose stream is still to be
// written (an invitation), and on claims older than the field.
type Claimed struct {
	Kind          string    `json:"kind"`
	OwnerID       uuid.UUID `json:"ownerId"`
	ClaimedAt     time.Time `json:"claimedAt"`
	OwnerRevision *uint64   `json:"ownerRevision,omitempty"`
}

// Released: the value is free again (a domain removed from an account).
type Released struct {
	Kind       string    `json:"kind"`
	OwnerID    uuid.UUID `json:"ownerId"`
	ReleasedAt time.Time `json:"releasedAt"`
}

func (Claimed) EventType() string  { return "reservation.claimed" }
func (Released) EventType() string { return "reservation.released" }

func init() {
	event.Register[Claimed](1)
	event.Register[Released](1)
}

// Kinds of reservation.
const (
	KindUserEmail = "user-email"
	KindAgreement = "agreement"
	KindDomain    = "domain"
)

// DomainStream reserves a domain for one account.
func DomainStream(normalizedDomain string) string { return stream(KindDomain, normalizedDomain) }

// UserEmailStream reserves a normalized email within one account.
func UserEmailStream(accountID uuid.UUID, normalizedEmail string) string {
	return stream(KindUserEmail, accountID.String(), normalizedEmail)
}

// AgreementStream reserves an (agreement, purchase account) number pair.
func AgreementStream(agreementNumber, purchaseAccountNumber string) string {
	return stream(KindAgreement, agreementNumber, purchaseAccountNumber)
}

func stream(kind string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "reservation-" + kind + "-" + hex.EncodeToString(h.Sum(nil))[:40]
}

// Reservation is the state of one reservation stream.
type Reservation struct {
	owner         uuid.UUID
	claimedAt     time.Time
	ownerRevision *uint64
}

// Apply folds one event into the state.
func (r *Reservation) Apply(e event.Event) {
	switch e := e.(type) {
	case Claimed:
		r.owner, r.claimedAt, r.ownerRevision = e.OwnerID, e.ClaimedAt, e.OwnerRevision
	case Released:
		// A user's email is checked against the user (holding, in
		// commands), whatever a release says: releases of former emails
		// by earlier versions raced with claims, and one could land after
		// the user had the email again, or while a change was giving it
		// back to them. Such a claim stays as it was: the user's while
		// they have it, and under way while its revision holds.
		if e.Kind != KindUserEmail {
			r.owner, r.ownerRevision = uuid.Nil, nil
		}
	}
}

// Owner is who holds the value (uuid.Nil: nobody).
func (r *Reservation) Owner() uuid.UUID { return r.owner }

// ClaimedAt is when the value was claimed.
func (r *Reservation) ClaimedAt() time.Time { return r.claimedAt }

// OwnerRevision is the revision of the owner's stream the latest claim
// was decided on (nil: not recorded).
func (r *Reservation) OwnerRevision() *uint64 { return r.ownerRevision }

// Claim claims a value for an owner.
func Claim(kind string, owner uuid.UUID, now time.Time) Claimed {
	return Claimed{Kind: kind, OwnerID: owner, ClaimedAt: now}
}

// Release frees the value held by owner (nil if owner does not hold it).
func (r *Reservation) Release(kind string, owner uuid.UUID, now time.Time) *Released {
	if r.owner != owner || owner == uuid.Nil {
		return nil
	}
	return &Released{Kind: kind, OwnerID: owner, ReleasedAt: now}
}
