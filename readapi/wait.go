package readapi

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

const (
	// usersProjector is the checkpoint name of the projector that keeps
	// rm_accounts, rm_users and rm_user_history.
	usersProjector = "users"
	afterHeader    = "X-After-Position"
	firstPoll      = 2 * time.Millisecond
	maxPoll        = 20 * time.Millisecond
)

// reads are the projectors whose read models a route reads, by checkpoint
// name: its ?after waits for each of them.
type reads []string

// position reads ?after and the X-After-Position header; with both, the
// later one counts. Absent is Start: no wait. It answers too which of
// the two it took, to be named if the position is refused later (past
// the end of the log): a client that sent the header has no ?after to
// correct.
func (in *input) position() (eventstore.Position, string) {
	query := in.parsePosition("after", in.values.Get("after"))
	header := in.parsePosition(afterHeader, in.r.Header.Get(afterHeader))
	if query.Less(header) {
		return header, afterHeader
	}
	return query, "after"
}

func (in *input) parsePosition(field, s string) eventstore.Position {
	pos, err := eventstore.ParsePosition(s)
	if err != nil {
		in.fail(field, kit.BadPosition)
	}
	return pos
}

// WaitProjector returns once the named projector has passed pos, as a
// read's ?after waits for it (a 503 problem past WaitBound): for a command
// that decides on what a read model says.
func (d Deps) WaitProjector(ctx context.Context, name string, pos eventstore.Position) error {
	if d.WaitBound <= 0 {
		d.WaitBound = DefaultWaitBound
	}
	return d.waitProjectors(ctx, pos, "after", name)
}

// waitProjectors returns once the checkpoints of the named projectors are
// all at or past pos. d.WaitBound bounds the whole wait, not each
// projector's: past it, it returns a 503 problem naming the one behind,
// or a 400 naming field, where pos came from, when pos is past the log.
func (d Deps) waitProjectors(ctx context.Context, pos eventstore.Position, field string, names ...string) error {
	if pos.IsZero() {
		return nil
	}
	bounded, cancel := context.WithTimeout(ctx, d.WaitBound)
	defer cancel()
	for _, name := range names {
		reached, err := d.reach(bounded, name, pos)
		if err != nil {
			return err
		}
		if !reached {
			return d.behind(ctx, name, pos, field)
		}
	}
	return nil
}

// reach waits until a projector's checkpoint is at or past pos, looking
// again whenever this process's handler of it finishes a batch
// (Deps.Advanced) and otherwise polling, more slowly each time; false
// once bounded is done. Each time it finds the projector short of pos it
// hurries the batch this process's feed may hold (Deps.Hurry): the events
// up to pos may be ones the projector writes nothing for, held to go out
// together.
func (d Deps) reach(bounded context.Context, name string, pos eventstore.Position) (bool, error) {
	for delay := cmp.Or(d.firstPoll, firstPoll); ; delay = min(2*delay, maxPoll) {
		var advanced <-chan struct{} // nil: never
		if d.Advanced != nil {
			advanced = d.Advanced(name)
		}
		at, parked, err := checkpoint(bounded, d, name, pos)
		switch {
		case err == nil && parked != 0:
			return false, d.parked(name, pos, parked)
		case err == nil && !at.Less(pos):
			return true, nil
		case err != nil && bounded.Err() == nil:
			return false, err
		case d.Hurry != nil:
			d.Hurry(name)
		}
		select {
		case <-bounded.Done():
			return false, nil
		case <-advanced:
		case <-time.After(delay):
		}
	}
}

// behind is the answer to a read whose wait ran out with the named
// projector short of pos: a 503 to retry, or a 400 naming field when no
// command can have answered pos.
func (d Deps) behind(ctx context.Context, name string, pos eventstore.Position, field string) error {
	if d.pastHead(ctx, pos) {
		return kit.Invalid(kit.FieldProblem{Field: field, Reason: "is past the end of the log: no command answered it"})
	}
	p := kit.NewProblem(http.StatusServiceUnavailable, "read-model-behind",
		fmt.Sprintf("the %s read model has not reached position %s within %s; retry", name, pos, d.WaitBound))
	p.RetryAfter = 1
	return p
}

