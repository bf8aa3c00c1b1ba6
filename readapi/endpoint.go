package readapi

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/internal/idn"
)

// errNotFound is an id that is unknown or not visible to the caller: both
// answer 404, so an account's existence is never revealed.
var errNotFound = errors.New("not found")

// viewer is who reads: an active user of an account sees it, an operator
// sees every account.
type viewer struct {
	email    string // as rm_users.email_lower holds emails (idn.FoldEmail)
	operator bool
}

func viewerOf(p kit.Principal) viewer {
	return viewer{email: idn.FoldEmail(p.Email), operator: p.Operator}
}

// endpoint is the one shape of every read handler: check the caller, parse
// the input (every bad field at once), wait for ?after on the projectors
// of the read models the route reads, run one query function, encode its
// answer. The wait comes before the query takes a read slot (query): reads
// waiting for a projector that is behind would otherwise hold every slot
// and starve the reads that need no wait.
func endpoint[In, Out any](d Deps, projectors reads, parse func(*input, kit.Principal) In, run func(context.Context, In) (Out, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := kit.PrincipalFrom(r.Context())
		if !ok {
			kit.WriteProblem(w, kit.NewProblem(http.StatusUnauthorized, "unauthenticated", "a valid bearer token is required"))
			return
		}
		in := &input{r: r, values: r.URL.Query(), reads: projectors}
		for name, vs := range in.values {
			for _, v := range vs {
				if why := kit.BadText(v); why != "" {
					in.fail(name, why)
				}
			}
		}
		after, afterField := in.position()
		req := parse(in, p)
		if len(in.bad) > 0 {
			kit.WriteProblem(w, kit.Invalid(in.bad...))
			return
		}
		if err := d.waitProjectors(r.Context(), after, afterField, in.reads...); err != nil {
			writeError(w, r, err)
			return
		}
		out, err := query(r.Context(), d, func(ctx context.Context) (Out, error) { return run(ctx, req) })
		if err != nil {
			writeError(w, r, err)
			return
		}
		kit.WriteJSON(w, http.StatusOK, out)
	}
}

// writeError maps an error to its problem document, in this one place.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var problem *kit.Problem
	switch {
	case errors.As(err, &problem):
		kit.WriteProblem(w, problem)
	case errors.Is(err, errNotFound):
		kit.WriteProblem(w, kit.NewProblem(http.StatusNotFound, "not-found", "no such resource"))
	default:
		if problem = kit.Unreachable(err); problem != nil {
			kit.WriteProblem(w, problem)
			return
		}
		slog.ErrorContext(r.Context(), "read failed", "method", r.Method, "path", r.URL.Path, "error", err)
		kit.WriteProblem(w, kit.NewProblem(http.StatusInternalServerError, "internal", "the read failed"))
	}
}

// input reads a request's parameters and collects every bad one.
type input struct {
	r      *http.Request
	values url.Values
	bad    []kit.FieldProblem
	reads  reads // the route's, and what the request reads besides (alsoReads)
}

// alsoReads adds a projector that this request reads besides its route's:
// ?after waits for it too.
func (in *input) alsoReads(projector string) {
	if !slices.Contains(in.reads, projector) {
		in.reads = append(slices.Clip(in.reads), projector) // never into the route's array
	}
}

// fail records a bad field; a field is named once, with its first reason.
func (in *input) fail(field, reason string) {
	for _, b := range in.bad {
		if b.Field == field {
			return
		}
	}
	in.bad = append(in.bad, kit.FieldProblem{Field: field, Reason: reason})
}

// pathUUID reads a path parameter that must be a UUID.
func (in *input) pathUUID(name string) uuid.UUID {
	id, err := uuid.Parse(in.r.PathValue(name))
	if err != nil {
		in.fail(name, "must be a UUID")
	}
	return id
}

// intIn reads an integer query parameter within [lo, hi].
func (in *input) intIn(name string, def, lo, hi int) int {
	s := in.values.Get(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		in.fail(name, "must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
		return def
	}
	return n
}

// oneOf reads a query parameter that must be a key of allowed.
func oneOf[V any](in *input, name, def string, allowed map[string]V) (string, V) {
	s := in.values.Get(name)
	if s == "" {
		s = def
	}
	v, ok := allowed[s]
	if !ok {
		in.fail(name, "must be one of "+strings.Join(slices.Sorted(maps.Keys(allowed)), ", "))
	}
	return s, v
}
