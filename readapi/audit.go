package readapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

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

const auditColumns = `commit_pos || '-' || prepare_pos, event_id::text, stream, revision, event_type, schema_version,
	account_id::text, actor, correlation_id, causation_id, occurred_at, data`

// auditRoutes serve the audit read model to operators.
func (d Deps) auditRoutes() []kit.Route {
	return []kit.Route{{
		Method: http.MethodGet, Path: "/v1/audit/events", Access: kit.Operator, Success: http.StatusOK,
		Summary:  "The whole log filtered by actor, event type, account and time range, oldest first, keyset paged",
		Response: AuditPage{},
		Query: map[string]string{"actor": "who caused the events", "type": "an event type", "account": "an account id",
			"from": "RFC 3339, inclusive", "to": "RFC 3339, exclusive", "limit": "1 to 500, default 100", "cursor": "nextCursor of the previous page"},
		Statuses: []int{400, 401, 403},
		Handler:  d.auditEvents,
	}, {
		Method: http.MethodGet, Path: "/v1/audit/correlations/{id}", Access: kit.Operator, Success: http.StatusOK,
		Summary:  "Every event of one business action (one correlation id), across streams, in log order",
		Response: AuditPage{}, Statuses: []int{401, 403, 404},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			if why := kit.BadText(r.PathValue("id")); why != "" {
				kit.WriteProblem(w, kit.Invalid(kit.FieldProblem{Field: "id", Reason: why}))
				return
			}
			page, err := auditQuery(r.Context(), d, []string{"correlation_id = $1"}, []any{r.PathValue("id")}, eventstore.Start, 10_000)
			if err != nil {
				kit.WriteProblem(w, kit.NewProblem(http.StatusInternalServerError, "internal", "audit query failed"))
				return
			}
			if len(page.Items) == 0 {
				kit.WriteProblem(w, kit.NewProblem(http.StatusNotFound, "not-found", "no events with that correlation id"))
				return
			}
			kit.WriteJSON(w, http.StatusOK, page)
		},
	}}
}

func (d Deps) auditEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var conds []string
	var args []any
	var bad []kit.FieldProblem
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	for _, f := range []struct{ name, cond string }{{"actor", "actor = $%d"}, {"type", "event_type = $%d"}} {
		if v := q.Get(f.name); v != "" {
			if why := kit.BadText(v); why != "" {
				bad = append(bad, kit.FieldProblem{Field: f.name, Reason: why})
			} else {
				add(f.cond, v)
			}
		}
	}
	if v := q.Get("account"); v != "" {
		if id, err := uuid.Parse(v); err != nil {
			bad = append(bad, kit.FieldProblem{Field: "account", Reason: "not a UUID"})
		} else {
			add("account_id = $%d", id)
		}
	}
	for _, f := range []struct{ name, cond string }{{"from", "occurred_at >= $%d"}, {"to", "occurred_at < $%d"}} {
		if v := q.Get(f.name); v != "" {
			if t, err := time.Parse(time.RFC3339, v); err != nil {
				bad = append(bad, kit.FieldProblem{Field: f.name, Reason: "not an RFC 3339 time"})
			} else {
				add(f.cond, t)
			}
		}
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			bad = append(bad, kit.FieldProblem{Field: "limit", Reason: "a whole number from 1 to 500"})
		}
		limit = n
	}
	after, err := eventstore.ParsePosition(q.Get("cursor"))
	if err != nil {
		bad = append(bad, kit.FieldProblem{Field: "cursor", Reason: "not a cursor of this route"})
	}
	if bad != nil {
		kit.WriteProblem(w, kit.Invalid(bad...))
		return
	}
	page, err := auditQuery(r.Context(), d, conds, args, after, limit)
	if err != nil {
		kit.WriteProblem(w, kit.NewProblem(http.StatusInternalServerError, "internal", "audit query failed"))
		return
	}
	kit.WriteJSON(w, http.StatusOK, page)
}

// auditQuery reads events matching conds after a position, oldest first.
func auditQuery(ctx context.Context, d Deps, conds []string, args []any, after eventstore.Position, limit int) (AuditPage, error) {
	args = append(args, int64(after.Commit), int64(after.Prepare), limit+1)
	n := len(args)
	conds = append(conds, fmt.Sprintf("(commit_pos, prepare_pos) > ($%d, $%d)", n-2, n-1))
	rows, err := d.Pool.Query(ctx, `SELECT `+auditColumns+` FROM rm_audit_events WHERE `+strings.Join(conds, " AND ")+
		fmt.Sprintf(` ORDER BY commit_pos, prepare_pos LIMIT $%d`, n), args...)
	if err != nil {
		return AuditPage{}, err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEvent, error) {
		var e AuditEvent
		err := row.Scan(&e.Position, &e.EventID, &e.Stream, &e.Revision, &e.Type, &e.SchemaVersion, &e.AccountID,
			&e.Actor, &e.CorrelationID, &e.CausationID, &e.OccurredAt, &e.Data)
		e.OccurredAt = e.OccurredAt.UTC()
		return e, err
	})
	if err != nil {
		return AuditPage{}, err
	}
	page := AuditPage{Items: nonNil(items)}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = new(items[limit-1].Position)
	}
	return page, nil
}
