package readapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

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
// later one counts. Absent is Start: no wait.
func (in *input) position() eventstore.Position {
	query := in.parsePosition("after", in.values.Get("after"))
	header := in.parsePosition(afterHeader, in.r.Header.Get(afterHeader))
	if query.Less(header) {
		return header
	}
	return query
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
	return d.waitProjectors(ctx, pos, name)
}

// waitProjectors returns once the checkpoints of the named projectors are
// all at or past pos. d.WaitBound bounds the whole wait, not each
// projector's: past it, it returns a 503 problem naming the one behind.
func (d Deps) waitProjectors(ctx context.Context, pos eventstore.Position, names ...string) error {
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
			return d.behind(ctx, name, pos)
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
		at, err := checkpoint(bounded, d, name)
		switch {
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
// projector short of pos: a 503 to retry, or a 400 when no command can
// have answered pos.
func (d Deps) behind(ctx context.Context, name string, pos eventstore.Position) error {
	if d.pastHead(ctx, pos) {
		return kit.Invalid(kit.FieldProblem{Field: "after", Reason: "is past the end of the log: no command answered it"})
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

// checkpoint is where a projector is; Start if it has not saved one yet.
func checkpoint(ctx context.Context, d Deps, name string) (eventstore.Position, error) {
	var commit, prepare int64
	err := d.Pool.QueryRow(ctx,
		`SELECT c.commit_pos, c.prepare_pos FROM projection_versions v
		   JOIN projection_checkpoints c ON c.name = v.active_schema WHERE v.name = $1`, name).Scan(&commit, &prepare)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Start, nil
	}
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("read checkpoint %s: %w", name, err)
	}
	return eventstore.Position{Commit: uint64(commit), Prepare: uint64(prepare)}, nil
}
