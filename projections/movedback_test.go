package projections

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/logbuf"
)

// A consumer that finds its checkpoint moved back before its batch (a
// put-back by another instance) fails the batch so that the feed follows
// again, which the feed logs. That is no fault: the batch comes again, and
// nothing is logged at ERROR. Returned as the handler's error, it was,
// once a failover in a soak of two instances.
func TestEngine_does_not_log_a_checkpoint_moved_back_as_an_error(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	out := &logbuf.Buffer{}
	engine := testEngineLogging(t, store, pool, 10*time.Millisecond, out)
	var deliveries atomic.Int32
	again := make(chan struct{})
	engine.AddConsumer("putter", func(*message.Message) error {
		if deliveries.Add(1) == 1 {
			return fmt.Errorf("putter: %w: %s, the batch read from %s", ErrMovedBack, eventstore.Start, eventstore.Start)
		}
		close(again)
		return nil
	})
	runAndProbe(ctx, t, engine, store)
	select {
	case <-again:
	case <-time.After(10 * time.Second):
		t.Fatalf("the batch failed as moved back was not delivered again (%d deliveries)", deliveries.Load())
	}
	if logged := out.String(); strings.Contains(logged, "level=ERROR") {
		t.Errorf("a checkpoint moved back was logged as an error:\n%s", logged)
	}
}
