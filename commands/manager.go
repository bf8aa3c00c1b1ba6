package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// DesignateManager makes another person the account's purchase account
// manager: an existing user of the account (who becomes an Account
// Administrator if not one yet, and gets a new invitation if theirs
// expired), or a new one invited as Account Administrator. A partner
// serving the account may, as may operators. The previous manager keeps
// their roles: the customer's administrators decide about them.
type DesignateManager struct {
	By        Actor
	AccountID uuid.UUID
	Manager   user.Profile // roles are decided here
}

// ChangeManagerEmail gives the purchase account manager, who has not
// signed in yet, another email and a new invitation to it; the old link
// stops working. A partner serving the account may, as may operators.
type ChangeManagerEmail struct {
	By        Actor
	AccountID uuid.UUID
	Email     string
}

// ManagerChanged is the answer of both.
type ManagerChanged struct {
	ManagerUserID uuid.UUID
	Position      eventstore.Position
}

// DesignateManagerHandler handles DesignateManager.
func DesignateManagerHandler(d Deps) Handler[DesignateManager, ManagerChanged] {
	return HandlerFunc[DesignateManager, ManagerChanged](func(ctx context.Context, c DesignateManager) (ManagerChanged, error) {
		acting, err := d.mayActOnManager(ctx, c.AccountID, c.By)
		if err != nil {
			return ManagerChanged{}, err
		}
		c.Manager.Roles = []string{string(user.AccountAdministrator)}
		if err := user.ValidateProfile(c.Manager); err != nil {
			return ManagerChanged{}, err
		}
		email := user.NormalizeEmail(c.Manager.Email)
		if err := notOwnStaff(acting, email); err != nil {
			return ManagerChanged{}, err
		}
		by := origin{actor: c.By.name(), at: d.now()}
		managerID, err := retried(ctx, func() (uuid.UUID, error) {
			existing, _, ul, err := d.userByEmail(ctx, c.AccountID, email)
			if err != nil || existing == nil {
				return uuid.Nil, err
			}
			var changes []event.Event
			if !slices.Contains(existing.Roles(), user.AccountAdministrator) {
				changed, err := existing.ChangeRoles(roleNames(append(existing.Roles(), user.AccountAdministrator)), by.actor, by.at)
				if err != nil {
					return uuid.Nil, err
				}
				changes = append(changes, *changed)
			}
			if existing.Status(by.at) == user.Expired {
				resent, err := existing.Resend(d.newInvitation(ctx, by))
				if err != nil {
					return uuid.Nil, err
				}
				changes = append(changes, resent)
			}
			if len(changes) > 0 && ul.mine == nil {
				if _, err := save(ctx, d, user.Stream(existing.ID()), ul, by, changes...); err != nil {
					return uuid.Nil, err
				}
			}
			return existing.ID(), nil
		})
		if err != nil {
			return ManagerChanged{}, err
		}
		if managerID == uuid.Nil {
			invited, _, err := d.inviteAs(ctx, c.AccountID, d.newID(ctx, "manager"), c.Manager, by)
			if err != nil {
				return ManagerChanged{}, err
			}
			managerID = invited.UserID
		}
		return d.designate(ctx, c.AccountID, managerID, email, by)
	})
}

// ChangeManagerEmailHandler handles ChangeManagerEmail. It claims the new
// email, changes the user, and releases every email the user had before
// (not only the last: a run that stopped half way leaves one behind that
// the next run releases). Each step is safe to repeat, so a conflict
// retries the whole. Two streams change without a transaction across
// them, so the order matters: an email is claimed (again, if the user
// held it before) before the user takes it, and released after the user
// left it, by a release that expects the reservation as read; and a run
// ends by making sure the user holds the email they have (keepEmail).
// That stops a release whose read of the reservation came before a
// claim; a release decided on an older read of the user whose read of
// the reservation came after the claim can still land (known, not closed).
func ChangeManagerEmailHandler(d Deps) Handler[ChangeManagerEmail, ManagerChanged] {
	return HandlerFunc[ChangeManagerEmail, ManagerChanged](func(ctx context.Context, c ChangeManagerEmail) (ManagerChanged, error) {
		acting, err := d.mayActOnManager(ctx, c.AccountID, c.By)
		if err != nil {
			return ManagerChanged{}, err
		}
		email := user.NormalizeEmail(c.Email)
		if err := notOwnStaff(acting, email); err != nil {
			return ManagerChanged{}, err
		}
		by := origin{actor: c.By.name(), at: d.now()}
		a, _, err := d.loadAccount(ctx, c.AccountID)
		if err != nil {
			return ManagerChanged{}, err
		}
		managerID, _ := a.Manager()
		claimed := false
		_, err = retried(ctx, func() (struct{}, error) {
			var u user.User
			ul, err := load(ctx, d, user.Stream(managerID), &u)
			if err != nil {
				return struct{}{}, err
			}
			changes, err := u.ChangeEmail(c.Email, d.newInvitation(ctx, by))
			if err != nil {
				return struct{}{}, err
			}
			if changes != nil {
				claimed = true
				if err := d.adoptEmail(ctx, c.AccountID, email, managerID, by); err != nil {
					return struct{}{}, err
				}
				// On a conflict the claim stays: another change won the
				// user, maybe to this same email, which the retry reads.
				if _, err := save(ctx, d, user.Stream(managerID), ul, by, changes...); err != nil {
					return struct{}{}, err
				}
				u.Apply(changes[0])
			}
			for _, former := range u.FormerEmails() {
				// An email may be former and current at once (changed away
				// and back): keep the current one.
				if user.NormalizeEmail(former) == user.NormalizeEmail(u.Email()) {
					continue
				}
				if err := d.releaseEmail(ctx, c.AccountID, user.NormalizeEmail(former), managerID, by); err != nil {
					return struct{}{}, err
				}
			}
			return struct{}{}, d.keepEmail(ctx, c.AccountID, email, managerID, by)
		})
		if err != nil && claimed {
			return ManagerChanged{}, errors.Join(err, d.releaseUnadopted(ctx, c.AccountID, email, managerID, by))
		}
		if err != nil {
			return ManagerChanged{}, err
		}
		return d.designate(ctx, c.AccountID, managerID, email, by)
	})
}

