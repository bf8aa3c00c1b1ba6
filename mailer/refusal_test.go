package mailer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/mailer"
)

// A relay's permanent refusal (5xx) of a recipient fails the email at
// once: another try gets the same answer, and holds up the mail after it
// for nothing. A temporary one (4xx) is tried again, three times in all.
// Both were tried three times.
func TestConsumer_fails_a_refused_email_at_once_and_tries_a_deferred_one_again(t *testing.T) {
	for _, c := range []struct {
		reply string
		tries int32
	}{
		{"550 5.1.1 <minji@example.kr>: Recipient address rejected", 1},
		{"451 4.3.0 try again later", 3},
	} {
		t.Run(c.reply[:3], func(t *testing.T) {
			h := newHarness(t)
			relay := newRelay(t, nil, 0)
			relay.rcptReply = c.reply
			smtp := &mailer.SMTPSender{Addr: relay.addr, From: "bc@example.com"}
			defer smtp.Close()
			h.sender = smtp
			h.start()
			_, eventID := h.invite(h.register("Fabrikam"), "en", epoch.Add(time.Hour))
			h.settle()
			if n := relay.rcpts.Load(); n != c.tries {
				t.Errorf("%d tries, want %d", n, c.tries)
			}
			if got := h.outcome(eventID); !strings.HasPrefix(got, "failed: ") || !strings.Contains(got, c.reply[:3]) {
				t.Errorf("outcome %q", got)
			}
		})
	}
}

// An invitation to an address in Korean, through a relay without
// SMTPUTF8, is recorded failed after one try, and says why. It went out
// raw, and was recorded sent.
func TestConsumer_fails_a_non_ASCII_address_at_once_when_the_relay_cannot_take_it(t *testing.T) {
	h := newHarness(t)
	relay := newRelay(t, nil, 0)
	smtp := &mailer.SMTPSender{Addr: relay.addr, From: "bc@example.com"}
	defer smtp.Close()
	h.sender = smtp
	h.start()
	inv := uuid.New()
	eventID, _ := h.append(user.Stream(uuid.New()), user.Invited{
		UserID: uuid.New(), AccountID: h.register("Fabrikam"), Email: "김지우@example.kr", FirstName: "지우", LastName: "김",
		Language: "ko", Roles: []user.Role{user.AccountAdministrator},
		InvitationID: inv, TokenHash: user.HashSecret(user.InvitationSecret(tokenKey, inv)),
		InvitedBy: "system", SentAt: epoch, ExpiresAt: epoch.Add(time.Hour),
	})
	h.settle()
	if got := h.outcome(eventID); !strings.HasPrefix(got, "failed: ") || !strings.Contains(got, "SMTPUTF8") {
		t.Errorf("outcome %q, want failed naming SMTPUTF8", got)
	}
	if n := relay.conns.Load(); n != 1 || relay.rcpts.Load() != 0 {
		t.Errorf("%d connections, %d recipients given; want 1 and none", n, relay.rcpts.Load())
	}
}
