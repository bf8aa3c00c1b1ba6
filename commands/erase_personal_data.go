package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// ErasePersonalData forgets a user's personal data on a verified erasure
// request: the operator who verified it gives the reason. The user's key
// is destroyed first, so every event sealed with it reads "[erased]" from
// then on; user.personal_data_erased then tells the read models and the
// mailer. Erasing again appends nothing. The account's last active
// Account Administrator is not erased (422 last-account-administrator),
// as they may not be demoted: another user is made Account Administrator
// first; an administrator erased leaves the account's administrators
// (account.administrator_revoked) before the key goes.
type ErasePersonalData struct {
	By        Actor
	AccountID uuid.UUID
	UserID    uuid.UUID
	Reason    string
	// finishing: FinishErasure's run, which knows the key, not the
	// account: the user is erased in whatever account they are, and a
	// key with no user behind it is marked (nothing to record).
	finishing bool
}

// PersonalDataErased is the answer.
type PersonalDataErased struct {
	Position eventstore.Position
	// Appended: this run wrote the event (not an earlier one).
	Appended bool
}

// ErasePersonalDataHandler handles ErasePersonalData. An erasure runs in
// the account's turn (AccountSerial), as a change of roles does: the
// user's email reads "[erased]" once the key is gone, so they act as
// nobody of the account. A finishing run has no account to name, and
// needs none: its key is gone already.
func ErasePersonalDataHandler(d Deps) Handler[ErasePersonalData, PersonalDataErased] {
	return HandlerFunc[ErasePersonalData, PersonalDataErased](func(ctx context.Context, c ErasePersonalData) (PersonalDataErased, error) {
		reason, err := d.erasable(c.By, c.Reason)
		if err != nil {
			return PersonalDataErased{}, err
		}
		if c.finishing {
			return d.eraseUser(ctx, c, reason)
		}
		return serialized(ctx, d.AccountSerial, c.AccountID, func(ctx context.Context) (PersonalDataErased, error) {
			return d.eraseUser(ctx, c, reason)
		})
	})
}

func (d Deps) eraseUser(ctx context.Context, c ErasePersonalData, reason string) (PersonalDataErased, error) {
	return retried(ctx, func() (PersonalDataErased, error) {
		var u user.User
		l, err := load(ctx, d, user.Stream(c.UserID), &u)
		if err != nil {
			return PersonalDataErased{}, err
		}
		if !u.Exists() && c.finishing {
			// A key with no user behind it: nothing to record.
			return PersonalDataErased{}, d.Personal.Recorded(ctx, c.UserID)
		}
		if !u.Exists() || (u.Account() != c.AccountID && !c.finishing) {
			return PersonalDataErased{}, fmt.Errorf("user %s: %w", c.UserID, domain.ErrNotFound)
		}
		by := origin{actor: c.By.name(), at: d.now()}
		if !c.finishing && !u.Erased() && slices.Contains(u.Roles(), user.AccountAdministrator) {
			// An erased user acts as nobody: the account's last active
			// Account Administrator is not erased, as they are not
			// demoted, before another is made one (the revocation comes
			// before the key goes, for nothing can refuse after). A user
			// whose key is gone already (an erasure that stopped) leaves
			// whatever remains: they could act for nobody anyway.
			if err := d.revokeAdministrator(ctx, c.AccountID, &u, by); err != nil {
				return PersonalDataErased{}, err
			}
		}
		return d.erase(ctx, c.UserID, user.Stream(c.UserID), l, by, reason,
			func(firstBy, firstReason string, at time.Time) event.Event {
				if e := u.Erase(firstBy, firstReason, at); e != nil {
					return *e
				}
				return nil
			})
	})
}

// erasable checks what every erasure needs: an operator, the verified
// request as the reason (returned trimmed), and a key store. The route
// checks the operator claim before any replay, so this check comes first
// too (see WithIdempotencyKey).
func (d Deps) erasable(by Actor, reason string) (string, error) {
	if !by.Operator {
		return "", fmt.Errorf("erasing personal data: %w", domain.ErrForbidden)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 || strings.ContainsFunc(reason, func(r rune) bool { return r < 0x20 && r != '\n' }) {
		return "", &domain.ValidationError{Fields: []domain.FieldError{{Field: "reason", Reason: "the verified request, 1 to 500 characters"}}}
	}
	if d.Personal == nil {
		return "", errors.New("erasing personal data: no key store")
	}
	return reason, nil
}

// erase destroys the subject's key, noting the stream its erasure goes
// to, then appends to that stream, read at l, the event record makes of
// the erasure (nil: recorded already), and marks the key recorded. An
// erasure that stopped before its event is finished under the name and
// reason of the one that destroyed the key (firstBy, firstReason), dated
// when it did: the sweeper that finishes it comes minutes later, or days
// after an outage.
func (d Deps) erase(ctx context.Context, subject uuid.UUID, stream string, l loaded, by origin, reason string,
	record func(firstBy, firstReason string, at time.Time) event.Event) (PersonalDataErased, error) {
	first, err := d.Personal.Erase(ctx, subject, stream, by.actor, reason)
	if err != nil {
		return PersonalDataErased{}, err
	}
	answer := PersonalDataErased{Position: l.answered()}
	if e := record(first.By, first.Reason, cmp.Or(first.Earlier, by.at)); e != nil {
		res, err := save(ctx, d, stream, l, by, e)
		if err != nil {
			return PersonalDataErased{}, err
		}
		answer = PersonalDataErased{Position: res.Position, Appended: true}
	}
	// The erasure is done either way: should the mark fail, the sweeper
	// runs it again later, which appends nothing more and marks it then.
	_ = d.Personal.Recorded(ctx, subject)
	return answer, nil
}

// FinishErasure finishes an erasure that stopped between its key and its
// event (the sweeper's work), in the stream the key store names for it:
// a partner's for a partner's user, else the user's own (erasures
// recorded before the key store named streams were all users' of
// accounts). It runs under the operator and reason the key store kept.
type FinishErasure struct {
	Subject    uuid.UUID
	Stream     string
	By, Reason string
}

// FinishErasureHandler handles FinishErasure.
func FinishErasureHandler(d Deps) Handler[FinishErasure, PersonalDataErased] {
	users, partners := ErasePersonalDataHandler(d), ErasePartnerUserPersonalDataHandler(d)
	return HandlerFunc[FinishErasure, PersonalDataErased](func(ctx context.Context, c FinishErasure) (PersonalDataErased, error) {
		by := Actor{Subject: c.By, Operator: true}
		if id, ok := partner.StreamID(c.Stream); ok {
			return partners.Handle(ctx, ErasePartnerUserPersonalData{By: by, PartnerID: id, UserID: c.Subject, Reason: c.Reason, finishing: true})
		}
		if c.Stream != "" && c.Stream != user.Stream(c.Subject) {
			return PersonalDataErased{}, fmt.Errorf("the erasure of %s: no erasure goes to stream %q", c.Subject, c.Stream)
		}
		return users.Handle(ctx, ErasePersonalData{By: by, UserID: c.Subject, Reason: c.Reason, finishing: true})
	})
}
