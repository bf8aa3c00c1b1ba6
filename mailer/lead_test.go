package mailer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/projections"
)

// leaseCutSender is a relay that takes its time: while its first send is
// under way, the instance loses its lead on the mailer (the session
// holding the lock is ended), and the send is cut short if its context
// ends, as a real relay's dial or write would be.
type leaseCutSender struct {
	files   mailer.FileSender
	sending chan struct{}
	once    sync.Once
}

func (s *leaseCutSender) Send(ctx context.Context, m mailer.Message) error {
	s.once.Do(func() { close(s.sending) })
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(3 * projections.LeaseRetry):
	}
	return s.files.Send(ctx, m)
}

// An email claimed and committed is this instance's to send, lead or no
// lead: no other instance will send it (its claim is in mail_sent). One
// whose send the lost lead cut short was recorded failed and never sent,
// though the process lived on: an invitation lost to a failover.
func TestConsumer_sends_what_it_claimed_when_it_loses_the_lead_meanwhile(t *testing.T) {
	h := newHarness(t)
	s := &leaseCutSender{files: mailer.FileSender{Dir: h.dir}, sending: make(chan struct{})}
	h.sender = s
	h.start()
	acct := h.register("Contoso")
	_, invitedID := h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	sendBegun(t, s.sending)
	h.endLeads() // a network cut, pg_terminate_backend
	eventually(t, "the invitation's outcome", func() bool { o := h.outcome(invitedID); return o != "" && o != "pending" })
	if o := h.outcome(invitedID); o != "sent" || len(h.files()) != 1 {
		t.Fatalf("outcome %q with %d mail files, want sent and 1: a claimed email was dropped when the lead was lost", o, len(h.files()))
	}
}

// heldAwaySender is a relay that cannot be reached and takes its time
// to say so: its first send is held until release is closed, then fails
// as a relay away does. Once back is set, it sends.
type heldAwaySender struct {
	files   mailer.FileSender
	sending chan struct{}
	once    sync.Once
	release chan struct{}
	back    atomic.Bool
}

func (s *heldAwaySender) Send(ctx context.Context, m mailer.Message) error {
	if s.back.Load() {
		return s.files.Send(ctx, m)
	}
	s.once.Do(func() { close(s.sending) })
	<-s.release
	return fmt.Errorf("smtp relay.example:25: %w: dial tcp: i/o timeout", mailer.ErrRelayAway)
}

// An email put back for the relay after the lead was lost, and taken
// again by a feed that already follows from the checkpoint it had
// committed, is still mailed: the new lead follows again from where the
// put-back moved the checkpoint. The checkpoint had not moved meanwhile,
// so the put-back moved it back, and the new lead, reading past it,
// committed its next batch over it: the invitation was left "waiting for
// the relay" for good, and never mailed.
func TestConsumer_mails_what_it_put_back_after_the_lead_was_taken_again(t *testing.T) {
	h := newHarness(t)
	s, acct, firstID := h.leadTakenAgainWhileSending()
	close(s.release)
	eventually(t, "the invitation put back", func() bool { return h.outcome(firstID) == "waiting for the relay" })
	s.back.Store(true)
	_, secondID := h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	eventually(t, "the second invitation mailed", func() bool { return h.outcome(secondID) == "sent" })
	h.settle()
	if got := h.outcome(firstID); got != "sent" {
		t.Fatalf("the invitation put back: %q, want sent", got)
	}
	if n := len(h.files()); n != 2 {
		t.Fatalf("%d mail files, want 2", n)
	}
}

