package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/personal"
)

// problemFor maps a command's error to its problem document: the one place
// domain errors become statuses.
func problemFor(err error) *kit.Problem {
	var invalid *domain.ValidationError
	var rule *domain.RuleError
	var p *kit.Problem
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &invalid):
		fields := make([]kit.FieldProblem, len(invalid.Fields))
		for i, f := range invalid.Fields {
			fields[i] = kit.FieldProblem{Field: f.Field, Reason: f.Reason}
		}
		return kit.Invalid(fields...)
	case errors.As(err, &rule):
		return kit.NewProblem(http.StatusUnprocessableEntity, rule.Code, rule.Detail)
	case errors.Is(err, personal.ErrErased):
		// A command reached for a person whose key is gone (one its own
		// rules did not refuse first): nothing can be written for them.
		return kit.NewProblem(http.StatusUnprocessableEntity, "user-erased", "the person's personal data was erased")
	case errors.Is(err, domain.ErrNotFound):
		return kit.NewProblem(http.StatusNotFound, "not-found", err.Error())
	case errors.Is(err, domain.ErrForbidden):
		return kit.NewProblem(http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, eventstore.ErrWrongExpectedRevision):
		// Other requests kept changing the streams this one read (the
		// command tried again a few times): their names and revisions
		// are for the log, not the caller. It decided nothing: Retry-After
		// says so, and keeps it from being kept under an Idempotency-Key.
		p := kit.NewProblem(http.StatusConflict, "conflict", "what this request changes was changed by other requests while it ran; try again")
		p.RetryAfter = 1
		return p
	case errors.Is(err, domain.ErrConflict):
		p := kit.NewProblem(http.StatusConflict, "conflict", err.Error())
		// A conflict that ends by itself (an erasure under way) decided
		// nothing: Retry-After says when to try again, and keeps it from
		// being kept under an Idempotency-Key.
		var later *domain.LaterError
		if errors.As(err, &later) {
			p.RetryAfter = later.RetryAfter
		}
		return p
	case errors.Is(err, context.DeadlineExceeded):
		p := kit.NewProblem(http.StatusServiceUnavailable, "timeout", "the request took too long; try again")
		p.RetryAfter = 1
		return p
	}
	return kit.Unreachable(err)
}

// fail answers a command's error; anything unexpected is a logged 500
// that reveals nothing.
func fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if p := problemFor(err); p != nil {
		kit.WriteProblem(w, p)
		return
	}
	log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	kit.WriteProblem(w, kit.NewProblem(http.StatusInternalServerError, "internal", "something went wrong on our side"))
}
