package projections

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// loadRows is the fewest rows of one insert shape that a batch loads with
// COPY rather than as multi-row inserts. COPY takes PostgreSQL about 60%
// of the time of the same rows inserted, but two more round trips and a
// savepoint: worth it for a catch-up's hundreds of users a batch, or one
// event assigning thousands of licenses, not for a live batch's few rows.
const loadRows = 100

// writes is what a batch writes, in order: statements, and between them
// loads of many rows of one insert.
type writes struct {
	steps []writeStep
}

// writeStep is statements to send, then (when load is not nil) the rows
// of one plain insert (see insertShape.columns) to COPY into its table.
// ON CONFLICT DO NOTHING has no COPY counterpart: a row already there, or
// a key the batch inserts twice, fails the COPY. So the load runs under a
// savepoint, and any failure sends the rows as the inserts they were
// queued as instead. A read model's rows are new almost always, and a load
// that fails loses only time.
type writeStep struct {
	q    *pgx.Batch
	load *group
}

// statements is the last step's batch, to queue statements on.
func (w *writes) statements() *pgx.Batch {
	if len(w.steps) == 0 || w.steps[len(w.steps)-1].load != nil {
		w.steps = append(w.steps, writeStep{q: &pgx.Batch{}})
	}
	return w.steps[len(w.steps)-1].q
}

func (w *writes) add(g *group) {
	w.statements()
	w.steps[len(w.steps)-1].load = g
}

// sendWrites sends head, w and tail on conn, in a transaction head begins
// (or the caller's), as one pipeline when w loads nothing. Otherwise each
// load splits the pipeline: what comes before it and a savepoint, the
// COPY, then on from releasing the savepoint (or from rolling back to it
// and the load's inserts).
func sendWrites(ctx context.Context, conn *pgx.Conn, head *pgx.Batch, w *writes, tail *pgx.Batch) error {
	q := head
	for _, s := range w.steps {
		q.QueuedQueries = append(q.QueuedQueries, s.q.QueuedQueries...)
		if s.load == nil {
			continue
		}
		q.Queue(`SAVEPOINT load`)
		if err := conn.SendBatch(ctx, q).Close(); err != nil {
			return err
		}
		q = &pgx.Batch{}
		g := s.load
		if _, loadErr := conn.CopyFrom(ctx, g.shape.tableID, g.shape.columns, pgx.CopyFromRows(g.rows)); loadErr != nil {
			// On its own: pgx prepares a batch's new statements first, which
			// the transaction refuses until it is rolled back.
			if _, err := conn.Exec(ctx, `ROLLBACK TO SAVEPOINT load`); err != nil {
				return fmt.Errorf("%w (after loading %s failed: %v)", err, g.shape.table, loadErr)
			}
			g.queue(q)
		}
		q.Queue(`RELEASE SAVEPOINT load`)
	}
	q.QueuedQueries = append(q.QueuedQueries, tail.QueuedQueries...)
	return conn.SendBatch(ctx, q).Close()
}

var (
	identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	columnList = regexp.MustCompile(`^INSERT\s+INTO\s+([a-z_][a-z0-9_.]*)\s*\(([^)]*)\)\s*VALUES$`)
)

// loadable is how COPY names the table and columns of an insert whose
// values are exactly its parameters in order, $1 to $n, one a column; ok
// is false for any other (an expression, a cast or a literal among the
// values has no COPY counterpart).
func loadable(head, tuple string, args int) (table pgx.Identifier, columns []string, ok bool) {
	m := columnList.FindStringSubmatch(head)
	if m == nil {
		return nil, nil, false
	}
	table = pgx.Identifier(strings.Split(m[1], "."))
	if len(table) > 2 {
		return nil, nil, false
	}
	for _, c := range strings.Split(m[2], ",") {
		c = strings.TrimSpace(c)
		if !identifier.MatchString(c) {
			return nil, nil, false
		}
		columns = append(columns, c)
	}
	values := strings.Split(strings.TrimSuffix(strings.TrimPrefix(tuple, "("), ")"), ",")
	if len(values) != len(columns) || len(values) != args {
		return nil, nil, false
	}
	for i, v := range values {
		if strings.TrimSpace(v) != "$"+strconv.Itoa(i+1) {
			return nil, nil, false
		}
	}
	return table, columns, true
}
