package mailer_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/mailer"
)

// hangInCommit is a relay that hangs, until release is closed, on send
// at (from 1) of the first commit that claimed at least least emails: a
// commit's sends all see its claims 'pending' (they are recorded after
// the last), so the first send to see that many is its commit's first.
type hangInCommit struct {
	h       *harness
	files   mailer.FileSender
	least   int
	at      int
	mu      sync.Mutex
	seen    int // sends of that commit so far
	claimed int // the hanging commit's claims, once sending is closed
	sending chan struct{}
	release chan struct{}
	// away: the hanging send, released, finds the relay away (a try cut
	// at sendTimeout), where it went out.
	away bool
}

func (s *hangInCommit) Send(ctx context.Context, m mailer.Message) error {
	n, err := s.h.count(ctx, "pending")
	if err != nil {
		return err
	}
	s.mu.Lock()
	if n >= s.least && s.claimed == 0 {
		s.seen++
	}
	hang := s.claimed == 0 && s.seen == s.at
	if hang {
		s.claimed = n
		close(s.sending)
	}
	s.mu.Unlock()
	if hang {
		<-s.release
		if s.away {
			return fmt.Errorf("smtp relay.example:25: %w: i/o timeout", mailer.ErrRelayAway)
		}
	}
	return s.files.Send(ctx, m)
}

// A relay that begins to hang in the middle of a commit holds one email
// in hand: once the send has taken a second, the emails claimed behind it
// are put back, and an instance that takes the lead while this one is
// stopped there (or killed) mails them. They stayed claimed and
// 'pending', and a kill -9 during the hang lost them, up to fifteen. The
// emails of the commit sent before the hang are recorded sent meanwhile:
// they read 'pending' after such a kill, as if lost.
func TestConsumer_puts_back_the_emails_behind_a_send_that_hangs(t *testing.T) {
	h := newHarness(t)
	const n = 3 * mailer.ClaimsPerCommit
	s := h.putBackBehindAHang(n, 2, false)
	h.handOverDuringTheHang(s, n)
	if sent := h.outcomes("sent"); sent != n {
		t.Errorf("%d emails recorded sent, want %d", sent, n)
	}
}

// heldAfterSend is a relay that takes the first email, and then holds
// that send until hold is closed: the email has gone out, and its outcome
// is not recorded yet.
type heldAfterSend struct {
	files mailer.FileSender
	once  sync.Once
	sent  chan struct{}
	hold  chan struct{}
}

func (s *heldAfterSend) Send(ctx context.Context, m mailer.Message) error {
	err := s.files.Send(ctx, m)
	first := false
	s.once.Do(func() { first = true; close(s.sent) })
	if first {
		<-s.hold
	}
	return err
}

// The emails put back behind a slow send are no longer this instance's:
// the instance that leads meanwhile claims them again. When the slow send
// then ends with the relay away, its put-back is of its own email only.
// It put back the emails behind again: one the other instance had claimed
// and mailed, and not yet recorded, read "waiting for the relay", and the
// next lead (the other instance killed, or stopped) mailed it again.
func TestConsumer_does_not_put_back_again_the_emails_behind_a_slow_send_that_ends_away(t *testing.T) {
	h := newHarness(t)
	const n = 3 * mailer.ClaimsPerCommit
	s := h.putBackBehindAHang(n, 1, true)

	other := newHarnessOn(t, h.pool)
	held := &heldAfterSend{files: mailer.FileSender{Dir: other.dir}, sent: make(chan struct{}), hold: make(chan struct{})}
	other.sender = held
	other.start()
	stopped := make(chan struct{})
	go func() { h.stopEngine(); close(stopped) }() // gives up the lead at once
	sendBegun(t, held.sent)                        // the other instance mailed the first email put back
	close(s.release)                               // the slow send ends: the relay is away
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the first instance did not stop")
	}
	if got := h.outcomes("pending"); got != 1 {
		t.Errorf("%d emails pending once the slow send ended away, want 1: the other instance's, mailed and not yet recorded", got)
	}

	// The other instance loses its lead before it records its email (a
	// stop; a kill -9 would leave it so for good); a third one leads.
	third := newHarnessOn(t, h.pool)
	third.start()
	otherStopped := make(chan struct{})
	go func() { other.stopEngine(); close(otherStopped) }()
	total := func() int { return len(h.files()) + len(other.files()) + len(third.files()) }
	eventually(t, "every invitation mailed", func() bool { return total() >= n })
	time.Sleep(500 * time.Millisecond) // a mail more, if any, goes out
	close(held.hold)
	select {
	case <-otherStopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the other instance did not stop")
	}
	third.settle()
	if got := total(); got != n {
		t.Errorf("%d mail files, want %d: an email mailed twice", got, n)
	}
	if sent := h.outcomes("sent"); sent != n {
		t.Errorf("%d emails recorded sent, want %d", sent, n)
	}
}

