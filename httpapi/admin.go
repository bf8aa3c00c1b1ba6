package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/projections"
)

type projectionsBody struct {
	Items []projections.Status `json:"items"`
}

type deadLettersBody struct {
	Items      []projections.DeadLetter `json:"items"`
	NextCursor *string                  `json:"nextCursor"`
}

type resolveBody struct {
	Reason string `json:"reason"`
}

type resolvedBody struct {
	Applied int `json:"applied"`
	// Parked names the letter of a waiting event that failed in its turn
	// (the events behind it still wait); left out when none did.
	Parked int64 `json:"parked,omitempty"`
}

// AdminRoutes declares the operators' routes.
func AdminRoutes(m *projections.Monitor, pool *pgxpool.Pool, projectors map[string]projections.Versioned, log *slog.Logger) []kit.Route {
	resolve := func(skip bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			// Ids count from 1, as the command takes them: -1 was a 404.
			id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
			if err != nil || id <= 0 {
				kit.WriteProblem(w, kit.Invalid(kit.FieldProblem{Field: "id", Reason: "not a dead letter id"}))
				return
			}
			p, ok := projectors[r.PathValue("projector")]
			if !ok {
				kit.WriteProblem(w, kit.NewProblem(http.StatusNotFound, "not-found", "no such projector"))
				return
			}
			var b resolveBody
			if skip {
				if prob := kit.DecodeJSON(r, &b); prob != nil {
					kit.WriteProblem(w, prob)
					return
				}
				reason, why := projections.SkipReason(b.Reason)
				if why != "" {
					kit.WriteProblem(w, kit.Invalid(kit.FieldProblem{Field: "reason", Reason: why}))
					return
				}
				b.Reason = reason
			}
			done, err := projections.Resolve(r.Context(), pool, p, projections.Resolution{ID: id, Skip: skip, By: actor(r).Subject, Reason: b.Reason})
			switch {
			case errors.Is(err, projections.ErrNotParked):
				kit.WriteProblem(w, kit.NewProblem(http.StatusNotFound, "not-found", err.Error()))
			case errors.Is(err, projections.ErrResolved):
				kit.WriteProblem(w, kit.NewProblem(http.StatusConflict, "already-resolved", err.Error()))
			case errors.Is(err, projections.ErrWaiting):
				kit.WriteProblem(w, kit.NewProblem(http.StatusConflict, "waiting-behind", err.Error()))
			case errors.Is(err, projections.ErrOtherRelease):
				kit.WriteProblem(w, kit.NewProblem(http.StatusConflict, "other-release", err.Error()))
			case errors.Is(err, projections.ErrStillFailing):
				kit.WriteProblem(w, kit.NewProblem(http.StatusConflict, "still-failing", err.Error()))
			case err != nil: // the database away (503), or a fault of ours
				fail(w, r, log, err)
			default:
				kit.WriteJSON(w, http.StatusOK, resolvedBody{Applied: done.Applied, Parked: done.Parked})
			}
		}
	}
	return []kit.Route{{
		Method: http.MethodGet, Path: "/v1/admin/dead-letters", Access: kit.Operator,
		Summary:  "Events projectors parked after retries, and those waiting behind them, open ones first",
		Response: deadLettersBody{}, Success: http.StatusOK, Statuses: []int{400, 401, 403},
		Query: map[string]string{"limit": "page size, 1 to 500 (default 50)", "cursor": "nextCursor of the previous page"},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			var after projections.DeadLetterKey
			limit, problem := kit.PageQuery(r, &after)
			if problem != nil {
				kit.WriteProblem(w, problem)
				return
			}
			items, more, err := projections.ListDeadLetters(r.Context(), pool, after, limit)
			if err != nil {
				fail(w, r, log, err)
				return
			}
			body := deadLettersBody{Items: nonNilSlice(items)}
			if more {
				body.NextCursor = new(kit.EncodeCursor(items[len(items)-1].PageKey()))
			}
			kit.WriteJSON(w, http.StatusOK, body)
		},
	}, {
		Method: http.MethodPost, Path: "/v1/admin/dead-letters/{projector}/{id}/retry", Access: kit.Operator,
		Summary:  "Apply a parked event again, then the events of its stream waiting behind it",
		Response: resolvedBody{}, Success: http.StatusOK, Statuses: []int{400, 401, 403, 404, 409},
		Handler: resolve(false),
	}, {
		Method: http.MethodPost, Path: "/v1/admin/dead-letters/{projector}/{id}/skip", Access: kit.Operator,
		Summary: "Skip a parked event (recording who and why), then apply the events waiting behind it",
		Request: resolveBody{}, Response: resolvedBody{}, Success: http.StatusOK, Statuses: []int{400, 401, 403, 404, 409},
		Handler: resolve(true),
	}, {
		Method: http.MethodGet, Path: "/v1/admin/projections", Access: kit.Operator,
		Summary:  "Per projector: version, build, checkpoint, head, lag in events and seconds, state (catching_up, live, stalled, failing), leader",
		Response: projectionsBody{},
		Success:  http.StatusOK,
		Statuses: []int{401, 403},
		Handler: func(w http.ResponseWriter, _ *http.Request) {
			kit.WriteJSON(w, http.StatusOK, projectionsBody{Items: m.Snapshot()})
		},
	}}
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