// adoptEmail claims an email of the account for a user about to take it.
// Should the user hold it already (an email of theirs before, or the
// claim of an earlier run), it claims it again, so that a release decided
// on an older read of the reservation (by a run that saw the email among
// the user's former ones) conflicts rather than frees it.
func (d Deps) adoptEmail(ctx context.Context, accountID uuid.UUID, email string, owner uuid.UUID, by origin) error {
	c := newEmailClaim(accountID, email)
	var err error
	if c.at, err = load(ctx, d, c.stream, &c.Reservation); err != nil {
		return err
	}
	if c.Owner() != owner && c.Owner() != uuid.Nil {
		return fmt.Errorf("%s is already a user of this account: %w", c.email, domain.ErrConflict)
	}
	_, err = save(ctx, d, c.stream, c.at, by, reservation.Claim(reservation.KindUserEmail, owner, by.at))
	return err
}

// keepEmail makes sure the user holds the email they now have. A change
// releasing it as a former email can have read the reservation after
// this run claimed it again and the user before this run gave it to them:
// that release lands, and the email is claimed anew here (a conflict
// retries the run).
func (d Deps) keepEmail(ctx context.Context, accountID uuid.UUID, email string, owner uuid.UUID, by origin) error {
	c := newEmailClaim(accountID, email)
	var err error
	if c.at, err = load(ctx, d, c.stream, &c.Reservation); err != nil {
		return err
	}
	return d.claim(ctx, c, owner, by)
}

// releaseUnadopted frees an email a run claimed for the user and then
// failed to give them, unless the user has it now. The release expects
// the reservation as read before the user, which stops a change adopting
// the email whose claim comes after that read, not one whose claim came
// before it and whose append to the user comes after.
func (d Deps) releaseUnadopted(ctx context.Context, accountID uuid.UUID, email string, owner uuid.UUID, by origin) error {
	ctx = context.WithoutCancel(ctx)
	var r reservation.Reservation
	stream := reservation.UserEmailStream(accountID, email)
	l, err := load(ctx, d, stream, &r)
	if err != nil {
		return err
	}
	var u user.User
	if _, err := load(ctx, d, user.Stream(owner), &u); err != nil {
		return err
	}
	rel := r.Release(reservation.KindUserEmail, owner, by.at)
	if rel == nil || user.NormalizeEmail(u.Email()) == email {
		return nil
	}
	_, err = save(ctx, d, stream, l, by, *rel)
	if isConflict(err) {
		return nil // someone else is changing it: theirs to settle
	}
	return err
}

// claim reserves an email, as read in c, for a user: read once where the
// command had to read it anyway (InviteUser looks for the email's user
// first), not again.
func (d Deps) claim(ctx context.Context, c *emailClaim, owner uuid.UUID, by origin) error {
	switch {
	case c.Owner() == owner:
		return nil
	case c.Owner() != uuid.Nil:
		return fmt.Errorf("%s is already a user of this account: %w", c.email, domain.ErrConflict)
	}
	_, err := save(ctx, d, c.stream, c.at, by, reservation.Claim(reservation.KindUserEmail, owner, by.at))
	return err
}

// releaseEmail frees an email the user holds (nothing to do otherwise).
func (d Deps) releaseEmail(ctx context.Context, accountID uuid.UUID, email string, owner uuid.UUID, by origin) error {
	var r reservation.Reservation
	stream := reservation.UserEmailStream(accountID, email)
	l, err := load(ctx, d, stream, &r)
	if err != nil {
		return err
	}
	if rel := r.Release(reservation.KindUserEmail, owner, by.at); rel != nil {
		_, err = save(ctx, d, stream, l, by, *rel)
	}
	return err
}

// designate records the manager on the account stream.
func (d Deps) designate(ctx context.Context, accountID, managerID uuid.UUID, email string, by origin) (ManagerChanged, error) {
	pos, err := d.changeAccount(ctx, accountID, Actor{Subject: by.actor}, func(a *account.Account, actor string) (event.Event, error) {
		if e := a.DesignateManager(managerID, email, actor); e != nil {
			return *e, nil
		}
		return nil, nil
	})
	return ManagerChanged{ManagerUserID: managerID, Position: pos}, err
}

// mayActOnManager: operators (nil partner), and users of a partner serving
// the account whose roles allow managing the customer's first
// administrator (that partner).
func (d Deps) mayActOnManager(ctx context.Context, accountID uuid.UUID, a Actor) (*partner.Partner, error) {
	if a.Operator {
		return nil, nil
	}
	acc, _, err := d.loadAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for _, id := range acc.Partners() {
		if p, _, err := d.partnerActing(ctx, id, a, partner.ManageCustomerAdmin); err == nil {
			return p, nil
		}
	}
	return nil, fmt.Errorf("account %s: %w", accountID, domain.ErrNotFound)
}

// notOwnStaff refuses a partner making one of its own people the
// customer's Account Administrator: that is the customer's call.
func notOwnStaff(acting *partner.Partner, email string) error {
	if acting == nil {
		return nil
	}
	if _, staff := acting.MemberByEmail(email); staff {
		return &domain.RuleError{Code: "partner-staff-as-manager",
			Detail: "a partner cannot make one of its own users the customer's purchase account manager"}
	}
	return nil
}
