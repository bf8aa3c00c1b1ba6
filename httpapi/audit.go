package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// streamEvent is one stored event of a stream, for auditors.
type streamEvent struct {
	Revision   uint64          `json:"revision"`
	Position   string          `json:"position"`
	Type       string          `json:"type"`
	Data       json.RawMessage `json:"data"`
	Metadata   event.Metadata  `json:"metadata"`
	RecordedAt time.Time       `json:"recordedAt"`
}

// streamBody is a page of a stream's events, oldest first.
type streamBody struct {
	Stream     string        `json:"stream"`
	Items      []streamEvent `json:"items"`
	NextCursor *string       `json:"nextCursor"`
	// Events are the items again, under the name this route answered
	// before it paged like every list (docs/audit.md), for the clients
	// that read them there.
	Events []streamEvent `json:"events"`
}

// streamKey is what a stream page's nextCursor holds: the revision the
// next page starts at.
type streamKey struct {
	Next uint64 `json:"next"`
	// The stream's history: another's would start at this one's revision
	// and leave out the events before it (refused by kit.PageQuery).
	kit.Listed
}

type asOfBody struct {
	Stream   string    `json:"stream"`
	Revision uint64    `json:"revision"`
	At       time.Time `json:"at"`
	State    any       `json:"state"`
}

// AuditRoutes declares the auditors' routes read straight from the event
// store: a stream's history, and an aggregate's state as of a time or a
// revision, replayed with the same domain code the commands use.
func AuditRoutes(store eventstore.Store, opener func(context.Context) event.Transform, clk clock.Clock) []kit.Route {
	return []kit.Route{{
		Method: http.MethodGet, Path: "/v1/audit/streams/{stream}", Access: kit.Operator, Success: http.StatusOK,
		Summary: "A stream's events with type, data, actor, time, correlation and causation ids, oldest first, a page at a time",
		Query: map[string]string{"from": "first revision (default 0)", "limit": "page size, 1 to 500 (default 50)",
			"cursor": "nextCursor of the previous page of the same stream (another stream's is a 400)",
			"after":  "a position a command answered; accepted as on every read route, and never waited for: the route reads the event store itself"},
		Response: streamBody{}, Statuses: []int{400, 401, 403, 404},
		Handler: streamHistory(store),
	}, {
		Method: http.MethodGet, Path: "/v1/audit/streams/{stream}/as-of", Access: kit.Operator, Success: http.StatusOK,
		Summary:  "The state of a user, an account, a subscription or a partner as of a time (?at=RFC 3339) or a revision (?revision=N), replayed from its events",
		Query:    map[string]string{"at": "RFC 3339 time", "revision": "last revision to include"},
		Response: asOfBody{}, Statuses: []int{400, 401, 403, 404},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			until, p := asOfBound(r, clk.Now())
			if why := kit.BadText(r.PathValue("stream")); why != "" {
				p = kit.Invalid(kit.FieldProblem{Field: "stream", Reason: why})
			}
			if p != nil {
				kit.WriteProblem(w, p)
				return
			}
			recs, err := store.ReadStream(r.Context(), r.PathValue("stream"), eventstore.ReadStreamOptions{})
			if p := streamProblem(err); p != nil {
				kit.WriteProblem(w, p)
				return
			}
			if n := len(recs); n > 0 && until.revision != nil && *until.revision > recs[n-1].Revision {
				last := recs[n-1].Revision
				kit.WriteProblem(w, kit.NewProblem(http.StatusNotFound, "not-found", fmt.Sprintf("the stream ends at revision %d", last)))
				return
			}
			var open event.Transform
			if opener != nil {
				open = opener(r.Context())
			}
			body, ok, err := replay(recs, until, open)
			if err != nil {
				kit.WriteProblem(w, kit.NewProblem(http.StatusInternalServerError, "internal",
					fmt.Sprintf("no state past the stream's %v (bizcenter audit verify checks the stream)", err)))
				return
			}
			if !ok {
				kit.WriteProblem(w, kit.NewProblem(http.StatusNotFound, "not-found", "no user, account, subscription or partner state at that point of this stream"))
				return
			}
			body.Stream = r.PathValue("stream")
			kit.WriteJSON(w, http.StatusOK, body)
		},
	}}
}

