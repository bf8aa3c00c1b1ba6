package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
)

// Projector builds one read model from events.
type Projector interface {
	// Name is permanent: it names the read model and its watermill handler.
	Name() string
	// Apply queues the statements that change the read model for one
	// event; events the projector does not use it ignores. Whether it
	// writes anything at all for an event depends on the event's type
	// alone: batches with no event of a type it writes for advance its
	// checkpoint without a transaction (see passOver). The statements
	// of a whole batch run in order, pipelined in one round trip, in the
	// transaction that also advances the checkpoint, with the build's
	// schema first on the search path.
	Apply(q *pgx.Batch, e event.Envelope)
}

// BatchProjector is a Projector that can apply a batch's events together,
// folding several events of one row into one write. ApplyAll of some
// events must leave the read model as Apply of each in turn would.
type BatchProjector interface {
	Projector
	ApplyAll(q *pgx.Batch, envs []event.Envelope)
}

// versionWait is how often a handler looks again while the active build
// is of another version than its code (a newer one is being built).
const versionWait = 500 * time.Millisecond

// Handler runs a projector as a watermill handler: one transaction a
// batch, into the active build, skipping what its checkpoint says was
// already applied, and holding the events of a stream blocked by a dead
// letter back behind it. A batch that fails is applied again event by
// event, so that an event that keeps failing is parked as a dead letter
// while the rest flows on. written is writtenTypes(p): a batch with none
// of them only moves the checkpoint (passOver). Each event parked is
// logged to log (nil: not logged).
func Handler(pool *pgxpool.Pool, p Versioned, written map[string]bool, log *slog.Logger) message.NoPublishHandlerFunc {
	tries, last := &attempts{}, &lastCommit{}
	return func(msg *message.Message) (err error) {
		ctx := msg.Context()
		b, err := DecodeBatch(msg)
		if err != nil {
			return fmt.Errorf("projector %s: %w", p.Name(), err)
		}
		spans := traceBatch(ctx, "project "+p.Name(), b)
		defer func() { spans.end(err) }()
		if !writesAny(written, b) {
			moved, err := passOver(ctx, pool, p, b.Through)
			if moved {
				last.movedTo(b.Through)
			}
			if moved || err != nil {
				return err
			}
		}
		for {
			err := apply(ctx, pool, p, b, last, spans)
			if errors.Is(err, errBatchFailed) {
				err = applyEachActive(ctx, pool, p, b, tries, spans, log)
			}
			if !errors.Is(err, errOtherVersion) {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(versionWait):
			}
		}
	}
}

// apply applies a batch to the active build: in one round trip where the
// handler's last commit left the build, when the batch needs no personal
// key (applyOneTrip), else in two (applyPipelined).
func apply(ctx context.Context, pool *pgxpool.Pool, p Versioned, b Batch, last *lastCommit, spans *batchSpans) error {
	if left, ok := last.get(); ok && left.at.Less(b.Through) && needsNoKey(b.Records, left.at) {
		err := applyOneTrip(ctx, pool, p, b, left)
		if err == nil {
			last.movedTo(b.Through)
			return nil
		}
		if ctx.Err() != nil {
			last.remember(nil)
			return err
		}
	}
	left, err := applyPipelined(ctx, pool, p, b, spans)
	last.remember(left)
	return err
}

// otherVersion is the error for a batch that finds the active build of
// another version than p. An older one: this release's build is being
// made, and the handler waits until it is switched in. A newer one: this
// code cannot write it, and failing the batch lets the feed hand the topic
// to a release that can (see Topic.Version).
func (a activeBuild) otherVersion(p Versioned) error {
	if a.Version > p.Version() {
		return fmt.Errorf("projector %s, version %d: %w", p.Name(), p.Version(), errOutdated)
	}
	return errOtherVersion
}

var (
	errOtherVersion = errors.New("the active build is of an older version")
	errOutdated     = errors.New("the active build is of a newer version")
	errBatchFailed  = errors.New("the batch failed as a whole")
)

