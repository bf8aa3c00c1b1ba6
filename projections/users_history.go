package projections

import (
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	fastjson "github.com/segmentio/encoding/json"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/internal/uuidtext"
)

// HistoryEntry is one element of rm_user_history.entries: what one event
// did to a user. The read API decodes the same JSON.
type HistoryEntry struct {
	Kind  string    `json:"kind"`
	At    time.Time `json:"at"`
	By    string    `json:"by"`
	Roles []string  `json:"roles,omitempty"`
	// Invitation is what an invitation or a resend sent.
	Invitation *SentInvitation `json:"invitation,omitempty"`
}

// SentInvitation is one invitation a user was sent.
type SentInvitation struct {
	ID        uuid.UUID `json:"id"`
	SentAt    time.Time `json:"sentAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	SentBy    string    `json:"sentBy"`
}

// historyEntry is the entry of a user event, and whose history it is in:
// at the time the event happened (an expiry's is the invitation's end).
// Times are kept to the microsecond, as PostgreSQL keeps the user's row's.
func historyEntry(env event.Envelope) (uuid.UUID, HistoryEntry, bool) {
	h := HistoryEntry{At: micro(env.OccurredAt), By: env.Actor}
	var id uuid.UUID
	switch e := env.Event.(type) {
	case user.Invited:
		id, h.Kind, h.Roles = e.UserID, "invited", roleStrings(e.Roles)
		h.Invitation = &SentInvitation{ID: e.InvitationID, SentAt: micro(e.SentAt), ExpiresAt: micro(e.ExpiresAt), SentBy: e.InvitedBy}
	case user.InvitationResent:
		id, h.Kind = e.UserID, "resent"
		h.Invitation = &SentInvitation{ID: e.InvitationID, SentAt: micro(e.SentAt), ExpiresAt: micro(e.ExpiresAt), SentBy: e.ResentBy}
	case user.InvitationAccepted:
		id, h.Kind = e.UserID, "accepted"
	case user.InvitationExpired:
		// Dated when the invitation ended, not when the sweeper got to
		// record it (a minute later, or days after an outage).
		id, h.Kind, h.At = e.UserID, "expired", micro(e.ExpiredAt)
	case user.RolesChanged:
		id, h.Kind, h.Roles = e.UserID, "roles_changed", roleStrings(e.Roles)
	case user.EmailChanged:
		id, h.Kind = e.UserID, "email_changed"
	case user.PersonalDataErased:
		id, h.Kind = e.UserID, "personal_data_erased"
	default:
		return uuid.Nil, HistoryEntry{}, false
	}
	return id, h, true
}

func micro(t time.Time) time.Time { return t.Round(time.Microsecond) }

// histories gathers a batch's history entries of users whose row the batch
// does not insert, to append them in one statement at the end.
type histories struct {
	users   []uuid.UUID
	entries map[uuid.UUID][]HistoryEntry
}

func (hs *histories) add(id uuid.UUID, h HistoryEntry) {
	if hs.entries == nil {
		hs.entries = map[uuid.UUID][]HistoryEntry{}
	}
	if _, ok := hs.entries[id]; !ok {
		hs.users = append(hs.users, id)
	}
	hs.entries[id] = append(hs.entries[id], h)
}

// append queues one statement appending every user's entries, in the
// order they came, to that user's row (making it if there is none). Both
// sides are JSON arrays, never empty, as json.Marshal writes them: the
// first without its "]", a comma, and the second without its "[" are the
// text json.Marshal writes for the entries together, so a user's history
// reads the same whichever batches its events came in.
func (hs *histories) append(q *pgx.Batch) {
	if len(hs.users) == 0 {
		return
	}
	docs := make([]string, len(hs.users))
	for i, id := range hs.users {
		docs[i] = entriesJSON(hs.entries[id])
	}
	q.Queue(`
		INSERT INTO rm_user_history AS h (user_id, entries)
		SELECT id, doc FROM unnest($1::uuid[], $2::text[]) AS v (id, doc)
		ON CONFLICT (user_id) DO UPDATE
		SET entries = left(h.entries, -1) || ',' || substr(excluded.entries, 2)`, hs.users, docs)
}

// entriesJSON is the text of rm_user_history.entries: what encoding/json
// writes (TestEntriesJSON), written without reflection. A user's history
// is most of what a catch-up encodes: marshalled by reflection, it was a
// third of the time a catch-up's handler spent building its batches.
func entriesJSON(hs []HistoryEntry) string {
	b := make([]byte, 0, 256*len(hs))
	b = append(b, '[')
	for i := range hs {
		if i > 0 {
			b = append(b, ',')
		}
		b = hs[i].appendJSON(b)
	}
	return string(append(b, ']'))
}

// appendJSON appends the entry as encoding/json writes it: fields in
// order, the omitempty ones left out when empty, strings escaped as it
// escapes them (HTML characters too), times in RFC 3339 with nanoseconds.
func (h *HistoryEntry) appendJSON(b []byte) []byte {
	b = append(b, `{"kind":`...)
	b = jsonString(b, h.Kind)
	b = append(b, `,"at":`...)
	b = jsonTime(b, h.At)
	b = append(b, `,"by":`...)
	b = jsonString(b, h.By)
	if len(h.Roles) > 0 {
		b = append(b, `,"roles":[`...)
		for i, r := range h.Roles {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonString(b, r)
		}
		b = append(b, ']')
	}
	if inv := h.Invitation; inv != nil {
		b = append(b, `,"invitation":{"id":"`...)
		b = uuidtext.Append(b, inv.ID)
		b = append(b, `","sentAt":`...)
		b = jsonTime(b, inv.SentAt)
		b = append(b, `,"expiresAt":`...)
		b = jsonTime(b, inv.ExpiresAt)
		b = append(b, `,"sentBy":`...)
		b = jsonString(b, inv.SentBy)
		b = append(b, '}')
	}
	return append(b, '}')
}

func jsonString(b []byte, s string) []byte { return fastjson.AppendEscape(b, s, fastjson.EscapeHTML) }

func jsonTime(b []byte, t time.Time) []byte {
	return append(t.AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
}
