package readapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// auditProjector is the checkpoint name of the projector that keeps
// rm_audit_events.
const auditProjector = "audit"

// AuditEvent is one event of the log as auditors read it.
type AuditEvent struct {
	Position      string          `json:"position"`
	EventID       string          `json:"eventId"`
	Stream        string          `json:"stream"`
	Revision      int64           `json:"revision"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schemaVersion"`
	AccountID     *string         `json:"accountId"`
	Actor         string          `json:"actor"`
	CorrelationID string          `json:"correlationId"`
	CausationID   string          `json:"causationId,omitempty"`
	OccurredAt    time.Time       `json:"occurredAt"`
	Data          json.RawMessage `json:"data"`
}

// AuditPage is a page of the log, oldest first.
type AuditPage struct {
	Items      []AuditEvent `json:"items"`
	NextCursor *string      `json:"nextCursor"`
}

// auditKey is what an audit list's nextCursor holds: the position of the
// page's last event.
type auditKey struct {
	Position string `json:"p"`
}

// auditRequest is a parsed audit list: its filters as SQL conditions on
// bound arguments, the position its page starts after, and its size.
type auditRequest struct {
	conds []string
	args  []any
	since eventstore.Position
	limit int
}

// filter adds a condition whose one placeholder (%d) binds v.
func (q *auditRequest) filter(cond string, v any) {
	q.args = append(q.args, v)
	q.conds = append(q.conds, fmt.Sprintf(cond, len(q.args)))
}

const auditColumns = `commit_pos || '-' || prepare_pos, event_id::text, stream, revision, event_type, schema_version,
	account_id::text, actor, correlation_id, causation_id, occurred_at, data`

var auditPageQuery = map[string]string{"limit": "page size, 1 to 500 (default 50)", "cursor": "nextCursor of the previous page"}

// auditRoutes serve the audit read model to operators. They wait for
// ?after on the audit projector alone: they read no other read model.
func (d Deps) auditRoutes() []kit.Route {
	events := get(kit.Route{
		Path:    "/v1/audit/events",
		Summary: "The whole log filtered by actor, event type, account and time range, oldest first, keyset paged",
		Access:  kit.Operator, Response: AuditPage{},
		Query: map[string]string{"actor": "who caused the events", "type": "an event type", "account": "an account id",
			"from": "RFC 3339, inclusive", "to": "RFC 3339, exclusive",
			"limit": auditPageQuery["limit"], "cursor": auditPageQuery["cursor"]},
		Handler: endpoint(d, reads{auditProjector}, parseAuditEvents, func(ctx context.Context, q auditRequest) (AuditPage, error) {
			return auditQuery(ctx, d, q)
		}),
	})
	correlation := get(kit.Route{
		Path:    "/v1/audit/correlations/{id}",
		Summary: "Every event of one business action (one correlation id), across streams, in log order, keyset paged",
		Access:  kit.Operator, Response: AuditPage{}, Query: auditPageQuery,
		Handler: endpoint(d, reads{auditProjector}, parseCorrelation, func(ctx context.Context, q auditRequest) (AuditPage, error) {
			page, err := auditQuery(ctx, d, q)
			if err == nil && len(page.Items) == 0 && q.since.IsZero() {
				return page, kit.NewProblem(http.StatusNotFound, "not-found", "no events with that correlation id")
			}
			return page, err
		}),
	})
	correlation.Statuses = append(operatorStatuses[:len(operatorStatuses):len(operatorStatuses)], http.StatusNotFound)
	return []kit.Route{events, correlation}
}

