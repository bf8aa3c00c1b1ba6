package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
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

		claim := reservation.AgreementStream(registered.AgreementNumber, registered.PurchaseAccountNumber)
		if _, err := save(ctx, d, claim, noStream, by, reservation.Claim(reservation.KindAgreement, accountID, by.at)); err != nil {
			if isConflict(err) {
				return AccountRegistered{}, fmt.Errorf("agreement %s with purchase account %s is already registered: %w", registered.AgreementNumber, registered.PurchaseAccountNumber, domain.ErrConflict)
			}
			return AccountRegistered{}, err
		}
		managerID := d.newID(ctx, "manager")
		registered.ManagerUserID = managerID
		if _, err := save(ctx, d, account.Stream(accountID), noStream, by, registered); err != nil {
			return AccountRegistered{}, err
		}
		invited, res, err := d.inviteAs(ctx, accountID, managerID, c.Manager, by)
		if err != nil {
			return AccountRegistered{}, err
		}
		return AccountRegistered{AccountID: accountID, ManagerUserID: invited.UserID, Position: res.Position}, nil
	})
}
