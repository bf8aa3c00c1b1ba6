package projections

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// A dead letter parked after the handler's last commit holds its stream
// back as on the two-trip path: the handler's memory is no licence to
// write past it. While the letter is open no batch pays a round trip for
// a one-trip attempt that enter_build is bound to refuse, and once the
// letter is resolved, batches go in one round trip again.
func TestHandler_holds_a_stream_back_behind_a_dead_letter_parked_after_its_last_commit(t *testing.T) {
	ctx := context.Background()
	var l userLog
	a, b := uuid.New(), uuid.New()
	l.invited(a)
	l.invited(b)
	l.cut() // two round trips: the handler learns where the build is
	l.resent(b)
	l.cut() // one
	l.resent(a)
	l.records[len(l.records)-1].Data = json.RawMessage(`{"userId": "not a user"}`)
	l.cut() // fails, and is parked on its last attempt
	l.resent(a)
	l.resent(b)
	l.cut() // a's waits, b's is applied
	l.resent(a)
	l.cut() // a's waits
	l.resent(b)
	l.cut() // after the letter is skipped: two round trips
	l.resent(a)
	l.cut() // one again

	counted, sent, one := countedBeside(t)
	pool := counted.pool
	handle := Handler(pool, Users{}, writtenTypes(Users{}), nil)
	oneTries := &attempts{}
	skip := func(db usersDB) {
		t.Helper()
		var id int64
		if err := db.pool.QueryRow(ctx, `SELECT id FROM projection_dead_letters WHERE status = 'parked'`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := Resolve(ctx, db.pool, Users{}, Resolution{ID: id, Skip: true, By: "op", Reason: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	for i, batch := range l.batches {
		if i == 5 {
			skip(counted)
			skip(one)
		}
		before := sent.n.Load()
		for try := 1; ; try++ {
			err := handle(batch.message(ctx))
			if err == nil {
				break
			}
			if i != 2 || try >= MaxAttempts {
				t.Fatalf("batch %d, attempt %d: %v", i, try, err)
			}
		}
		got := sent.n.Load() - before
		switch i {
		case 1, 6:
			if got != 1 {
				t.Fatalf("batch %d took %d round trips, want 1", i, got)
			}
		case 4:
			// The build and the keys; the streams blocked; the writes.
			if got != 3 {
				t.Fatalf("with a dead letter open, batch %d took %d round trips, want the two-trip path's 3", i, got)
			}
		}
		for try := 1; ; try++ {
			err := applyEachActive(ctx, one.pool, Users{}, batch, oneTries, traceBatch(ctx, "test", batch), nil)
			if err == nil {
				break
			}
			if i != 2 || try >= MaxAttempts {
				t.Fatalf("batch %d one by one, attempt %d: %v", i, try, err)
			}
		}
		if i == 4 {
			held := texts(t, pool, counted.schema, `SELECT event_id::text FROM projection_dead_letters WHERE status = 'waiting' ORDER BY id`)
			want := []string{l.batches[3].Records[0].ID.String(), l.batches[4].Records[0].ID.String()}
			if !slices.Equal(held, want) {
				t.Fatalf("waiting behind the dead letter: %v, want %v", held, want)
			}
		}
	}
	got, want := counted.outcome(t), one.outcome(t)
	if !slices.Equal(got, want) {
		t.Fatalf("applied by the handler:\n%v\none by one:\n%v", got, want)
	}
}