// The same with nothing appended after the invitation: the new lead's
// feed, idle past it, finds the checkpoint moved back and follows again
// from there. It learned of the move only from its next batch, so the
// invitation waited for the relay until some other event was appended,
// however long the log stayed quiet: a mail cut at a shutdown (the lead
// goes as the shutdown begins, the put-back comes 5 s later) was the
// next instance's to send only once something else happened.
func TestConsumer_mails_what_it_put_back_after_the_lead_was_taken_again_with_nothing_after(t *testing.T) {
	h := newHarness(t)
	s, _, invitedID := h.leadTakenAgainWhileSending()
	s.back.Store(true)
	close(s.release)
	eventually(t, "the invitation put back and mailed, with no event after it", func() bool { return h.outcome(invitedID) == "sent" })
	if n := len(h.files()); n != 1 {
		t.Fatalf("%d mail files, want 1", n)
	}
}

// leadTakenAgainWhileSending invites one person through a relay that
// holds the send, and ends the lead's session while it is under way: the
// feed takes the lead again and follows from the checkpoint, past the
// invitation, before the relay answers (once s.release is closed).
func (h *harness) leadTakenAgainWhileSending() (s *heldAwaySender, acct, invitedID uuid.UUID) {
	h.t.Helper()
	s = &heldAwaySender{files: mailer.FileSender{Dir: h.dir}, sending: make(chan struct{}), release: make(chan struct{})}
	h.sender = s
	h.start()
	acct = h.register("Contoso")
	_, invitedID = h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	sendBegun(h.t, s.sending)
	h.endLeads()
	eventually(h.t, "the lead taken again", func() bool { return strings.Count(h.log.String(), "leading feed topic") >= 2 })
	time.Sleep(200 * time.Millisecond) // its feed reads the checkpoint
	return s, acct, invitedID
}

// sendBegun waits until a sender says a send has begun.
func sendBegun(t *testing.T, sending <-chan struct{}) {
	t.Helper()
	select {
	case <-sending:
	case <-time.After(15 * time.Second):
		t.Fatal("the invitation was never sent")
	}
}

// endLeads ends the sessions holding the feed's leases, as a network cut
// does: the engine takes its leads again on new sessions.
func (h *harness) endLeads() {
	h.t.Helper()
	if _, err := h.pool.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_locks
		 WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()
		   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		h.t.Fatal(err)
	}
}

// An instance that stops while the relay does not answer gives up its
// lead at once, and another takes it and moves the checkpoint on before
// the stopping one's try is cut: the emails that one claimed are put back
// all the same, and the new lead mails them. Put back only where the
// checkpoint had not moved, they were recorded failed ("the checkpoint
// moved meanwhile"), never sent: sixteen invitations to one SIGTERM in a
// soak of two instances.
func TestConsumer_puts_back_its_emails_when_another_instance_moved_the_checkpoint_meanwhile(t *testing.T) {
	h := newHarness(t)
	s := &heldAwaySender{files: mailer.FileSender{Dir: h.dir}, sending: make(chan struct{}), release: make(chan struct{})}
	h.sender = s
	h.start()
	acct := h.register("Contoso")
	_, invitedID := h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	sendBegun(t, s.sending)
	other := newHarnessOn(t, h.pool) // a second instance, its relay up
	other.start()
	stopped := make(chan struct{})
	go func() { h.stopEngine(); close(stopped) }() // the stop gives up the lead at once
	_, pos := other.append("test-marker-"+uuid.NewString(), account.Registered{AccountID: uuid.New(), Name: "marker"})
	eventually(t, "the other instance to lead and move the checkpoint on", func() bool {
		cp, err := projections.LoadCheckpoint(context.Background(), h.pool, mailer.Name)
		return err == nil && !cp.Less(pos)
	})
	close(s.release) // the stopping instance's try ends: the relay is away
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the first instance did not stop")
	}
	if got := h.outcome(invitedID); got != "waiting for the relay" {
		t.Fatalf("the invitation under way at the stop: %q, want it put back", got)
	}
	other.settle()
	if got := h.outcome(invitedID); got != "sent" || len(other.files()) != 1 {
		t.Fatalf("the invitation put back: %q with %d mail files, want sent by the other instance", got, len(other.files()))
	}
}
