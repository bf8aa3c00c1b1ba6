package mailer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/mailer"
)

// silentRelay accepts a connection and never greets: a send waits until
// its context ends, then fails as a dial cut short does.
type silentRelay struct{ sending chan struct{} }

func (s silentRelay) Send(ctx context.Context, m mailer.Message) error {
	select {
	case s.sending <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return fmt.Errorf("smtp relay.example:25: %w: %w", mailer.ErrRelayAway, ctx.Err())
}

// A process that stops while the relay does not answer puts the email
// back, within its shutdown's bound: the send is cut StopGrace after the
// stop begins. It ran on for its 30 s, past the bound, and the pool was
// closed under the put-back: the email stayed claimed ("pending") and
// was never sent.
func TestConsumer_puts_back_an_email_under_way_when_the_process_stops(t *testing.T) {
	h := newHarness(t)
	relay := silentRelay{sending: make(chan struct{}, 1)}
	h.sender = relay
	h.stopping = make(chan struct{})
	h.start()
	acct := h.register("Contoso")
	_, invitedID := h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	sendBegun(t, relay.sending)
	h.stopPuttingBack(invitedID)
}

// A relay that goes quiet on the connection kept from the last message
// is away as one that does not greet is: an email whose try on that
// connection the stop cuts, before the relay took its sender, is put
// back too. No fresh connection is tried once the process stops, and it
// was recorded "failed: … context canceled (no message started: mail
// from: …)", never sent.
func TestConsumer_puts_back_an_email_whose_kept_connection_goes_quiet_when_the_process_stops(t *testing.T) {
	h := newHarness(t)
	relay := newRelay(t, nil, 0)
	sender := &mailer.SMTPSender{Addr: relay.addr, From: "bc@example.com"}
	t.Cleanup(func() { sender.Close() })
	h.sender = sender
	h.stopping = make(chan struct{})
	h.start()
	acct := h.register("Contoso")
	h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	await(t, relay.got) // its connection is kept for the next message
	relay.stalling = make(chan struct{}, 1)
	relay.stallOnMail.Store(true)
	_, invitedID := h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	select {
	case <-relay.stalling:
	case <-time.After(15 * time.Second):
		t.Fatal("the second invitation was never sent")
	}
	if n := relay.conns.Load(); n != 1 {
		t.Fatalf("%d connections, want the second invitation on the kept one", n)
	}
	h.stopPuttingBack(invitedID)
}

// stopPuttingBack stops the process, the mailer within 10 s of it, and
// checks that the invitation (its event invitedID) under way was put back.
func (h *harness) stopPuttingBack(invitedID uuid.UUID) {
	h.t.Helper()
	close(h.stopping)
	stopped := make(chan struct{})
	go func() { h.stopEngine(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		h.t.Fatal("the mailer did not stop within 10s of the stop")
	}
	if got := h.outcome(invitedID); got != "waiting for the relay" {
		h.t.Fatalf("the invitation under way at the stop: %q, want it put back", got)
	}
}
