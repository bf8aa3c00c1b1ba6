package mailer_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/mailer"
)

// awayAfter is a sender whose relay goes away after sends succeeded
// (the count at which it goes), and comes back when back is set.
type awayAfter struct {
	to    mailer.Sender
	sends atomic.Int32
	after int32
	back  atomic.Bool
	tries atomic.Int32
}

func (a *awayAfter) Send(ctx context.Context, m mailer.Message) error {
	if a.sends.Load() >= a.after && !a.back.Load() {
		a.tries.Add(1)
		return fmt.Errorf("smtp relay.example:25: %w: dial tcp: connection refused", mailer.ErrRelayAway)
	}
	a.sends.Add(1)
	return a.to.Send(ctx, m)
}

// While the relay cannot be reached, the mailer records nothing failed:
// the emails wait, and go out once each when it is back. Recorded failed
// after three tries, every invitation of a relay's minute away was lost.
// The relay goes away between the two emails of a grant, which the grant
// claims as a whole too: the second goes out too, the first not again.
func TestConsumer_waits_for_a_relay_away_and_loses_no_email(t *testing.T) {
	h := newHarness(t)
	relay := &awayAfter{to: h.sender, after: 1}
	h.sender = relay
	h.start()
	acct := h.register("Contoso")
	grantee := h.registerPartner("Adatum Reseller")
	h.addPartnerUser(grantee, "admin@adatum.example", partner.GlobalAdmin)
	h.addPartnerUser(grantee, "agent@adatum.example", partner.AdminAgent)
	source := h.registerPartner("Northwind Partners")
	grantID := h.grant(acct, grantee, source)
	var invited []string
	for range 3 {
		_, id := h.invite(acct, "en", epoch.Add(time.Hour))
		invited = append(invited, id.String())
	}
	eventually(t, "tries while the relay is away", func() bool { return relay.tries.Load() >= 6 })
	for _, id := range invited {
		var failed int
		if err := h.pool.QueryRow(context.Background(), `SELECT count(*) FROM mail_sent WHERE event_id::text = $1 AND outcome LIKE 'failed%'`, id).Scan(&failed); err != nil || failed != 0 {
			t.Fatalf("invitation %s recorded failed while the relay was away (%v)", id, err)
		}
	}
	relay.back.Store(true)
	h.mails(5) // the grant's two, the three invitations'
	if n := relay.sends.Load(); n != 5 {
		t.Fatalf("%d sends, want 5: each email once", n)
	}
	if got := h.outcome(grantID); got != "one email a recipient: 2" {
		t.Errorf("the grant: %q", got)
	}
	for _, id := range invited {
		var outcome string
		if err := h.pool.QueryRow(context.Background(), `SELECT outcome FROM mail_sent WHERE event_id::text = $1`, id).Scan(&outcome); err != nil || outcome != "sent" {
			t.Errorf("invitation %s: %q %v", id, outcome, err)
		}
	}
}

// An invitation resent while the relay is away is mailed once, the
// newest, however short the wait: the email put back is decided again
// as a late one. Decided as live (its event under a minute old), the
// stale invitation went out too once the relay was back, its link refused.
func TestConsumer_mails_only_the_resend_of_an_invitation_that_waited_for_the_relay(t *testing.T) {
	h := newHarness(t)
	relay, acct, inv, invitedID := h.inviteWhileTheRelayIsAway()
	resend, resentID := h.resendWhileAway(relay, acct, inv)
	relay.back.Store(true)
	h.onlyResendMailed(inv, invitedID, resend, resentID)
}

// The instance that takes the lead while an invitation waits for the
// relay knows it waited, from its row: it mails only the resend of
// meanwhile. Remembered only by the instance that put it back, the
// invitation was decided by its age (ten seconds, not late) and mailed
// beside its resend, its link refused.
func TestConsumer_a_new_lead_mails_only_the_resend_of_an_invitation_that_waited(t *testing.T) {
	h := newHarness(t)
	relay, acct, inv, invitedID := h.inviteWhileTheRelayIsAway()
	eventually(t, "the invitation marked waiting for the relay", func() bool { return h.outcome(invitedID) == "waiting for the relay" })
	h.stopEngine()
	h.clock.Advance(10 * time.Second)
	resend := resent(inv.UserID, acct, tokenKey)
	resentID, _ := h.append(user.Stream(inv.UserID), resend)
	relay.back.Store(true)
	h.start() // a new consumer: nothing of the first one's memory
	h.onlyResendMailed(inv, invitedID, resend, resentID)
}

