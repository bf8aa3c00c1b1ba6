package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
)

// An email is unique among the users of an account through its
// reservation stream, and the claim there is checked against its owner's
// stream: a user takes an email only after claiming it, and emails are
// never released when their owner leaves them (releases, racing with
// claims across two streams, freed emails their users had again). A
// claim's owner holds the email while they have it; a claim whose owner
// left it is free for the next to take over.

// stallAge is how long a claim may stay under way (its owner not yet
// written to) before it counts as stalled: a process that died or hung
// between claiming and writing the owner leaves such a claim, while a
// live command finishes within milliseconds.
const stallAge = time.Minute

// holding is what a claim on an email amounts to, its owner read after it.
type holding int

const (
	// unclaimed: nobody ever claimed the email.
	unclaimed holding = iota
	// held: the owner has the email.
	held
	// incoming: the owner is being given the email: a user not yet
	// invited, or a change of email claimed at the revision of the user's
	// stream that the stream still ends at.
	incoming
	// stalled: incoming for over stallAge; the command that claimed it
	// stopped. The next claim fences it off (lapse) and takes over.
	stalled
	// erasing: the owner's key is gone and their erasure event not yet
	// written (the sweeper finishes it): whether they had the email can no
	// longer be read, so nobody may take it until the event is there.
	erasing
	// left: the owner no longer has the email (changed it, was erased).
	left
)

// emailClaim is the reservation stream of an email in an account, as
// read, with what it amounts to.
type emailClaim struct {
	reservation.Reservation
	account       uuid.UUID
	email, stream string
	at            loaded
	holding       holding
	// ownerAt is the owner's stream as read.
	ownerAt loaded
}

func newEmailClaim(accountID uuid.UUID, email string) *emailClaim {
	return &emailClaim{account: accountID, email: email, stream: reservation.UserEmailStream(accountID, email)}
}

// userByEmail finds the user holding an email in an account, from the
// reservation stream and its owner's stream (nil when nobody holds it, so
// that a claim left behind, or read while the owner is being given the
// email, never lends anyone rights). The claim holds the owner's stream
// as read (ownerAt).
func (d Deps) userByEmail(ctx context.Context, accountID uuid.UUID, email string) (*user.User, *emailClaim, error) {
	c := newEmailClaim(accountID, user.NormalizeEmail(email))
	var err error
	if c.at, err = load(ctx, d, c.stream, &c.Reservation); err != nil {
		return nil, nil, err
	}
	if c.Owner() == uuid.Nil {
		return nil, c, nil
	}
	var u user.User
	if c.ownerAt, err = load(ctx, d, user.Stream(c.Owner()), &u); err != nil {
		return nil, c, err
	}
	if c.holding = c.judge(&u, d.now()); c.holding != held {
		return nil, c, nil
	}
	return &u, c, nil
}

// judge tells what the claim amounts to, given its owner u as read.
func (c *emailClaim) judge(u *user.User, now time.Time) holding {
	tag, end := c.OwnerRevision(), c.ownerAt.revision
	switch {
	case u.Exists() && user.NormalizeEmail(u.Email()) == c.email:
		return held
	case u.Exists() && u.Erasing():
		return erasing
	case end != nil && (tag == nil || *tag != *end):
		return left
	case now.Sub(c.ClaimedAt()) >= stallAge:
		return stalled
	default:
		return incoming
	}
}

// claim reserves an email, as read in c, for owner, whose stream the
// command read at ownerRevision (nil: a user still to be invited). Read
// once where the command had to read it anyway (InviteUser looks for the
// email's user first), not again. A claim already the owner's is made
// again only when again is set: a change of email needs its claim tagged
// with the revision it read.
func (d Deps) claim(ctx context.Context, c *emailClaim, owner uuid.UUID, ownerRevision *uint64, again bool, by origin) error {
	switch {
	case c.Owner() == owner && !again:
		return nil
	case c.Owner() == owner:
		// Claimed again, below, for the revision this command read.
	// The answers do not repeat the email: one may be kept under an
	// idempotency key, and replayed, after the person's erasure.
	case c.holding == held:
		return fmt.Errorf("the email is already a user of this account: %w", domain.ErrConflict)
	// Neither of the next two is kept under an idempotency key either:
	// the claim ends within a minute, the erasure once the sweeper
	// finishes it, and the same request may then succeed.
	case c.holding == incoming:
		return &domain.LaterError{Err: fmt.Errorf("the email is being given to another user right now: %w", domain.ErrConflict), RetryAfter: 1}
	case c.holding == erasing:
		return &domain.LaterError{Err: fmt.Errorf("the email belongs to a user whose erasure is under way; try again in a few minutes: %w", domain.ErrConflict), RetryAfter: 60}
	case c.holding == stalled:
		if err := d.lapse(ctx, c, by); err != nil {
			return err
		}
	}
	// Now, not when the command began: the claim stalls a minute from
	// when it is made.
	claim := reservation.Claim(reservation.KindUserEmail, owner, d.now())
	claim.OwnerRevision = ownerRevision
	_, err := save(ctx, d, c.stream, c.at, by, claim)
	return err
}

// lapse fences off a stalled claim before it is taken over: an event on
// its owner's stream at the revision the claim was made on, so that the
// stalled command's append there, should it still come, conflicts. Of two
// commands taking over, one fences; the other's append conflicts, and its
// retry finds the claim left.
func (d Deps) lapse(ctx context.Context, c *emailClaim, by origin) error {
	e := user.EmailClaimLapsed{UserID: c.Owner(), AccountID: c.account, ClaimedAt: c.ClaimedAt(), LapsedAt: d.now()}
	_, err := save(ctx, d, user.Stream(c.Owner()), c.ownerAt, by, e)
	return err
}
