package mailer

import (
	"sync"
	"time"
)

// window is how many emails the mailer's next transaction claims. A kill
// between a commit and its sends loses the emails claimed and not yet
// sent, so the number is kept small while sends are slow: it starts at
// one, doubles after each commit whose sends were all quick, up to
// ClaimsPerCommit, and goes back to one after a slow send, the relay
// away, or a pause. A new leader that takes over while the relay hangs
// (up to sendTimeout a try) then holds one email in hand, not a whole
// commit's: a soak lost blocks of sixteen that way, each to a kill -9 of
// such a leader.
type window struct {
	mu sync.Mutex
	n  int
	// last is when the last commit's sends ended. After windowIdle
	// without any, the relay's state is unknown again (an instance that
	// had the lead long ago, say), and the window starts over.
	last time.Time
}

const (
	// slowSend marks a send as slow: a relay answers a message in
	// milliseconds, and one that takes seconds may be hanging.
	slowSend = time.Second
	// windowIdle is how long the window keeps its size without a send.
	windowIdle = 10 * time.Second
)

// size is how many emails the next transaction may claim at now.
func (w *window) size(now time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 || now.Sub(w.last) > windowIdle {
		return 1
	}
	return w.n
}

// sent records a commit's sends, ended at now: the commit claimed up to
// size emails, and slow is that one of its sends took slowSend or longer,
// or the relay was away. The commit's own length is no idleness: sixteen
// quick sends may take longer than windowIdle.
func (w *window) sent(now time.Time, size int, slow bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 1
	if !slow {
		n = min(2*size, ClaimsPerCommit)
	}
	w.n, w.last = n, now
}
