package projections

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// Writes planned ahead are handed out once, and only to a handler whose
// checkpoint leaves every record of the batch to apply.
func TestBatch_writes_planned_ahead_go_once_and_only_where_they_fit(t *testing.T) {
	at := func(n uint64) eventstore.Position { return eventstore.Position{Commit: n, Prepare: n} }
	planned := &writes{}
	b := Batch{Records: []Record{{Position: at(11)}, {Position: at(12)}}, Through: at(12), ahead: &aheadWrites{from: at(10), w: planned}}
	if w := b.takeAhead(at(11)); w != nil {
		t.Fatal("writes planned from 10 handed to a handler at 11, which has the first record already")
	}
	if w := b.takeAhead(at(10)); w != planned {
		t.Fatalf("a handler at 10 got %p, want the planned writes %p", w, planned)
	}
	if w := b.takeAhead(at(10)); w != nil {
		t.Fatal("the planned writes were handed out twice")
	}
	if w := (Batch{Records: b.Records, Through: b.Through}).takeAhead(at(9)); w != nil {
		t.Fatal("a batch without planned writes handed some out")
	}
}

// Catching up, the feed takes and plans each batch while the handler
// still applies the one before it; live, it waits for the handler, so
// that what comes meanwhile goes in the next batch together.
func TestFeed_plans_the_next_batch_while_a_catch_up_batch_is_applied(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	var appended []eventstore.Position
	for i := range 10 {
		events := make([]eventstore.EventData, 25)
		for j := range events {
			events[j] = eventstore.EventData{ID: uuid.New(), Type: "probe.happened", Data: []byte(`{}`), Metadata: []byte(`{}`)}
		}
		res, err := store.Append(ctx, fmt.Sprintf("probe-%d", i), eventstore.NoStream(), events)
		if err != nil {
			t.Fatal(err)
		}
		appended = append(appended, res.Position)
	}
	f := NewFeed(store, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.BatchSize = 20
	type plan struct{ from, first eventstore.Position }
	plans := make(chan plan, 100)
	f.Serve("probes", Topic{plan: func(records []Record, from eventstore.Position) *writes {
		plans <- plan{from, records[0].Position}
		return &writes{}
	}})
	msgs, err := f.Subscribe(ctx, "probes")
	if err != nil {
		t.Fatal(err)
	}

	next := func() Batch {
		t.Helper()
		select {
		case m := <-msgs:
			b, err := DecodeBatch(m)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond) // a handler at work
			m.Ack()
			return b
		case <-time.After(10 * time.Second):
			t.Fatal("no batch came")
			return Batch{}
		}
	}
	var prev Batch
	seen := 0
	for seen < 250 {
		b := next()
		for _, r := range b.Records {
			seen++
			if !prev.Through.Less(r.Position) {
				t.Fatalf("event at %s after a batch through %s", r.Position, prev.Through)
			}
		}
		switch whole := len(prev.Records) == f.BatchSize; {
		case whole && b.ahead == nil:
			t.Fatalf("the batch after a whole batch through %s was not planned ahead", prev.Through)
		case whole:
			if p := <-plans; p.from != prev.Through || p.first != b.Records[0].Position {
				t.Fatalf("planned from %s with a first record at %s, want from %s at %s", p.from, p.first, prev.Through, b.Records[0].Position)
			}
		case b.ahead != nil:
			t.Fatalf("the batch after one of %d events was planned ahead", len(prev.Records))
		}
		prev = b
	}
	if seen != 250 || prev.Through != appended[len(appended)-1] {
		t.Fatalf("%d events through %s, want 250 through %s", seen, prev.Through, appended[len(appended)-1])
	}

	// Live: one event at a time, after a batch that was not whole.
	if _, err := store.Append(ctx, "probe-live", eventstore.NoStream(), []eventstore.EventData{{ID: uuid.New(), Type: "probe.happened", Data: []byte(`{}`), Metadata: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if b := next(); len(b.Records) != 1 || b.ahead != nil {
		t.Fatalf("live: %d events, planned ahead %v; want 1, not planned", len(b.Records), b.ahead != nil)
	}
	select {
	case p := <-plans:
		t.Fatalf("a plan from %s was made that no batch carried", p.from)
	default:
	}
}

// A users build caught up through the engine, batches planned ahead, is
// what a rebuild makes, and each event was planned once: the handler used
// what the feed planned rather than plan again.
func TestEngine_a_catch_up_planned_ahead_builds_what_a_rebuild_builds(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	var last eventstore.Position
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var resends []user.InvitationResent
	for i := range 150 {
		e := user.Invited{UserID: uuid.New(), AccountID: uuid.New(), Email: fmt.Sprintf("u%03d@example.com", i), Roles: []user.Role{user.AccountViewer},
			InvitationID: uuid.New(), SentAt: at, ExpiresAt: at.Add(96 * time.Hour)}
		last = invite(ctx, t, store, e)
		if i%3 == 0 { // a second event of the user, later in the log
			resends = append(resends, user.InvitationResent{UserID: e.UserID, AccountID: e.AccountID, InvitationID: uuid.New(), ResentBy: "admin",
				SentAt: at.Add(time.Hour), ExpiresAt: at.Add(97 * time.Hour)})
		}
	}
	for _, e := range resends {
		data, meta, err := event.Encode(e, event.Metadata{EventID: uuid.New(), OccurredAt: e.SentAt})
		if err != nil {
			t.Fatal(err)
		}
		res, err := store.Append(ctx, user.Stream(e.UserID), eventstore.Exact(0), []eventstore.EventData{{ID: uuid.New(), Type: e.EventType(), Data: data, Metadata: meta}})
		if err != nil {
			t.Fatal(err)
		}
		last = res.Position
	}
	engine := testEngine(t, store, pool, 10*time.Millisecond)
	engine.feed.BatchSize = 20
	p := &planCounting{}
	if _, _, err := EnsureOver(ctx, pool, store, p); err != nil {
		t.Fatal(err)
	}
	engine.AddProjector(pool, p)
	p.planned.Store(0) // AddProjector probes which types it writes
	v, _ := engine.feed.topics.Load(p.Name())
	topic := v.(Topic)
	if topic.plan == nil {
		t.Fatal("the projector's topic has no planner")
	}
	var ahead atomic.Int64
	plan := topic.plan
	topic.plan = func(records []Record, from eventstore.Position) *writes {
		w := plan(records, from)
		if w != nil {
			ahead.Add(int64(len(records)))
		}
		return w
	}
	engine.feed.Serve(p.Name(), topic)
	go func() { _ = engine.Run(ctx) }()
	<-engine.Running()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		a, err := ActiveBuild(ctx, pool, p.Name())
		if err != nil {
			t.Fatal(err)
		}
		if at, err := LoadCheckpoint(ctx, pool, a.Schema); err == nil && at == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the engine did not catch up")
		}
	}
	if n := p.planned.Load(); n != 200 || ahead.Load() == 0 {
		t.Fatalf("%d events planned, %d of them ahead; want each of the 200 once, most ahead", n, ahead.Load())
	}
	var diffs strings.Builder
	if n, err := Verify(ctx, pool, store, Users{}, &diffs, nil); err != nil || n != 0 {
		t.Fatalf("verify: %d differences (%v):\n%s", n, err, diffs.String())
	}
}

// planCounting is Users, counting the events it plans writes for.
type planCounting struct {
	Users
	planned atomic.Int64
}

func (p *planCounting) ApplyAll(q *pgx.Batch, envs []event.Envelope) {
	p.planned.Add(int64(len(envs)))
	p.Users.ApplyAll(q, envs)
}

func (p *planCounting) Apply(q *pgx.Batch, env event.Envelope) {
	p.ApplyAll(q, []event.Envelope{env})
}

// A whole batch its handler failed goes again after the retry delay,
// though nothing more comes to the log meanwhile.
func TestFeed_a_failed_whole_batch_goes_again_on_an_idle_log(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	events := make([]eventstore.EventData, 20)
	for i := range events {
		events[i] = eventstore.EventData{ID: uuid.New(), Type: "probe.happened", Data: []byte(`{}`), Metadata: []byte(`{}`)}
	}
	res, err := store.Append(ctx, "probe-1", eventstore.NoStream(), events)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFeed(store, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.BatchSize, f.RetryDelay = 20, 10*time.Millisecond
	// Held until whole, however the events come from the store.
	f.Serve("probes", Topic{Hold: fixed(time.Minute), plan: func([]Record, eventstore.Position) *writes { return &writes{} }})
	msgs, err := f.Subscribe(ctx, "probes")
	if err != nil {
		t.Fatal(err)
	}
	for try, ack := range []bool{false, true} {
		select {
		case m := <-msgs:
			b, err := DecodeBatch(m)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Records) != 20 || b.Through != res.Position {
				t.Fatalf("delivery %d: %d events through %s, want the 20 through %s", try+1, len(b.Records), b.Through, res.Position)
			}
			if ack {
				m.Ack()
			} else {
				m.Nack()
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("delivery %d never came", try+1)
		}
	}
}
