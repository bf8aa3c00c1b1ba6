package esdb

// These benchmarks measure the adapter and the official client over the
// in-process fake (esdbfake) on loopback gRPC: they say what the adapter
// and client cost, not what an EventStoreDB server sustains.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/eventstore"
)

// BenchmarkAppendOverFake: one-event appends from 8 goroutines, each to
// its own stream, measured over the in-process fake.
func BenchmarkAppendOverFake(b *testing.B) {
	s, n := fakeStore(b), newNames()
	const writers = 8
	ctx := context.Background()
	var left atomic.Int64
	left.Store(int64(b.N))
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := n.stream(fmt.Sprintf("w%d", w))
			for left.Add(-1) >= 0 {
				if _, err := s.Append(ctx, stream, eventstore.Any(), n.events(1, "bench")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
}

// BenchmarkCatchUpOverFake: a subscription from the start reads N
// pre-appended events, measured over the in-process fake.
func BenchmarkCatchUpOverFake(b *testing.B) {
	const total = 20_000
	s, n := fakeStore(b), newNames()
	stream := n.stream("catchup")
	for i := 0; i < total; i += 500 {
		mustAppend(b, s, stream, eventstore.Any(), n.events(500, "bench"))
	}
	var read time.Duration
	for b.Loop() {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		sub, err := s.Subscribe(ctx, eventstore.Start, n.filter())
		if err != nil {
			b.Fatal(err)
		}
		for got := 0; got < total; {
			m, err := sub.Recv()
			if err != nil {
				b.Fatal(err)
			}
			if m.Event != nil {
				got++
			}
		}
		read += time.Since(start)
		_ = sub.Close()
		cancel()
	}
	b.ReportMetric(float64(total*b.N)/read.Seconds(), "events/s")
}
