package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
)

// ErrCheckpointMoved: another instance advanced the checkpoint first.
var ErrCheckpointMoved = errors.New("checkpoint moved by another instance")

// LoadCheckpoint reads a projector's checkpoint (Start when it has none).
func LoadCheckpoint(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, name string) (eventstore.Position, error) {
	var c, p int64
	err := db.QueryRow(ctx, `SELECT commit_pos, prepare_pos FROM projection_checkpoints WHERE name = $1`, name).Scan(&c, &p)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Start, nil
	}
	if err != nil {
		return eventstore.Start, fmt.Errorf("load checkpoint %s: %w", name, err)
	}
	return eventstore.Position{Commit: uint64(c), Prepare: uint64(p)}, nil
}

// Step is one consumer transaction for the event at a position: the change
// it makes and the checkpoint advance commit together.
type Step struct {
	tx      pgx.Tx
	name    string
	from    eventstore.Position
	to      eventstore.Position
	applied bool
}

// Begin opens the transaction of consumer name for the event at pos.
func Begin(ctx context.Context, pool *pgxpool.Pool, name string, pos eventstore.Position) (*Step, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("projector %s: begin: %w", name, err)
	}
	return beginIn(ctx, tx, name, pos)
}

// beginIn starts a step in an open transaction (rolled back on error),
// bounded as a projector's batch is (IdleBound, set in the query that
// reads the checkpoint): the mailer's claims, say, left open by a leader
// stopped between round trips, held up its successor's claims of the
// same emails until the stopped process came back.
func beginIn(ctx context.Context, tx pgx.Tx, name string, pos eventstore.Position) (*Step, error) {
	var c, p int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(c.commit_pos, 0), coalesce(c.prepare_pos, 0)
		  FROM (SELECT `+IdleBound+`) bound LEFT JOIN projection_checkpoints c ON c.name = $1`, name).Scan(&c, &p); err != nil {
		_ = tx.Rollback(ctx)
		return nil, fmt.Errorf("load checkpoint %s: %w", name, err)
	}
	from := eventstore.Position{Commit: uint64(c), Prepare: uint64(p)}
	return &Step{tx: tx, name: name, from: from, to: pos, applied: !from.Less(pos)}, nil
}

// Tx is the transaction to make the change in.
func (s *Step) Tx() pgx.Tx { return s.tx }

// From is the checkpoint the step started from: events at or before it
// were applied by an earlier step.
func (s *Step) From() eventstore.Position { return s.from }

// Applied reports whether the checkpoint is already at or past the event:
// the change was made before and must not be made again.
func (s *Step) Applied() bool { return s.applied }

// Commit saves the checkpoint and commits: if another instance moved it
// since Begin, nothing is committed.
func (s *Step) Commit(ctx context.Context) error {
	defer s.tx.Rollback(ctx) //nolint:errcheck // a no-op after commit
	if s.applied {
		return nil
	}
	if err := s.save(ctx); err != nil {
		return err
	}
	if err := s.tx.Commit(ctx); err != nil {
		return fmt.Errorf("projector %s: commit: %w", s.name, err)
	}
	return nil
}

// save advances the checkpoint by compare-and-set, in the step's
// transaction.
func (s *Step) save(ctx context.Context) error {
	_, err := s.tx.Exec(ctx, advanceCheckpoint, s.saveArgs()...)
	if err = s.moved(err); err != nil && !errors.Is(err, ErrCheckpointMoved) {
		err = fmt.Errorf("projector %s: save checkpoint: %w", s.name, err)
	}
	return err
}

// queueSave is save at the end of a batch of the step's changes, so that
// it takes no round trip of its own; pass the batch's error to moved.
func (s *Step) queueSave(q *pgx.Batch) {
	q.Queue(advanceCheckpoint, s.saveArgs()...)
}

// advanceCheckpoint is the compare-and-set (migration 011): it raises
// SQLSTATE checkpointMovedCode when another instance moved the checkpoint
// first, so that nothing queued after it in a pipeline (a COMMIT) runs.
const advanceCheckpoint = `SELECT advance_checkpoint($1, $2, $3, $4, $5)`

const checkpointMovedCode = "BZ409"

func (s *Step) saveArgs() []any {
	return []any{s.name, int64(s.to.Commit), int64(s.to.Prepare), int64(s.from.Commit), int64(s.from.Prepare)}
}

// moved is err, or ErrCheckpointMoved when it is the compare-and-set's.
func (s *Step) moved(err error) error {
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == checkpointMovedCode {
		return fmt.Errorf("projector %s at %s: %w", s.name, s.to, ErrCheckpointMoved)
	}
	return err
}

// Stop ends the step at pos, an event short of the position it began for:
// Commit advances the checkpoint to pos, and the events after it are left
// for another step. A consumer that must act between commits (the mailer
// sends what it claimed) uses it to bound what one commit holds.
func (s *Step) Stop(pos eventstore.Position) {
	if s.from.Less(pos) && pos.Less(s.to) {
		s.to = pos
	}
}

// To is the checkpoint Commit saves: the position the step began for, or
// where Stop ended it.
func (s *Step) To() eventstore.Position { return s.to }

// ErrMovedBack is what a consumer fails a batch with when its checkpoint
// stands before the batch (Batch.After): moved back by MoveBack once the
// feed had read past it. The feed then follows again from the checkpoint,
// and says so. It is the expected end of a put-back by another instance,
// not a fault: the engine neither logs it as the handler's error nor
// counts the consumer failing for it (AddConsumer).
var ErrMovedBack = errors.New("the checkpoint was moved back")

// MoveBack moves a consumer's checkpoint back, in tx, to an earlier
// position, wherever it stands now: also when another instance moved it
// on meanwhile, past events whose work this one found undone (nothing
// moves a checkpoint that already stands at or before it). It is for a
// consumer that finds, after a commit, that what it did for the events
// past that position did not happen and must be done again: the mailer,
// whose relay could not be reached for the emails it had claimed. The
// instance that leads the consumer then finds the checkpoint behind its
// feed (Batch.After) and follows again from it. Moved back only from
// where this instance had committed it, the emails of an instance that
// lost its lead meanwhile (a stop, a pause) were given up.
func MoveBack(ctx context.Context, tx pgx.Tx, name string, to eventstore.Position) error {
	// Bounded as a step is (IdleBound): the row it locks is the one
	// the leader's next commit updates, and this instance may be one that
	// lost its lead and is stopped again before its commit.
	if _, err := tx.Exec(ctx, `SELECT `+IdleBound); err != nil {
		return fmt.Errorf("projector %s: move the checkpoint back: %w", name, err)
	}
	_, err := tx.Exec(ctx, `UPDATE projection_checkpoints SET commit_pos = $2, prepare_pos = $3, updated_at = now()
		WHERE name = $1 AND (commit_pos, prepare_pos) > ($2, $3)`,
		name, int64(to.Commit), int64(to.Prepare))
	if err != nil {
		return fmt.Errorf("projector %s: move the checkpoint back to %s: %w", name, to, err)
	}
	return nil
}

// Rollback abandons the step.
func (s *Step) Rollback(ctx context.Context) { _ = s.tx.Rollback(ctx) }
