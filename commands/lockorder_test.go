package commands_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// TestMain fails the run when any command took its locks out of order
// (see checkedSerial), whichever test it was.
func TestMain(m *testing.M) {
	code := m.Run()
	lockOrder.mu.Lock()
	for _, v := range lockOrder.violations {
		fmt.Println("lock order:", v)
		code = 1
	}
	lockOrder.mu.Unlock()
	os.Exit(code)
}

var lockOrder struct {
	mu         sync.Mutex
	violations []string
}

type heldLocks struct{}

// checkedSerial is memSerial checking commands.Deps's lock order: the
// account's turn first and the partner's inside it, never a turn held
// already (a second share of a partner's turn would wait behind a change
// waiting for the first), never two of one kind. A turn taken twice runs
// without its second take, so that the run reports it rather than hangs.
type checkedSerial struct {
	kind  string // "account" or "partner"
	inner *memSerial
}

func checked(kind string) *checkedSerial { return &checkedSerial{kind: kind, inner: &memSerial{}} }

func (s *checkedSerial) take(ctx context.Context, id uuid.UUID, mode string) (context.Context, bool) {
	held, _ := ctx.Value(heldLocks{}).([]string)
	me, twice := s.kind+":"+id.String(), false
	for _, h := range held {
		var why string
		switch {
		case strings.HasPrefix(h, me+" "):
			why, twice = "taken twice", true
		case strings.HasPrefix(h, s.kind+":"):
			why = "two of a kind"
		case s.kind == "account":
			why = "an account's inside a partner's"
		}
		if why != "" {
			lockOrder.mu.Lock()
			lockOrder.violations = append(lockOrder.violations, fmt.Sprintf("%s: %s %s holding %v", why, me, mode, held))
			lockOrder.mu.Unlock()
		}
	}
	return context.WithValue(ctx, heldLocks{}, append(held[:len(held):len(held)], me+" "+mode)), twice
}

func (s *checkedSerial) Serialize(ctx context.Context, id uuid.UUID, f func(context.Context) error) error {
	ctx, twice := s.take(ctx, id, "alone")
	if twice {
		return f(ctx)
	}
	return s.inner.Serialize(ctx, id, f)
}

func (s *checkedSerial) Share(ctx context.Context, id uuid.UUID, f func(context.Context) error) error {
	ctx, twice := s.take(ctx, id, "shared")
	if twice {
		return f(ctx)
	}
	return s.inner.Share(ctx, id, f)
}
