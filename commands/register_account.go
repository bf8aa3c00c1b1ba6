package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// RegisterAccount registers a purchase account and invites its manager as
// Account Administrator. Only operators of the service may.
type RegisterAccount struct {
	By                    Actor
	Name                  string
	AgreementNumber       string
	PurchaseAccountNumber string
	Manager               user.Profile
}

// AccountRegistered is the answer.
type AccountRegistered struct {
	AccountID     uuid.UUID
	ManagerUserID uuid.UUID
	Position      eventstore.Position
}

// RegisterAccountHandler handles RegisterAccount.
func RegisterAccountHandler(d Deps) Handler[RegisterAccount, AccountRegistered] {
	return HandlerFunc[RegisterAccount, AccountRegistered](func(ctx context.Context, c RegisterAccount) (AccountRegistered, error) {
		// The route checks the operator claim before any replay, so this
		// check comes first too (see WithIdempotencyKey).
		if !c.By.Operator {
			return AccountRegistered{}, fmt.Errorf("registering accounts is for operators: %w", domain.ErrForbidden)
		}
		by := origin{actor: c.By.name(), at: d.now()}
		c.Manager.Roles = []string{string(user.AccountAdministrator)}
		accountID := d.newID(ctx, "account")
		registered, regErr := account.Register(accountID, c.Name, c.AgreementNumber, c.PurchaseAccountNumber, uuid.Nil, user.NormalizeEmail(c.Manager.Email), by.actor)
		if err := joinValidation(regErr, user.ValidateProfile(c.Manager), "manager."); err != nil {
			return AccountRegistered{}, err
		}

		registered.ManagerUserID = d.newID(ctx, "manager")
		claim := reservation.AgreementStream(registered.AgreementNumber, registered.PurchaseAccountNumber)
		_, err := saveInOrder(ctx, d, by,
			write{stream: claim, at: noStream, events: []event.Event{reservation.Claim(reservation.KindAgreement, accountID, by.at)}},
			write{stream: account.Stream(accountID), at: noStream, events: []event.Event{registered}})
		if isConflict(err) {
			// Claimed before: registered, or a registration that stopped
			// half way, which this one finishes.
			registered, err = d.unfinishedRegistration(ctx, claim, registered, by)
		}
		if err != nil {
			return AccountRegistered{}, err
		}
		invited, res, err := d.inviteAs(ctx, registered.AccountID, registered.ManagerUserID, c.Manager, by)
		if err != nil {
			return AccountRegistered{}, err
		}
		return AccountRegistered{AccountID: registered.AccountID, ManagerUserID: invited.UserID, Position: res.Position}, nil
	})
}

// unfinishedRegistration is the registration to finish when the agreement
// was claimed before: that claim's, when the process that claimed it
// stopped before its account (where the store appends one stream at a
// time) or before its manager's invitation. Either left the agreement
// claimed for good, and every later registration of it refused as
// already registered. A finished registration is ErrConflict; so is an
// unfinished one whose manager is someone else.
func (d Deps) unfinishedRegistration(ctx context.Context, claim string, want account.Registered, by origin) (account.Registered, error) {
	registeredErr := fmt.Errorf("agreement %s with purchase account %s is already registered: %w", want.AgreementNumber, want.PurchaseAccountNumber, domain.ErrConflict)
	var r reservation.Reservation
	claimed, err := loadWith(ctx, d, claim, &r, nil)
	if err != nil {
		return want, err
	}
	var acc account.Account
	if _, err := load(ctx, d, account.Stream(r.Owner()), &acc); err != nil {
		return want, err
	}
	if !acc.Exists() {
		want.AccountID = r.Owner()
		if _, err := save(ctx, d, account.Stream(want.AccountID), noStream, by, want); err != nil {
			if isConflict(err) {
				return want, registeredErr // finished meanwhile by another
			}
			return want, err
		}
		return want, nil
	}
	managerID, email := acc.Manager()
	if claimed.mine != nil {
		// An earlier run of this command, with its idempotency key: its
		// manager's invitation answers as that run did, or is finished.
		want.AccountID, want.ManagerUserID = acc.ID(), managerID
		return want, nil
	}
	manager, err := loadWith(ctx, d, user.Stream(managerID), unfolded{}, nil)
	if err != nil {
		return want, err
	}
	if manager.revision != nil || email != want.ManagerEmail {
		return want, registeredErr
	}
	want.AccountID, want.ManagerUserID = acc.ID(), managerID
	return want, nil
}