// applyEachActive applies a batch to the active build event by event,
// each under a savepoint, parking an event that keeps failing and those
// behind it in its stream (see applyEach). The build row is locked for
// share, so a switch (which locks it for update) waits for the batch.
func applyEachActive(ctx context.Context, pool *pgxpool.Pool, p Versioned, b Batch, tries *attempts, spans *batchSpans, log *slog.Logger) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("projector %s: begin: %w", p.Name(), err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after commit
	var build activeBuild
	if err := build.scan(tx.QueryRow(ctx, activeBuildSQL, p.Name())); err != nil {
		return fmt.Errorf("projector %s: active build: %w", p.Name(), err)
	}
	st, err := build.step(ctx, tx, b.Through)
	if err != nil {
		return err
	}
	if build.Version != p.Version() {
		return build.otherVersion(p)
	}
	if st.Applied() {
		return nil
	}
	st.tx = tx
	parked := map[uuid.UUID]error{}
	if err := applyEach(ctx, tx, p, b.Records, st.from, tries, parked); err != nil {
		return fmt.Errorf("projector %s: %w", p.Name(), err)
	}
	if err := st.save(ctx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	// Only now are they parked: a rolled-back attempt parked nothing.
	for id, err := range parked {
		spans.fail(id, err)
	}
	logParked(log, p.Name(), b.Records, parked)
	return nil
}

// logParked logs each event parked as a dead letter (not those that only
// wait behind one): the handler's earlier attempts were logged as
// failures, and the operator learns here that they ended.
func logParked(log *slog.Logger, projector string, records []Record, parked map[uuid.UUID]error) {
	if log == nil {
		return
	}
	for _, r := range records {
		if err, ok := parked[r.ID]; ok && !errors.Is(err, errWaitingBehind) {
			log.Error("event parked as a dead letter: later events of its stream wait behind it (bizcenter projections dead-letters)",
				"projector", projector, "type", r.Type, "stream", r.Stream, "position", r.Pos, "error", err)
		}
	}
}

// activeBuildSQL reads what a batch needs before it is applied: the active
// build (locked for share) with its checkpoint, and whether a dead letter
// of the projector may be open (none is missed: only the handler opens
// them; but one may have been resolved while the statement waited for
// the lock, see blockedStreams); and it puts the build's schema first on
// the search path and makes the commit a read-model commit
// (readModelCommit, said through set_config), bounded by IdleBound.
const activeBuildSQL = `
	SELECT v.active_schema, v.version, c.commit_pos, c.prepare_pos,
	       EXISTS (SELECT FROM projection_dead_letters d WHERE d.projector = v.name AND d.status IN ('parked', 'waiting')),
	       set_config('search_path', quote_ident(v.active_schema) || ', public', true),
	       set_config('synchronous_commit', 'off', true), ` + IdleBound + `
	  FROM projection_versions v
	  LEFT JOIN projection_checkpoints c ON c.name = v.active_schema
	 WHERE v.name = $1
	   FOR SHARE OF v`

// activeBuild is a row of activeBuildSQL.
type activeBuild struct {
	Active
	commit, prepare *int64
	blocked         bool
}

func (a *activeBuild) scan(row pgx.Row) error {
	return row.Scan(&a.Schema, &a.Version, &a.commit, &a.prepare, &a.blocked, nil, nil, nil)
}

// step is the step of a batch through a position into the build, from
// its checkpoint. With none joined (a new build, or a switch that
// committed while the query waited for the lock, so that the join saw
// the old build's row) it reads the checkpoint again, now that the lock
// is held.
func (a *activeBuild) step(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, through eventstore.Position) (*Step, error) {
	from := eventstore.Start
	if a.commit != nil && a.prepare != nil {
		from = eventstore.Position{Commit: uint64(*a.commit), Prepare: uint64(*a.prepare)}
	} else {
		var err error
		if from, err = LoadCheckpoint(ctx, db, a.Schema); err != nil {
			return nil, err
		}
	}
	return &Step{name: a.Schema, from: from, to: through, applied: !from.Less(through)}, nil
}

// setSchema puts a build's schema first on the search path of tx.
func setSchema(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, searchPath(schema))
	return err
}

