package partner

import (
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
)

// UserPersonalDataErased: on a verified erasure request an operator
// erased the key of a user of the partner (one who acts for it, or did):
// their email and names read "[erased]" in every event from then on. The
// key goes first; this event tells the read models and the mailer. It
// holds no personal data.
type UserPersonalDataErased struct {
	PartnerID uuid.UUID `json:"partnerId"`
	UserID    uuid.UUID `json:"userId"`
	ErasedBy  string    `json:"erasedBy"`
	Reason    string    `json:"reason"`
	ErasedAt  time.Time `json:"erasedAt"`
}

func (UserPersonalDataErased) EventType() string { return "partner.user_personal_data_erased" }

func init() { event.Register[UserPersonalDataErased](1) }

// HadUser reports whether id was ever a user of the partner (removed
// since or not).
func (p *Partner) HadUser(id uuid.UUID) bool {
	_, known := p.people[id]
	return known
}

// EraseUser records the erasure of someone who was ever a user of the
// partner; nil when it was recorded already (erasing twice changes
// nothing) or the partner never had them.
func (p *Partner) EraseUser(id uuid.UUID, by, reason string, at time.Time) *UserPersonalDataErased {
	if erased, known := p.people[id]; !known || erased {
		return nil
	}
	return &UserPersonalDataErased{PartnerID: p.id, UserID: id, ErasedBy: by, Reason: reason, ErasedAt: at}
}

// Erased reports whether the personal data of the partner's user id was
// erased: nothing may be sealed for them any more.
func (p *Partner) Erased(id uuid.UUID) bool { return p.people[id] }