// streamHistory answers a page of a stream's events from the store: from
// the revision ?from names, or the one ?cursor holds when that is later
// (a client that pages keeps its first query and adds the cursor).
func streamHistory(store eventstore.Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		from, p1 := optionalUint(r, "from", 0)
		var key streamKey
		limit, p2 := kit.PageQuery(r, &key)
		var bad []kit.FieldProblem
		for _, p := range []*kit.Problem{p1, p2} {
			if p != nil {
				bad = append(bad, p.Errors...)
			}
		}
		// 63 bits, as optionalUint reads ?from: stores keep revisions as
		// signed 64-bit numbers.
		if p2 == nil && key.Next >= 1<<63 {
			bad = append(bad, kit.FieldProblem{Field: "cursor", Reason: "malformed cursor: pass nextCursor as it was given"})
		}
		if _, err := eventstore.ParsePosition(r.URL.Query().Get("after")); err != nil {
			bad = append(bad, kit.FieldProblem{Field: "after", Reason: kit.BadPosition})
		}
		if why := kit.BadText(r.PathValue("stream")); why != "" {
			bad = append(bad, kit.FieldProblem{Field: "stream", Reason: why})
		}
		if bad != nil {
			kit.WriteProblem(w, kit.Invalid(bad...))
			return
		}
		recs, err := store.ReadStream(r.Context(), r.PathValue("stream"), eventstore.ReadStreamOptions{From: max(from, key.Next), Limit: limit + 1})
		if p := streamProblem(err); p != nil {
			kit.WriteProblem(w, p)
			return
		}
		events := make([]streamEvent, 0, len(recs))
		for _, rec := range recs {
			var meta event.Metadata
			_ = json.Unmarshal(rec.Metadata, &meta)
			events = append(events, streamEvent{rec.Revision, rec.Position.String(), rec.Type, rec.Data, meta, rec.RecordedAt.UTC()})
		}
		body := streamBody{Stream: r.PathValue("stream")}
		body.Items, body.NextCursor = kit.Page(events, limit, func(e streamEvent) any { return streamKey{e.Revision + 1, kit.Listed{List: kit.ListOf(r)}} })
		body.Events = body.Items
		kit.WriteJSON(w, http.StatusOK, body)
	}
}

// bound says up to where a replay goes.
type bound struct {
	at       time.Time
	revision *uint64
}

// asOfBound reads the bound of an as-of replay. A time past now is
// refused: the log holds nothing after now, and statuses decided then
// (an invitation expired) would be a forecast, not what the log says.
func asOfBound(r *http.Request, now time.Time) (bound, *kit.Problem) {
	q := r.URL.Query()
	switch {
	case q.Get("revision") != "" && q.Get("at") != "":
		return bound{}, kit.Invalid(kit.FieldProblem{Field: "revision", Reason: "give at or revision, not both"})
	case q.Get("revision") != "":
		n, err := strconv.ParseUint(q.Get("revision"), 10, 64)
		if err != nil {
			return bound{}, kit.Invalid(kit.FieldProblem{Field: "revision", Reason: "a whole number"})
		}
		return bound{at: now, revision: &n}, nil
	case q.Get("at") != "":
		t, err := time.Parse(time.RFC3339, q.Get("at"))
		if err != nil {
			return bound{}, kit.Invalid(kit.FieldProblem{Field: "at", Reason: "an RFC 3339 time"})
		}
		if t.After(now) {
			return bound{}, kit.Invalid(kit.FieldProblem{Field: "at", Reason: "in the future: the log holds nothing past now (" + now.Format(time.RFC3339) + ")"})
		}
		return bound{at: t.UTC()}, nil
	}
	return bound{}, kit.Invalid(kit.FieldProblem{Field: "at", Reason: "give at or revision"})
}

// replay folds the events up to the bound into the aggregate the stream's
// first event names. An event within the bound that does not decode is an
// error: stopping there would show an earlier state as the one asked for.
func replay(recs []eventstore.RecordedEvent, until bound, open event.Transform) (asOfBody, bool, error) {
	var u user.User
	var a account.Account
	var s subscription.Subscription
	var pa partner.Partner
	var body asOfBody
	kind := ""
	for _, rec := range recs {
		if until.revision != nil && rec.Revision > *until.revision {
			break
		}
		e, meta, err := event.DecodeWith(rec.Type, rec.Data, rec.Metadata, open)
		if err != nil {
			if until.revision == nil && json.Unmarshal(rec.Metadata, &meta) == nil && meta.OccurredAt.After(until.at) {
				break // past the bound: not needed
			}
			return body, false, fmt.Errorf("event at revision %d (%s) does not decode: %w", rec.Revision, rec.Type, err)
		}
		if until.revision == nil && meta.OccurredAt.After(until.at) {
			break
		}
		if kind == "" {
			kind = rec.Type
		}
		u.Apply(e)
		a.Apply(e)
		s.Apply(e)
		pa.Apply(e)
		body.Revision, body.At = rec.Revision, meta.OccurredAt
	}
	if until.revision == nil {
		body.At = until.at
	}
	switch {
	case kind == "user.invited":
		body.State = u.Snapshot(body.At)
	case kind == "account.registered":
		body.State = a.Snapshot()
	case kind == "subscription.purchased":
		body.State = s.Snapshot(body.At)
	case kind == "partner.registered":
		body.State = pa.Snapshot()
	default:
		return body, false, nil
	}
	return body, true, nil
}

func optionalUint(r *http.Request, name string, def uint64) (uint64, *kit.Problem) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	// 63 bits: stores keep revisions as signed 64-bit numbers.
	n, err := strconv.ParseUint(v, 10, 63)
	if err != nil {
		return 0, kit.Invalid(kit.FieldProblem{Field: name, Reason: "a whole number below 2^63"})
	}
	return n, nil
}

func streamProblem(err error) *kit.Problem {
	switch {
	case errors.Is(err, eventstore.ErrStreamNotFound):
		return kit.NewProblem(http.StatusNotFound, "not-found", "no such stream")
	case err != nil:
		if p := kit.Unreachable(err); p != nil {
			return p
		}
		return kit.NewProblem(http.StatusInternalServerError, "internal", "reading the stream failed")
	}
	return nil
}
