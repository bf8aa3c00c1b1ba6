package service

import (
	"context"
	"sync"

	"github.com/google/uuid"
)

// turns lets one caller at a time through for each key, in this process,
// and lets a waiter give up with its context. Waiting here costs nothing
// but a goroutine, where waiting for an advisory lock holds a connection.
type turns struct {
	mu   sync.Mutex
	keys map[uuid.UUID]*turn
}

type turn struct {
	baton   chan struct{} // holds a value while someone has the turn
	waiting int           // callers holding or waiting for it
}

// take waits for key's turn; done hands it on.
func (t *turns) take(ctx context.Context, key uuid.UUID) (done func(), err error) {
	t.mu.Lock()
	if t.keys == nil {
		t.keys = map[uuid.UUID]*turn{}
	}
	k := t.keys[key]
	if k == nil {
		k = &turn{baton: make(chan struct{}, 1)}
		t.keys[key] = k
	}
	k.waiting++
	t.mu.Unlock()
	select {
	case k.baton <- struct{}{}:
		return func() { <-k.baton; t.leave(key, k) }, nil
	case <-ctx.Done():
		t.leave(key, k)
		return nil, ctx.Err()
	}
}

func (t *turns) leave(key uuid.UUID, k *turn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if k.waiting--; k.waiting == 0 {
		delete(t.keys, key)
	}
}

// memorySerial is a commands.Serial of turns in this process alone.
type memorySerial struct{ turns *turns }

func (m memorySerial) Serialize(ctx context.Context, id uuid.UUID, f func(context.Context) error) error {
	done, err := m.turns.take(ctx, id)
	if err != nil {
		return err
	}
	defer done()
	return f(ctx)
}
