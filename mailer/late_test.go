package mailer_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/user"
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