func searchPath(schema string) string {
	return `SET LOCAL search_path TO ` + pgx.Identifier{schema}.Sanitize() + `, public`
}

// readModelCommit lets a read model's transaction commit without waiting
// for its WAL to reach disk. A read model is made from the log, which is
// committed durably: a crash can lose the last few milliseconds of a
// projector's commits, but each lost its rows and its checkpoint together,
// so on restart the projector applies those events again. Waiting for a
// flush per batch bought nothing and, live, was most of an event's way to
// the read API. Consumers with side effects (mailer, webhooks, publisher)
// keep durable commits: a lost checkpoint there would repeat an email; so
// does an operator's retry or skip of a dead letter (resolve.go), which
// nothing would make again.
const readModelCommit = `SET LOCAL synchronous_commit TO off`

// IdleBound, in a transaction's first query, ends the transaction when it
// waits on its own process for 10 s between round trips: every consumer's
// step and the webhook worker's record of an outcome are bounded by it. A
// leader stopped without dying (SIGSTOP, a paused VM) loses its lead after
// LeaseIdle, but a batch it left open kept its rows' locks, and the
// successor's first insert of the same key waited on them until the
// stopped process came back. No batch waits on its process for long: it
// makes its writes before it sends them. (A process stopped in the middle
// of sending is not idle to PostgreSQL, and still holds its batch until it
// resumes or dies.)
const IdleBound = `set_config('idle_in_transaction_session_timeout', '10s', true)`

// applyAll applies the records after the step's checkpoint and advances
// it, in one pipelined round trip (builds; live batches take
// applyPipelined), with the writes planned for them when they fit.
func applyAll(ctx context.Context, tx pgx.Tx, p Projector, records []Record, st *Step, planned *plannedWrites) error {
	w := planned.take(st.from)
	if w == nil {
		open, err := OpenerFor(ctx, tx, records)
		if err != nil {
			return err
		}
		if w, err = queueAll(p, records, st.from, open); err != nil {
			return err
		}
	}
	save := &pgx.Batch{}
	st.queueSave(save)
	return st.moved(sendWrites(ctx, tx.Conn(), &pgx.Batch{}, w, save))
}

// queueAll decodes the records after from, their personal fields opened
// by open, and plans what p writes for them, inserts merged (see
// planWrites).
func queueAll(p Projector, records []Record, from eventstore.Position, open event.Transform) (*writes, error) {
	envs := make([]event.Envelope, 0, len(records))
	for _, r := range records {
		if !from.Less(r.Position) {
			continue
		}
		env, ok, err := r.Envelope(open)
		if err != nil {
			return nil, err
		}
		if ok {
			envs = append(envs, env)
		}
	}
	q := &pgx.Batch{}
	if bp, ok := p.(BatchProjector); ok {
		bp.ApplyAll(q, envs)
	} else {
		for _, env := range envs {
			p.Apply(q, env)
		}
	}
	return planWrites(q), nil
}

// applyBatch applies a page to a build inside tx, advancing the build's
// checkpoint to its end; the caller commits. (Builds do not park: a
// failing event stops them.)
func applyBatch(ctx context.Context, tx pgx.Tx, p Projector, schema string, pg *page) error {
	if _, err := tx.Exec(ctx, searchPath(schema)+`; `+readModelCommit); err != nil {
		return err
	}
	st, err := beginIn(ctx, tx, schema, pg.through)
	if err != nil || st.Applied() {
		return err
	}
	if err := applyAll(ctx, tx, p, pg.records, st, &pg.planned); err != nil {
		return fmt.Errorf("projector %s building %s through %s: %w", p.Name(), schema, pg.through, err)
	}
	return nil
}
