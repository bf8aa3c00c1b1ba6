package commands

import (
	"context"
	"crypto/subtle"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
)

// RequestManagerResend is anyone's request to send the purchase account
// manager's invitation again. It is resent only when the email, agreement
// number and purchase account number all match an account whose manager
// has not accepted yet; otherwise nothing happens. The answer says nothing
// either way: callers learn only that the request was taken.
type RequestManagerResend struct {
	Email                 string
	AgreementNumber       string
	PurchaseAccountNumber string
}

// RequestManagerResendHandler handles RequestManagerResend; it reports
// whether it resent (for logs and tests, never for the requester).
func RequestManagerResendHandler(d Deps) Handler[RequestManagerResend, bool] {
	return HandlerFunc[RequestManagerResend, bool](func(ctx context.Context, c RequestManagerResend) (bool, error) {
		// The numbers are matched as registration kept them (trimmed):
		// a space pasted around one is no reason to send nothing.
		agreement, purchaseAccount := account.NormalizeNumber(c.AgreementNumber), account.NormalizeNumber(c.PurchaseAccountNumber)
		var claim reservation.Reservation
		if _, err := load(ctx, d, reservation.AgreementStream(agreement, purchaseAccount), &claim); err != nil {
			return false, err
		}
		if claim.Owner() == uuid.Nil {
			return false, nil
		}
		var a account.Account
		if _, err := load(ctx, d, account.Stream(claim.Owner()), &a); err != nil {
			return false, err
		}
		managerID, managerEmail := a.Manager()
		if subtle.ConstantTimeCompare([]byte(user.NormalizeEmail(c.Email)), []byte(managerEmail)) != 1 {
			return false, nil
		}
		return retried(ctx, func() (bool, error) {
			var u user.User
			l, err := load(ctx, d, user.Stream(managerID), &u)
			if err != nil {
				return false, err
			}
			by := origin{actor: "resend-request", at: d.now()}
			if u.Status(by.at) == user.Active || u.Erased() {
				return false, nil
			}
			resent, err := u.Resend(d.newInvitation(ctx, by))
			if err != nil {
				return false, err
			}
			_, err = save(ctx, d, user.Stream(managerID), l, by, resent)
			return err == nil, err
		})
	})
}
