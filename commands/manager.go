package commands

import (
	"context"
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
// Administrator if not one yet), or a new one invited as Account
// Administrator. A partner serving the account may, as may operators.
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
		if err := d.mayActOnManager(ctx, c.AccountID, c.By); err != nil {
			return ManagerChanged{}, err
		}
		c.Manager.Roles = []string{string(user.AccountAdministrator)}
		if err := user.ValidateProfile(c.Manager); err != nil {
			return ManagerChanged{}, err
		}
		by := origin{actor: c.By.name(), at: d.now()}
		existing, _, ul, err := d.userByEmail(ctx, c.AccountID, c.Manager.Email)
		if err != nil {
			return ManagerChanged{}, err
		}
		var managerID uuid.UUID
		if existing != nil {
			managerID = existing.ID()
			if !slices.Contains(existing.Roles(), user.AccountAdministrator) {
				roles := append(existing.Roles(), user.AccountAdministrator)
				changed, err := existing.ChangeRoles(roleNames(roles), by.actor, by.at)
				if err != nil {
					return ManagerChanged{}, err
				}
				if _, err := save(ctx, d, user.Stream(managerID), ul, by, *changed); err != nil {
					return ManagerChanged{}, err
				}
			}
		} else {
			invited, _, err := d.inviteAs(ctx, c.AccountID, d.newID(ctx, "manager"), c.Manager, by)
			if err != nil {
				return ManagerChanged{}, err
			}
			managerID = invited.UserID
		}
		return d.designate(ctx, c.AccountID, managerID, user.NormalizeEmail(c.Manager.Email), by)
	})
}

// ChangeManagerEmailHandler handles ChangeManagerEmail.
func ChangeManagerEmailHandler(d Deps) Handler[ChangeManagerEmail, ManagerChanged] {
	return HandlerFunc[ChangeManagerEmail, ManagerChanged](func(ctx context.Context, c ChangeManagerEmail) (ManagerChanged, error) {
		if err := d.mayActOnManager(ctx, c.AccountID, c.By); err != nil {
			return ManagerChanged{}, err
		}
		a, _, err := d.loadAccount(ctx, c.AccountID)
		if err != nil {
			return ManagerChanged{}, err
		}
		managerID, oldEmail := a.Manager()
		by := origin{actor: c.By.name(), at: d.now()}
		var u user.User
		ul, err := load(ctx, d, user.Stream(managerID), &u)
		if err != nil {
			return ManagerChanged{}, err
		}
		changes, err := u.ChangeEmail(c.Email, d.newInvitation(ctx, by))
		if err != nil {
			return ManagerChanged{}, err
		}
		newEmail := user.NormalizeEmail(c.Email)
		if changes == nil {
			return d.designate(ctx, c.AccountID, managerID, newEmail, by)
		}
		// Claim the new email first: of two users wanting it, one wins.
		var claim reservation.Reservation
		claimStream := reservation.UserEmailStream(c.AccountID, newEmail)
		cl, err := load(ctx, d, claimStream, &claim)
		if err != nil {
			return ManagerChanged{}, err
		}
		switch claim.Owner() {
		case managerID:
		case uuid.Nil:
			if _, err := save(ctx, d, claimStream, cl, by, reservation.Claim(reservation.KindUserEmail, managerID, by.at)); err != nil {
				return ManagerChanged{}, conflictAs(err, newEmail+" is being taken by another user")
			}
		default:
			return ManagerChanged{}, fmt.Errorf("%s is already a user of this account: %w", newEmail, domain.ErrConflict)
		}
		if _, err := save(ctx, d, user.Stream(managerID), ul, by, changes...); err != nil {
			return ManagerChanged{}, conflictAs(err, "the manager changed meanwhile; try again")
		}
		var old reservation.Reservation
		oldStream := reservation.UserEmailStream(c.AccountID, oldEmail)
		ol, err := load(ctx, d, oldStream, &old)
		if err != nil {
			return ManagerChanged{}, err
		}
		if rel := old.Release(reservation.KindUserEmail, managerID, by.at); rel != nil {
			if _, err := save(ctx, d, oldStream, ol, by, *rel); err != nil {
				return ManagerChanged{}, err
			}
		}
		return d.designate(ctx, c.AccountID, managerID, newEmail, by)
	})
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

// mayActOnManager: operators, and users of a partner serving the account
// whose roles allow managing the customer's first administrator.
func (d Deps) mayActOnManager(ctx context.Context, accountID uuid.UUID, a Actor) error {
	if a.Operator {
		return nil
	}
	acc, _, err := d.loadAccount(ctx, accountID)
	if err != nil {
		return err
	}
	for _, p := range acc.Partners() {
		if _, _, err := d.partnerActing(ctx, p, a, partner.ManageCustomerAdmin); err == nil {
			return nil
		}
	}
	return fmt.Errorf("account %s: %w", accountID, domain.ErrNotFound)
}

func conflictAs(err error, detail string) error {
	if isConflict(err) {
		return fmt.Errorf("%s: %w", detail, domain.ErrConflict)
	}
	return err
}
