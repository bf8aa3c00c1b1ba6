package httpapi

import (
	"log/slog"
	"net/http"
	"reflect"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// ids are a request's UUID path parameters, by name.
type ids map[string]uuid.UUID

// noBody is the body type of routes that take none.
type noBody struct{}

// mayBeLeftOut is a body some of whose requests need no field: left out,
// it reads as {}, and the command names what it misses.
type mayBeLeftOut interface{ mayBeLeftOut() }

// command is the one shape of the later command routes: parse the named
// UUID path parameters and the JSON body (every bad one a 400 naming it),
// run the command, answer status and body, or the command's error.
func command[B any](log *slog.Logger, params []string, run func(r *http.Request, id ids, b B) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := ids{}
		var bad []kit.FieldProblem
		for _, name := range params {
			v, err := uuid.Parse(r.PathValue(name))
			if err != nil {
				bad = append(bad, kit.FieldProblem{Field: name, Reason: "not a UUID"})
			}
			id[name] = v
		}
		if len(bad) > 0 {
			kit.WriteProblem(w, kit.Invalid(bad...))
			return
		}
		var b B
		if reflect.TypeFor[B]() != reflect.TypeFor[noBody]() {
			decode := kit.DecodeJSON
			if _, ok := any(b).(mayBeLeftOut); ok {
				decode = kit.DecodeOptionalJSON
			}
			if p := decode(r, &b); p != nil {
				kit.WriteProblem(w, p)
				return
			}
		}
		status, out, err := run(r, id, b)
		if err != nil {
			fail(w, r, log, err)
			return
		}
		kit.WriteJSON(w, status, out)
	}
}

// bodyID parses a UUID from a body field, naming the field when it is not
// one; an empty optional field is nil.
func bodyID(field, s string, optional bool) (*uuid.UUID, *kit.FieldProblem) {
	if s == "" && optional {
		return nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return nil, &kit.FieldProblem{Field: field, Reason: "must be a UUID"}
	}
	return &id, nil
}

// positionBody answers a command that only moves the log.
type positionBody struct {
	Position string `json:"position"`
}
