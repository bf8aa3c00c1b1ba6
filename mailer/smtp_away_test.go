package mailer_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/bizcenter/bizcenter/mailer"
)

// What no message can get past is ErrRelayAway, for the mailer to wait
// on: a relay that cannot be reached, or refuses the sender. A refusal
// of the recipient is the message's own (ErrPermanent), not the relay's.
func TestSMTPSender_tells_a_relay_away_from_a_refused_message(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	refusesSender := newRelay(t, nil, 0)
	refusesSender.mailReply = "421 4.3.2 service shutting down"
	goneBeforeData := newRelay(t, nil, 0)
	goneBeforeData.hangUpOnRcpt = true
	refusesRecipient := newRelay(t, nil, 0)
	refusesRecipient.rcptReply = "550 5.1.1 no such user"
	for _, c := range []struct {
		name, addr      string
		away, permanent bool
	}{
		{"nothing listens", closed, true, false},
		{"the sender refused", refusesSender.addr, true, false},
		// Nothing of the message went (mail soak: a relay that hung after
		// the sender, then dropped the connection, had the email of an
		// instance that lost its lead meanwhile recorded failed, never
		// sent, where it would have waited for the relay).
		{"the connection lost before the data", goneBeforeData.addr, true, false},
		{"the recipient refused", refusesRecipient.addr, false, true},
	} {
		s := &mailer.SMTPSender{Addr: c.addr, From: "bc@example.com"}
		err := s.Send(context.Background(), smtpMessage)
		s.Close()
		if errors.Is(err, mailer.ErrRelayAway) != c.away || errors.Is(err, mailer.ErrPermanent) != c.permanent {
			t.Errorf("%s: %v; want relay away %v, permanent %v", c.name, err, c.away, c.permanent)
		}
	}
}
