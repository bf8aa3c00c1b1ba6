package readapi

import (
	"bytes"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/projections"
)

// historyOf is a user's history ordered by time, events of the same time
// in log order, and the invitations sent, ordered by when they were sent
// (then by invitation ID, so that the order is total), from the entries of
// rm_user_history (in log order, as the users projector writes them).
func historyOf(entries []projections.HistoryEntry) ([]History, []Invitation) {
	history, invitations := make([]History, 0, len(entries)), []Invitation{}
	type sent struct {
		Invitation
		id uuid.UUID
	}
	var sends []sent
	for _, e := range entries {
		history = append(history, History{At: e.At.UTC(), Kind: e.Kind, By: e.By, Roles: e.Roles})
		if i := e.Invitation; i != nil {
			sends = append(sends, sent{Invitation{SentAt: i.SentAt.UTC(), ExpiresAt: i.ExpiresAt.UTC(), By: i.SentBy}, i.ID})
		}
	}
	slices.SortStableFunc(history, func(a, b History) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(sends, func(a, b sent) int {
		if c := a.SentAt.Compare(b.SentAt); c != 0 {
			return c
		}
		return bytes.Compare(a.id[:], b.id[:])
	})
	for _, s := range sends {
		invitations = append(invitations, s.Invitation)
	}
	return history, invitations
}
