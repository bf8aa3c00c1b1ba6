package mailer_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/mailer"
)

// A mailer that comes back after an outage mails what is still current:
// not an invitation a resend replaced (its link is refused), nor one its
// user accepted meanwhile. A late invitation nothing replaced still goes.
func TestConsumer_after_an_outage_skips_invitations_replaced_or_accepted_since(t *testing.T) {
	h := newHarness(t)
	acct := h.register("Fabrikam")
	replaced, replacedID := h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	accepted, acceptedID := h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	waiting, waitingID := h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	h.clock.Advance(10 * time.Minute)
	resend := resent(replaced.UserID, acct, tokenKey)
	resentID, _ := h.append(user.Stream(replaced.UserID), resend)
	h.append(user.Stream(accepted.UserID), user.InvitationAccepted{
		UserID: accepted.UserID, AccountID: acct, InvitationID: accepted.InvitationID, AcceptedAt: h.clock.Now(),
	})
	h.clock.Advance(time.Hour)

	h.start()
	var tokens []string
	for _, f := range h.mails(2) {
		_, _, token := invitationMail(t, f, "minji@example.kr")
		tokens = append(tokens, token)
	}
	want := []string{
		user.FormatToken(replaced.UserID, user.InvitationSecret(tokenKey, resend.InvitationID)),
		user.FormatToken(waiting.UserID, user.InvitationSecret(tokenKey, waiting.InvitationID)),
	}
	slices.Sort(tokens)
	slices.Sort(want)
	if !slices.Equal(tokens, want) {
		t.Errorf("tokens mailed %q, want the resend's and the untouched invitation's %q", tokens, want)
	}
	for id, want := range map[uuid.UUID]string{
		replacedID: "skipped: superseded by user.invitation_resent@1",
		acceptedID: "skipped: superseded by user.invitation_accepted@1",
		resentID:   "sent",
		waitingID:  "sent",
	} {
		if got := h.outcome(id); got != want {
			t.Errorf("outcome %q, want %q", got, want)
		}
	}
}

// Two resends of an invitation a moment apart come in one batch, none of
// them late: only the last is mailed, the links of the others being
// refused. Each was mailed, as nothing was late enough to look for what
// came after it.
func TestConsumer_mails_only_the_last_of_an_invitations_resends_in_one_batch(t *testing.T) {
	h := newHarness(t)
	acct := h.register("Fabrikam")
	inv, invitedID := h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	first, second := resent(inv.UserID, acct, tokenKey), resent(inv.UserID, acct, tokenKey)
	firstID, _ := h.append(user.Stream(inv.UserID), first)
	secondID, _ := h.append(user.Stream(inv.UserID), second)
	h.clock.Advance(time.Second)

	h.start()
	_, _, token := invitationMail(t, h.mails(1)[0], "minji@example.kr")
	checkToken(t, token, inv.UserID, second.TokenHash)
	for id, want := range map[uuid.UUID]string{
		invitedID: "skipped: superseded by user.invitation_resent@1",
		firstID:   "skipped: superseded by user.invitation_resent@2",
		secondID:  "sent",
	} {
		if got := h.outcome(id); got != want {
			t.Errorf("outcome %q, want %q", got, want)
		}
	}
}

// stalledSender is a relay whose try number at (from 1) hangs until
// release (a connection that stopped answering until the try's timeout),
// then answers fail (nil: goes through); the others go through at once.
type stalledSender struct {
	files   mailer.FileSender
	at      int32
	fail    error
	tries   atomic.Int32
	sending chan struct{}
	release chan struct{}
}

func stall(h *harness, at int32, fail error) *stalledSender {
	s := &stalledSender{files: mailer.FileSender{Dir: h.dir}, at: at, fail: fail, sending: make(chan struct{}), release: make(chan struct{})}
	h.sender = s
	return s
}

func (s *stalledSender) Send(ctx context.Context, m mailer.Message) error {
	if s.tries.Add(1) == s.at {
		close(s.sending)
		<-s.release
		if s.fail != nil {
			return s.fail
		}
	}
	return s.files.Send(ctx, m)
}

// A batch whose first commit's sends hang decides its next invitations
// that much later: seconds old by then, they are late, and one resent
// meanwhile is not mailed. Under a minute old, they were decided as live
// ones, without a look at what came after them, and each resent while a
// send hung (up to 30 s a try) was mailed beside its resend, its link
// refused.
func TestConsumer_skips_an_invitation_resent_while_the_sends_before_it_hung(t *testing.T) {
	h := newHarness(t)
	s := stall(h, 1, nil)
	acct, inv, invitedID := h.inviteBehindAFullCommit()
	sendBegun(t, s.sending)
	h.clock.Advance(30 * time.Second)
	resend := resent(inv.UserID, acct, tokenKey)
	resentID, _ := h.append(user.Stream(inv.UserID), resend)
	close(s.release)
	h.mails(mailer.ClaimsPerCommit + 1)
	h.onlyResendOf(invitedID, resentID)
}

// An invitation email tried seconds after it was decided is looked at
// again first: resent while its own first try failed, or while the send
// before it in its commit hung, it is not mailed beside its resend. It was
// tried on as decided, and a soak had one go out 49 s late, on its third
// try, its link refused.
func TestConsumer_does_not_try_again_an_invitation_resent_since_it_was_decided(t *testing.T) {
	for name, c := range map[string]struct {
		ahead int   // invitations before it in the batch
		at    int32 // the try that hangs
		fail  error // and how it ends
	}{
		"its own try failed": {at: 1, fail: errors.New("451 4.3.0 try again later")},
		// The first invitation goes alone (a new mailer claims one email
		// a commit) and quickly: the next commit claims the second and
		// this one, and the second's send hangs.
		"the send before it hung": {ahead: 2, at: 2},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			s := stall(h, c.at, c.fail)
			acct := h.register("Contoso")
			for range c.ahead {
				h.invite(acct, "en", epoch.Add(user.InvitationValidity))
			}
			inv, invitedID := h.invite(acct, "en", epoch.Add(user.InvitationValidity))
			h.start() // the mailer finds every invitation in its first batch
			sendBegun(t, s.sending)
			h.clock.Advance(30 * time.Second)
			resentID, _ := h.append(user.Stream(inv.UserID), resent(inv.UserID, acct, tokenKey))
			close(s.release)
			h.mails(c.ahead + 1)
			h.onlyResendOf(invitedID, resentID)
		})
	}
}
