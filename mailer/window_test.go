package mailer_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/mailer"
)

// claimsAtSends makes h's sender write its mail to files, and note before
// each send how many emails were claimed, committed and not yet recorded
// sent: what a kill then would lose. The send numbered slow (from 1) takes
// mailer.SlowSend and a little more.
func claimsAtSends(h *harness, slow int) func() []int {
	files := mailer.FileSender{Dir: h.dir}
	var mu sync.Mutex
	var unsent []int
	h.sender = mailer.SenderFunc(func(ctx context.Context, m mailer.Message) error {
		n, err := h.count(ctx, "pending")
		if err != nil {
			return err
		}
		mu.Lock()
		unsent = append(unsent, n)
		this := len(unsent)
		mu.Unlock()
		if this == slow {
			time.Sleep(mailer.SlowSend + 100*time.Millisecond)
		}
		return files.Send(ctx, m)
	})
	return func() []int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(unsent)
	}
}

// A kill between a commit and its sends loses the emails the commit
// claimed and had not sent: catching up, one batch holds hundreds of
// invitations, and the mailer must not claim them all at once. Once its
// sends have been quick, it claims ClaimsPerCommit a commit, not fewer.
func TestConsumer_claims_a_few_emails_a_commit_however_long_the_batch(t *testing.T) {
	h := newHarness(t)
	accountID := h.register("Fabrikam")
	const n = 3*mailer.ClaimsPerCommit + 5
	for range n {
		h.invite(accountID, "en", epoch.Add(time.Hour))
	}
	unsent := claimsAtSends(h, 0)
	h.start() // the mailer finds every invitation in its first batch
	h.mails(n)
	if got := slices.Max(unsent()); got != mailer.ClaimsPerCommit {
		t.Errorf("up to %d emails were claimed and unsent at once, want %d", got, mailer.ClaimsPerCommit)
	}
	if sent := h.outcomes("sent"); sent != n {
		t.Errorf("%d emails recorded sent, want %d", sent, n)
	}
}

// A mailer that has just taken the lead does not know whether the relay
// hangs, where a send may wait 30 s a try: it claims one email, then two,
// doubling while sends are quick. After a slow send it claims one again.
// It claimed ClaimsPerCommit at once, and a soak lost blocks of sixteen
// invitations, each to a kill -9 of a leader that had just taken over
// while the relay hung.
func TestConsumer_claims_one_email_a_commit_at_first_and_after_a_slow_send(t *testing.T) {
	h := newHarness(t)
	accountID := h.register("Fabrikam")
	const n = 3 * mailer.ClaimsPerCommit
	for range n {
		h.invite(accountID, "en", epoch.Add(time.Hour))
	}
	unsent := claimsAtSends(h, 3)
	h.start() // the mailer finds every invitation in its first batch
	h.mails(n)
	// Commits of 1 and 2 emails, the second's first send slow (the third
	// send), then 1, 2, 4, 8 and 16.
	got := unsent()
	want := []int{1, 2, 2, 1, 2, 2, 4}
	if len(got) != n || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("emails claimed and unsent at each send: %v, want it to begin %v", got, want)
	}
	if most := slices.Max(got); most != mailer.ClaimsPerCommit {
		t.Errorf("up to %d emails were claimed and unsent at once, want %d", most, mailer.ClaimsPerCommit)
	}
}