// putBackBehindAHang invites n people, starts the mailer with a relay
// that hangs on send at (from 1) of its first commit of four or more
// emails (the window grows 1, 2, 4 …), and waits until the emails behind
// that send are put back and the ones before it recorded: one is left
// 'pending', the one in hand. Released, the send goes out, or with away
// finds the relay away.
func (h *harness) putBackBehindAHang(n, at int, away bool) *hangInCommit {
	h.t.Helper()
	acct := h.register("Contoso")
	for range n {
		h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	}
	s := &hangInCommit{h: h, files: mailer.FileSender{Dir: h.dir}, least: 4, at: at, away: away, sending: make(chan struct{}), release: make(chan struct{})}
	h.sender = s
	h.start() // the mailer finds the invitations in its first batches
	sendBegun(h.t, s.sending)
	s.mu.Lock()
	behind := s.claimed - at
	s.mu.Unlock()
	eventually(h.t, "the emails behind the hanging send put back", func() bool {
		return h.outcomes("waiting for the relay") == behind && h.outcomes("pending") == 1
	})
	return s
}

// handOverDuringTheHang stops h while its send hangs (its lead goes at
// once) and has another instance, its relay answering, take the lead and
// mail every email h neither sent nor holds; then the hang ends and h's
// email in hand goes out. Each of the n emails is mailed once in all.
func (h *harness) handOverDuringTheHang(s *hangInCommit, n int) {
	h.t.Helper()
	before := len(h.files())
	other := newHarnessOn(h.t, h.pool)
	other.start()
	stopped := make(chan struct{})
	go func() { h.stopEngine(); close(stopped) }()
	eventually(h.t, "the other instance to mail the emails put back and the rest", func() bool {
		return len(other.files()) == n-before-1
	})
	close(s.release)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		h.t.Fatal("the first instance did not stop")
	}
	other.settle()
	if got := len(h.files()) + len(other.files()); got != n {
		h.t.Errorf("%d mail files, want %d: some mailed twice, or not at all", got, n)
	}
}

// The emails of one event to several people are put back the same way
// when the first hangs: the event is decided again after it, and each of
// the others is mailed once, the one that hung not again.
func TestConsumer_puts_back_the_rest_of_an_events_emails_behind_a_send_that_hangs(t *testing.T) {
	h := newHarness(t)
	s := stall(h, 1, nil)
	acct := h.register("Contoso")
	grantee := h.registerPartner("Adatum Reseller")
	var admins []string
	for _, who := range []string{"ji", "min", "soo", "hana"} {
		admins = append(admins, h.addPartnerUser(grantee, who+"@adatum.example", partner.GlobalAdmin).Email)
	}
	source := h.registerPartner("Northwind Partners")
	grantID := h.grant(acct, grantee, source)
	h.start()
	sendBegun(t, s.sending)
	eventually(t, "the emails behind the hanging send put back", func() bool {
		return strings.Contains(h.log.String(), "the emails behind it are put back") && h.outcomes("pending") == 1
	})
	close(s.release)
	var to []string
	for _, f := range h.mails(len(admins)) {
		addr, _, _ := readMail(t, f)
		to = append(to, addr)
	}
	slices.Sort(to)
	slices.Sort(admins)
	if !slices.Equal(to, admins) {
		t.Errorf("mailed %v, want each of %v once", to, admins)
	}
	if got, want := h.outcome(grantID), fmt.Sprintf("one email a recipient: %d", len(admins)); got != want {
		t.Errorf("the grant's row: %q, want %q", got, want)
	}
	if sent := h.outcomes("sent"); sent != len(admins) {
		t.Errorf("%d emails recorded sent, want %d", sent, len(admins))
	}
}