// inviteWhileTheRelayIsAway starts the mailer with a relay that cannot be
// reached (until relay.back is set) and invites one person.
func (h *harness) inviteWhileTheRelayIsAway() (relay *awayAfter, acct uuid.UUID, inv user.Invited, invitedID uuid.UUID) {
	h.t.Helper()
	relay = &awayAfter{to: h.sender}
	h.sender = relay
	h.start()
	acct = h.register("Contoso")
	inv, invitedID = h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	return relay, acct, inv, invitedID
}

// onlyResendMailed checks that of an invitation (its event invitedID)
// and its resend, only the resend was mailed, the invitation skipped as
// superseded.
func (h *harness) onlyResendMailed(inv user.Invited, invitedID uuid.UUID, resend user.InvitationResent, resentID uuid.UUID) {
	h.t.Helper()
	files := h.mails(1)
	_, _, token := invitationMail(h.t, files[0], "minji@example.kr")
	checkToken(h.t, token, inv.UserID, resend.TokenHash)
	h.onlyResendOf(invitedID, resentID)
}

// An invitation of a batch the mailer put back for the relay, past the
// emails its commit had claimed (ClaimsPerCommit), is mailed once the
// relay is back only if nothing made it stale meanwhile: resent while the
// relay was away, only the resend is mailed. Never claimed, it was
// decided again as a live one (its event ten seconds old) and mailed
// beside its resend, its link refused.
func TestConsumer_mails_only_the_resend_of_an_invitation_put_back_unclaimed(t *testing.T) {
	h := newHarness(t)
	relay := &awayAfter{to: h.sender}
	h.sender = relay
	acct, inv, invitedID := h.inviteBehindAFullCommit()
	_, resentID := h.resendWhileAway(relay, acct, inv)
	relay.back.Store(true)
	h.mails(mailer.ClaimsPerCommit + 1)
	h.onlyResendOf(invitedID, resentID)
}

// resendWhileAway resends an invitation once the relay has been tried
// while away, ten seconds after it, and waits for the relay to be tried
// again after the resend.
func (h *harness) resendWhileAway(relay *awayAfter, acct uuid.UUID, inv user.Invited) (user.InvitationResent, uuid.UUID) {
	h.t.Helper()
	eventually(h.t, "tries while the relay is away", func() bool { return relay.tries.Load() >= 3 })
	h.clock.Advance(10 * time.Second)
	resend := resent(inv.UserID, acct, tokenKey)
	resentID, _ := h.append(user.Stream(inv.UserID), resend)
	eventually(h.t, "tries after the resend", func() bool { return relay.tries.Load() >= 6 })
	return resend, resentID
}

// inviteBehindAFullCommit invites as many people as one commit of the
// mailer claims (ClaimsPerCommit), and one more, and starts the mailer:
// one batch, whose first commit claims all but the last invitation.
func (h *harness) inviteBehindAFullCommit() (acct uuid.UUID, last user.Invited, lastID uuid.UUID) {
	h.t.Helper()
	acct = h.register("Contoso")
	for range mailer.ClaimsPerCommit {
		h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	}
	last, lastID = h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	h.start()
	return acct, last, lastID
}

// onlyResendOf checks that an invitation (its event invitedID) was
// skipped as superseded and its resend sent.
func (h *harness) onlyResendOf(invitedID, resentID uuid.UUID) {
	h.t.Helper()
	if got := h.outcome(invitedID); got != "skipped: superseded by user.invitation_resent@1" {
		h.t.Errorf("the first invitation: %q", got)
	}
	if got := h.outcome(resentID); got != "sent" {
		h.t.Errorf("the resend: %q", got)
	}
}
