package commands

import (
	"context"
	"crypto/subtle"
	"time"

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
		email := user.NormalizeEmail(c.Email)
		return retried(ctx, func() (bool, error) {
			// The account again on every try, and the manager after it:
			// the account names the manager the request must match.
			var a account.Account
			al, err := load(ctx, d, account.Stream(claim.Owner()), &a)
			if err != nil {
				return false, err
			}
			// The account keeps the email as it was compared when it was
			// written; compared again now, an account kept before emails
			// were composed (NFC) still matches.
			managerID, managerEmail := a.Manager()
			if subtle.ConstantTimeCompare([]byte(email), []byte(user.NormalizeEmail(managerEmail))) != 1 {
				return false, nil
			}
			var u user.User
			l, err := load(ctx, d, user.Stream(managerID), &u)
			if err != nil {
				return false, err
			}
			by := origin{actor: "resend-request", at: d.now()}
			if u.Status(by.at) == user.Active || u.Erased() || !stillManagerAt(&u, email, al, by.at) {
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

// stillManagerAt reports whether u, read after the account (at al) named
// them its manager at email, still is. The user and the account change
// without a transaction across them, the user first: a change of the
// manager's email gives the user the new one, and a designation of
// another manager marks the former manager's stream with its handover
// (see startHandover). So the request's append to the manager lands
// before the handover (which then conflicts and is made again), or the
// request sees it here. Without this, a request matched a moment before
// resent an invitation to an email the account no longer names: after a
// designation, to a former manager who keeps Account Administrator, with
// an invitation none of the customer's administrators sent. A handover
// over stallAge old has stalled, and the request goes ahead: it fences
// nothing off, unlike a change of the email (see notHandedOver).
func stillManagerAt(u *user.User, email string, al loaded, now time.Time) bool {
	if user.NormalizeEmail(u.Email()) != email {
		return false
	}
	h, ok := u.Handover()
	return !ok || al.revision == nil || h.AccountRevision < *al.revision || now.Sub(h.StartedAt) >= stallAge
}
