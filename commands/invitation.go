package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// newInvitation makes the id and token hash of an invitation. The id is
// random (122 bits), or derived from the idempotency key: either way the
// token's secret is an HMAC of it under the server key, so knowing the id
// gives nobody the token.
func (d Deps) newInvitation(ctx context.Context, by origin) user.Invitation {
	id, keyed := keyedID(ctx, "invitation")
	if !keyed {
		id = uuid.New()
	}
	return user.Invitation{
		ID:        id,
		TokenHash: user.HashSecret(user.InvitationSecret(d.TokenKey, id)),
		By:        by.actor,
		Now:       by.at,
	}
}

// inviteAs claims the profile's email in the account and invites a new user.
// Of concurrent invitations of one email exactly one succeeds; the others
// get ErrConflict. A claim or a user of userID is this command's own, from
// an earlier run with the same idempotency key (userID derives from it):
// that run is finished, or answered again as it was.
func (d Deps) inviteAs(ctx context.Context, accountID, userID uuid.UUID, p user.Profile, by origin) (user.Invited, eventstore.AppendResult, error) {
	invited, err := user.Invite(userID, accountID, p, d.newInvitation(ctx, by))
	if err != nil {
		return user.Invited{}, eventstore.AppendResult{}, err
	}
	var res eventstore.AppendResult
	claimed := false
	if _, keyed := keyedID(ctx, "user"); !keyed {
		var state unread
		if state, res, err = d.claimUnread(ctx, invited, by); err != nil {
			return user.Invited{}, eventstore.AppendResult{}, err
		}
		if state == claimedWithUser {
			return invited, res, nil
		}
		claimed = state == claimedAlone
	}
	_, err = retried(ctx, func() (struct{}, error) {
		if claimed {
			// Should this append conflict, the retry looks at the email
			// afresh: the user may be there (finished by another
			// invitation after this one stalled), or the claim fenced.
			claimed = false
			res, err = save(ctx, d, user.Stream(invited.UserID), noStream, by, invited)
			return struct{}{}, err
		}
		existing, claim, err := d.userByEmail(ctx, accountID, invited.Email)
		if err != nil {
			return struct{}{}, err
		}
		first, ours := mine[user.Invited](claim.ownerAt)
		switch {
		case ours:
			// The earlier run invited (the user may have another email by
			// now): the append below is the store's retry of its append,
			// and answers as it did.
			invited = first
		case existing != nil:
			// The answer does not repeat the email: it may be kept under
			// an idempotency key, and replayed, after the person's erasure.
			return struct{}{}, fmt.Errorf("the email is already a user of this account (status %s; resend the invitation instead): %w",
				existing.Status(by.at), domain.ErrConflict)
		case claim.Owner() == invited.UserID && claim.ownerAt.revision != nil:
			// This run, or an earlier one with its idempotency key,
			// stalled after its claim and was fenced off (see lapse).
			return struct{}{}, fmt.Errorf("this invitation stalled half way and was stopped; invite again (with a new idempotency key, if one was sent): %w", domain.ErrConflict)
		case claim.Owner() == invited.UserID:
			// The earlier run claimed the email and stopped: finish it.
		default:
			if err := d.claim(ctx, claim, invited.UserID, nil, false, by); err != nil {
				return struct{}{}, err
			}
		}
		res, err = save(ctx, d, user.Stream(invited.UserID), noStream, by, invited)
		return struct{}{}, err
	})
	return invited, res, err
}

// unread is what claimUnread did.
type unread int

const (
	// claimedBefore: the email's reservation stream exists; nothing was
	// written, and the caller reads it and decides.
	claimedBefore unread = iota
	// claimedAlone: the email is claimed, the user still to be saved.
	claimedAlone
	// claimedWithUser: the claim and the user were saved in one append.
	claimedWithUser
)

// claimUnread claims an email that has never been claimed in the account,
// without reading its reservation stream first: most invitations are of
// new addresses, and an append that expects no stream needs no read to
// find out. Where the store appends to several streams at once, the
// invited user goes in the same append: one commit instead of two, and no
// claim is ever left without its user by a process that stopped between
// them. A command with an idempotency key does not use it: a re-run's
// claim would be answered as the first run's, and telling that apart from
// a first claim takes the read anyway.
func (d Deps) claimUnread(ctx context.Context, invited user.Invited, by origin) (unread, eventstore.AppendResult, error) {
	stream := reservation.UserEmailStream(invited.AccountID, user.NormalizeEmail(invited.Email))
	claim := reservation.Claim(reservation.KindUserEmail, invited.UserID, d.now())
	res, multi, err := saveAll(ctx, d, by,
		write{stream: stream, at: noStream, events: []event.Event{claim}},
		write{stream: user.Stream(invited.UserID), at: noStream, events: []event.Event{invited}})
	if !multi {
		_, err = save(ctx, d, stream, noStream, by, claim)
	}
	switch {
	case isConflict(err):
		return claimedBefore, eventstore.AppendResult{}, nil
	case err != nil:
		return claimedBefore, eventstore.AppendResult{}, err
	case multi:
		return claimedWithUser, res[1], nil
	default:
		return claimedAlone, eventstore.AppendResult{}, nil
	}
}

// isConflict reports a store-level revision conflict.
func isConflict(err error) bool { return errors.Is(err, eventstore.ErrWrongExpectedRevision) }

// joinValidation merges the validation errors of two inputs, prefixing the
// second's field names.
func joinValidation(first, second error, prefix string) error {
	var out domain.ValidationError
	for i, err := range []error{first, second} {
		var v *domain.ValidationError
		if err == nil {
			continue
		}
		if !errors.As(err, &v) {
			return err
		}
		for _, f := range v.Fields {
			if i == 1 {
				f.Field = prefix + f.Field
			}
			out.Fields = append(out.Fields, f)
		}
	}
	return out.Err()
}
