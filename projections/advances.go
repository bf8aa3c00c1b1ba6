package projections

import "sync"

// Advances tells who waits for a consumer's checkpoint that a handler of
// this process has just finished a batch of it, so that a read waiting for
// a position (read-your-writes) looks again at once rather than at its
// next poll. Only this process's handlers signal: a read served by one
// instance while another leads the projector still polls.
type Advances struct {
	mu   sync.Mutex
	next map[string]chan struct{}
}

// Next is closed when a batch of the named consumer next finishes. Take it
// before reading the checkpoint, so that no advance falls between.
func (a *Advances) Next(name string) <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.next == nil {
		a.next = map[string]chan struct{}{}
	}
	ch, ok := a.next[name]
	if !ok {
		ch = make(chan struct{})
		a.next[name] = ch
	}
	return ch
}

// Signal wakes whoever waits for the named consumer (the engine calls it
// when a batch of it is done); with nobody waiting it costs a map lookup.
func (a *Advances) Signal(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ch, ok := a.next[name]; ok {
		close(ch)
		delete(a.next, name)
	}
}
