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

// hangInCommit is a relay that hangs, until release is closed, on the
// first send of the first commit that claimed at least least emails: a
// commit's sends all see its claims 'pending', so the first send to see
// that many is its commit's first.
type hangInCommit struct {
	h       *harness
	files   mailer.FileSender
	least   int
	mu      sync.Mutex
	claimed int // the hanging commit's claims, once sending is closed
	sending chan struct{}
	release chan struct{}
}

func (s *hangInCommit) Send(ctx context.Context, m mailer.Message) error {
	var n int
	if err := s.h.pool.QueryRow(ctx, `SELECT count(*) FROM mail_sent WHERE outcome = 'pending'`).Scan(&n); err != nil {
		return err
	}
	s.mu.Lock()
	hang := n >= s.least && s.claimed == 0
	if hang {
		s.claimed = n
		close(s.sending)
	}
	s.mu.Unlock()
	if hang {
		<-s.release
	}
	return s.files.Send(ctx, m)
}

// A relay that begins to hang in the middle of a commit holds one email
// in hand: once the send has taken a second, the emails claimed behind it
// are put back, and an instance that takes the lead while this one is
// stopped there (or killed) mails them. They stayed claimed and
// 'pending', and a kill -9 during the hang lost them, up to fifteen.
func TestConsumer_puts_back_the_emails_behind_a_send_that_hangs(t *testing.T) {
	h := newHarness(t)
	acct := h.register("Contoso")
	const n = 3 * mailer.ClaimsPerCommit
	for range n {
		h.invite(acct, "en", epoch.Add(user.InvitationValidity))
	}
	// The window grows 1, 2, 4 …: a commit of four or more comes.
	s := &hangInCommit{h: h, files: mailer.FileSender{Dir: h.dir}, least: 4, sending: make(chan struct{}), release: make(chan struct{})}
	h.sender = s
	h.start() // the mailer finds the invitations in its first batches
	sendBegun(t, s.sending)
	s.mu.Lock()
	before, behind := len(h.files()), s.claimed-1
	s.mu.Unlock()
	eventually(t, "the emails behind the hanging send put back", func() bool {
		return h.outcomes("waiting for the relay") == behind && h.outcomes("pending") == 1
	})

	other := newHarnessOn(t, h.pool) // its relay answers
	other.start()
	stopped := make(chan struct{})
	go func() { h.stopEngine(); close(stopped) }() // gives up the lead at once
	eventually(t, "the other instance to mail those and the rest", func() bool {
		return len(other.files()) == n-before-1
	})
	close(s.release)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the first instance did not stop")
	}
	other.settle()
	if got := len(h.files()) + len(other.files()); got != n {
		t.Errorf("%d mail files, want %d", got, n)
	}
	if sent := h.outcomes("sent"); sent != n {
		t.Errorf("%d emails recorded sent, want %d", sent, n)
	}
}

// outcomes counts the emails of mail_sent with the outcome.
func (h *harness) outcomes(outcome string) int {
	h.t.Helper()
	var n int
	if err := h.pool.QueryRow(context.Background(), `SELECT count(*) FROM mail_sent WHERE outcome = $1`, outcome).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
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
