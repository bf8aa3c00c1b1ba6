package projections

import (
	"bytes"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/personal"
)

// Planned writes are handed out once, and only to a build whose
// checkpoint leaves every record of the page to apply.
func TestPlannedWrites_go_once_and_only_where_they_fit(t *testing.T) {
	at := func(n uint64) eventstore.Position { return eventstore.Position{Commit: n, Prepare: n} }
	planned := &writes{}
	pw := plannedWrites{from: at(10), w: planned}
	if w := pw.take(at(11)); w != nil {
		t.Fatal("writes planned from 10 handed to a build at 11, which has the first record already")
	}
	if w := pw.take(at(10)); w != planned {
		t.Fatalf("a build at 10 got %p, want the planned writes %p", w, planned)
	}
	if w := pw.take(at(10)); w != nil {
		t.Fatal("the planned writes were handed out twice")
	}
	if w := (&plannedWrites{}).take(at(9)); w != nil {
		t.Fatal("a page without planned writes handed some out")
	}
}

// planPages leaves out the events operators skipped, and gives each page
// the writes planned for what is left, from where the page before ended.
func TestPlanPages_plans_each_page_from_where_the_one_before_ended(t *testing.T) {
	at := func(n uint64) eventstore.Position { return eventstore.Position{Commit: n, Prepare: n} }
	rec := func(n uint64) Record { return Record{ID: uuid.New(), Position: at(n)} }
	pages := []page{
		{records: []Record{rec(3), rec(4)}, through: at(4), read: 2},
		{records: []Record{rec(5), rec(6), rec(7)}, through: at(7), read: 3},
	}
	skipped := map[string]bool{pages[1].records[1].ID.String(): true}
	in := make(chan page, len(pages))
	for _, pg := range pages {
		in <- pg
	}
	close(in)
	type plan struct {
		from  eventstore.Position
		count int
	}
	var plans []plan
	planned := map[eventstore.Position]*writes{}
	out := planPages(t.Context(), in, func(records []Record, from eventstore.Position) *writes {
		plans = append(plans, plan{from, len(records)})
		planned[from] = &writes{}
		return planned[from]
	}, skipped, leftOut{}, at(2))
	var got []page
	for pg := range out {
		got = append(got, pg)
	}
	if len(got) != 2 || fmt.Sprint(plans) != fmt.Sprint([]plan{{at(2), 2}, {at(4), 2}}) {
		t.Fatalf("%d pages, planned %v; want 2 pages planned from 2-2 (2 events) and 4-4 (2, one skipped)", len(got), plans)
	}
	if got[1].read != 3 || len(got[1].records) != 2 || got[1].records[1].Position != at(7) {
		t.Fatalf("second page: %d read, %d left, want 3 read and events 5 and 7 left", got[1].read, len(got[1].records))
	}
	for i, pg := range got {
		if w := pg.planned.take(plans[i].from); w == nil || w != planned[plans[i].from] {
			t.Fatalf("page %d does not carry the writes planned for it", i+1)
		}
	}
}

// A projector's planner plans a batch that opens without a key, and
// leaves one with a sealed record not opened ahead to the transaction,
// which fetches the key.
func TestPlannerOf_plans_only_what_opens_without_a_key(t *testing.T) {
	invited := user.Invited{UserID: uuid.New(), AccountID: uuid.New(), Email: "ann@example.com", FirstName: "Ann", Roles: []user.Role{user.AccountViewer}}
	data, meta, err := event.Encode(invited, event.Metadata{EventID: uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	at := eventstore.Position{Commit: 7, Prepare: 7}
	plain := newRecord(&eventstore.RecordedEvent{ID: uuid.New(), Type: invited.EventType(), Data: data, Metadata: meta, Position: at})
	readAhead(t.Context(), nil, nil, []*Record{&plain}, nil)
	w := plannerOf(Users{})([]Record{plain}, eventstore.Start)
	if w == nil || len(w.steps) == 0 {
		t.Fatalf("a plain invitation planned %+v, want its writes", w)
	}
	sealed := newRecord(&eventstore.RecordedEvent{ID: uuid.New(), Type: invited.EventType(), Position: at,
		Data: bytes.Replace(data, []byte("ann@example.com"), []byte(personal.Prefix+"c2VhbGVk"), 1), Metadata: meta})
	readAhead(t.Context(), nil, nil, []*Record{&sealed}, nil)
	if w := plannerOf(Users{})([]Record{plain, sealed}, eventstore.Start); w != nil {
		t.Fatal("a batch with a sealed record not opened ahead was planned without its key")
	}
}

// A rebuild, its pages planned ahead, builds what the engine built live,
// and plans each event once: it applies what was planned rather than plan
// again.
func TestRebuild_plans_each_event_once(t *testing.T) {
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
	if _, _, err := EnsureOver(ctx, pool, store, Users{}); err != nil {
		t.Fatal(err)
	}
	engine.AddProjector(pool, Users{})
	go func() { _ = engine.Run(ctx) }()
	<-engine.Running()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if at, err := LiveCheckpoint(ctx, pool, Users{}.Name()); err == nil && at == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the engine did not catch up")
		}
	}
	p := &planCounting{}
	if _, err := Rebuild(ctx, pool, store, p, nil); err != nil {
		t.Fatal(err)
	}
	if n := p.planned.Load(); n != 200 {
		t.Fatalf("%d events planned, want each of the 200 once", n)
	}
	var diffs strings.Builder
	if n, err := Verify(ctx, pool, store, Users{}, &diffs, nil); err != nil || n != 0 {
		t.Fatalf("verify: %d differences (%v):\n%s", n, err, diffs.String())
	}
}

// planCounting is Users, counting the events it plans writes for in
// batches (Apply alone is how a projector is probed for the types it
// writes).
type planCounting struct {
	Users
	planned atomic.Int64
}

func (p *planCounting) ApplyAll(q *pgx.Batch, envs []event.Envelope) {
	p.planned.Add(int64(len(envs)))
	p.Users.ApplyAll(q, envs)
}

func (p *planCounting) Apply(q *pgx.Batch, env event.Envelope) {
	p.Users.ApplyAll(q, []event.Envelope{env})
}
