package user

import (
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
)

// EmailChanged: a user who never signed in has another email; the
// invitation sent to the old one is replaced (an InvitationResent follows
// in the same append), so the old link stops working.
type EmailChanged struct {
	UserID    uuid.UUID `json:"userId"`
	AccountID uuid.UUID `json:"accountId"`
	Email     string    `json:"email"`
	ChangedBy string    `json:"changedBy"`
}

// EmailClaimLapsed: a command claimed an email for this user and stalled
// before writing to the user's stream (its process died, or it hung for
// over a minute), and another command took the email over. This event
// moves the stream past the revision the stalled command read, so its
// append, should it still come, conflicts instead of giving the user an
// email that is now someone else's. It changes nothing about the user; on
// the stream of a user whose invitation stalled, it is the only event,
// and the user never exists.
type EmailClaimLapsed struct {
	UserID    uuid.UUID `json:"userId"`
	AccountID uuid.UUID `json:"accountId"`
	ClaimedAt time.Time `json:"claimedAt"`
	LapsedAt  time.Time `json:"lapsedAt"`
}

func (EmailChanged) EventType() string     { return "user.email_changed" }
func (EmailClaimLapsed) EventType() string { return "user.email_claim_lapsed" }

func init() {
	event.Register[EmailChanged](1)
	event.Register[EmailClaimLapsed](1)
	event.RegisterPersonal(EmailChanged{}.EventType(), "userId", "email")
}

// ChangeEmail gives a user who is not active another email and a new
// invitation to it. An active user's email is the work account they sign
// in with, which is theirs, not ours, to change.
func (u *User) ChangeEmail(email string, inv Invitation) ([]event.Event, error) {
	next, why := checkWorkEmail(email)
	if why != "" {
		return nil, &domain.ValidationError{Fields: []domain.FieldError{{Field: "email", Reason: why}}}
	}
	if u.active {
		return nil, &domain.RuleError{Code: "user-already-active", Detail: "the user has signed in; their email is their work account"}
	}
	if NormalizeEmail(next) == NormalizeEmail(u.email) {
		return nil, nil
	}
	resent, err := u.Resend(inv)
	if err != nil {
		return nil, err
	}
	return []event.Event{EmailChanged{UserID: u.id, AccountID: u.accountID, Email: next, ChangedBy: inv.By}, resent}, nil
}