// pastHead reports whether pos lies past the log's last event (false
// when that cannot be told).
func (d Deps) pastHead(ctx context.Context, pos eventstore.Position) bool {
	if d.PastHead == nil {
		return false
	}
	past, err := d.PastHead(ctx, pos)
	return err == nil && past
}

// checkpoint is where a projector is (Start if it has not saved one
// yet), and the id of an open dead letter of it among the events the
// write at pos appended (0: none; see ownLetter). Such an event is
// passed over, parked or waiting behind one, and the read model may
// never show the write until an operator retries or skips it: the
// checkpoint passing pos says nothing then.
func checkpoint(ctx context.Context, d Deps, name string, pos eventstore.Position) (eventstore.Position, int64, error) {
	var commit, prepare, parked int64
	err := d.Pool.QueryRow(ctx, `
		SELECT coalesce(c.commit_pos, 0), coalesce(c.prepare_pos, 0),
		       coalesce((SELECT min(l.id) FROM projection_dead_letters l
		                  WHERE l.projector = $1 AND l.status IN ('parked', 'waiting')
		                    AND l.commit_pos = $2 AND l.prepare_pos <= $3), 0)
		  FROM (SELECT) AS one
		  LEFT JOIN projection_versions v ON v.name = $1
		  LEFT JOIN projection_checkpoints c ON c.name = v.active_schema`, name, int64(pos.Commit), int64(pos.Prepare)).Scan(&commit, &prepare, &parked)
	if err != nil {
		return eventstore.Position{}, 0, fmt.Errorf("read checkpoint %s: %w", name, err)
	}
	if parked != 0 {
		if parked, err = ownLetter(ctx, d, name, pos); err != nil {
			return eventstore.Position{}, 0, err
		}
	}
	return eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}, parked, nil
}

// ownLetter is the first open dead letter of the write at pos, among
// those of pos's transaction up to pos (0: none). The embedded store
// commits the appends that wait for a writer together, so that
// transaction may hold other callers' writes too: a letter is the
// write's when it is on the stream of the event at pos or carries that
// event's correlation id (a command's events to several streams share
// it). With EventStoreDB the log is not in this database and a
// transaction is one append: every letter of it counts.
func ownLetter(ctx context.Context, d Deps, name string, pos eventstore.Position) (int64, error) {
	rows, err := d.Pool.Query(ctx, `
		SELECT l.id, l.stream, l.metadata, e.stream, e.metadata
		  FROM projection_dead_letters l
		  LEFT JOIN events e ON e.tx_id = $2 AND e.seq = $3
		 WHERE l.projector = $1 AND l.status IN ('parked', 'waiting')
		   AND l.commit_pos = $2 AND l.prepare_pos <= $3
		 ORDER BY l.id`, name, int64(pos.Commit), int64(pos.Prepare))
	if err != nil {
		return 0, fmt.Errorf("read dead letters of %s at %s: %w", name, pos, err)
	}
	for rows.Next() {
		var id int64
		var stream string
		var meta, atMeta []byte
		var atStream *string
		if err := rows.Scan(&id, &stream, &meta, &atStream, &atMeta); err != nil {
			return 0, fmt.Errorf("read dead letters of %s at %s: %w", name, pos, err)
		}
		if atStream == nil || *atStream == stream || sameCorrelation(meta, atMeta) {
			rows.Close()
			return id, nil
		}
	}
	return 0, rows.Err()
}

// sameCorrelation reports whether two events' metadata name one
// correlation id (false when either names none).
func sameCorrelation(a, b []byte) bool {
	var ma, mb struct {
		CorrelationID string `json:"correlationId"`
	}
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return false
	}
	return ma.CorrelationID != "" && ma.CorrelationID == mb.CorrelationID
}

// parked is the answer to a read whose write at pos is parked as a dead
// letter of the named projector (or waits behind one): a 503 that no
// retry mends by itself.
func (d Deps) parked(name string, pos eventstore.Position, letter int64) error {
	p := kit.NewProblem(http.StatusServiceUnavailable, "read-model-parked",
		fmt.Sprintf("the %s read model passed over the write at %s: it is dead letter %d, until an operator retries or skips it (bizcenter projections dead-letters)", name, pos, letter))
	p.RetryAfter = 30
	return p
}