func parseAuditEvents(in *input, _ kit.Principal) auditRequest {
	q := auditRequest{limit: in.intIn("limit", defaultLimit, 1, maxLimit), since: auditCursor(in)}
	for _, f := range []struct{ name, cond string }{{"actor", "actor = $%d"}, {"type", "event_type = $%d"}} {
		if v := in.values.Get(f.name); v != "" {
			q.filter(f.cond, v)
		}
	}
	if v := in.values.Get("account"); v != "" {
		if id, err := uuid.Parse(v); err != nil {
			in.fail("account", "not a UUID")
		} else {
			q.filter("account_id = $%d", id)
		}
	}
	var span [2]*time.Time // nil: not given (0001-01-01T00:00:00Z is a time given)
	for i, f := range []struct{ name, cond string }{{"from", "occurred_at >= $%d"}, {"to", "occurred_at < $%d"}} {
		if v := in.values.Get(f.name); v != "" {
			if t, err := time.Parse(time.RFC3339, v); err != nil {
				in.fail(f.name, "not an RFC 3339 time")
			} else {
				q.filter(f.cond, microsUp(t))
				span[i] = &t
			}
		}
	}
	if span[0] != nil && span[1] != nil && span[1].Before(*span[0]) {
		in.fail("to", "must not be before from")
	}
	return q
}

// microsUp is a bound of occurred_at, which PostgreSQL keeps to the
// microsecond, for a time given finer: the next microsecond, so that
// "at or after t" and "before t" keep the events they keep by the
// metadata's time, as export's --from and --to do. Sent as it was, the
// driver cut it to the microsecond below, and an event at that
// microsecond was listed after a later from and left out before a later
// to.
func microsUp(t time.Time) time.Time {
	if c := t.Truncate(time.Microsecond); !c.Equal(t) {
		return c.Add(time.Microsecond)
	}
	return t
}

func parseCorrelation(in *input, _ kit.Principal) auditRequest {
	q := auditRequest{limit: in.intIn("limit", defaultLimit, 1, maxLimit), since: auditCursor(in)}
	id := in.r.PathValue("id")
	if why := kit.BadText(id); why != "" {
		in.fail("id", why)
	}
	q.filter("correlation_id = $%d", id)
	return q
}

// auditCursor reads ?cursor: a nextCursor as kit.EncodeCursor wrote it
// or, as these routes wrote it before, the bare position (an auditor's
// replay spanning an upgrade goes on where it was).
func auditCursor(in *input) eventstore.Position {
	s := in.values.Get("cursor")
	if s == "" {
		return eventstore.Start
	}
	var key auditKey
	if kit.DecodeCursor(s, &key) {
		s = key.Position
	}
	pos, err := eventstore.ParsePosition(s)
	if err != nil || pos.IsZero() {
		in.fail("cursor", "malformed cursor: pass nextCursor as it was given")
	}
	return pos
}

// auditQuery reads a page of the events matching q after q.since, oldest
// first.
func auditQuery(ctx context.Context, d Deps, q auditRequest) (AuditPage, error) {
	args := append(q.args[:len(q.args):len(q.args)], int64(q.since.Commit), int64(q.since.Prepare), q.limit+1)
	n := len(args)
	conds := append(q.conds[:len(q.conds):len(q.conds)], fmt.Sprintf("(commit_pos, prepare_pos) > ($%d, $%d)", n-2, n-1))
	rows, err := d.Pool.Query(ctx, `SELECT `+auditColumns+` FROM rm_audit_events WHERE `+strings.Join(conds, " AND ")+
		fmt.Sprintf(` ORDER BY commit_pos, prepare_pos LIMIT $%d`, n), args...)
	if err != nil {
		return AuditPage{}, fmt.Errorf("audit query: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEvent, error) {
		var e AuditEvent
		err := row.Scan(&e.Position, &e.EventID, &e.Stream, &e.Revision, &e.Type, &e.SchemaVersion, &e.AccountID,
			&e.Actor, &e.CorrelationID, &e.CausationID, &e.OccurredAt, &e.Data)
		e.OccurredAt = e.OccurredAt.UTC()
		return e, err
	})
	if err != nil {
		return AuditPage{}, fmt.Errorf("audit query: %w", err)
	}
	var page AuditPage
	page.Items, page.NextCursor = kit.Page(items, q.limit, func(e AuditEvent) any { return auditKey{e.Position} })
	return page, nil
}
