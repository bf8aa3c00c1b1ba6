package httpapi

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

var pathParam = regexp.MustCompile(`\{([A-Za-z0-9_]+)\.{0,3}\}`)

func (s *Server) openAPIRoute() kit.Route {
	return kit.Route{
		Method: http.MethodGet, Path: "/v1/openapi.json", Summary: "This document: every route of the API",
		Access: kit.Anyone, Success: http.StatusOK, Response: map[string]any{},
		Handler: func(w http.ResponseWriter, _ *http.Request) { kit.WriteJSON(w, http.StatusOK, s.OpenAPI()) },
	}
}

// OpenAPI builds the OpenAPI 3.1 document of every mounted route.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]map[string]any{}
	for _, r := range s.routes {
		if paths[r.Path] == nil {
			paths[r.Path] = map[string]any{}
		}
		op := operation(r)
		if s.keys != nil && takesIdempotencyKey(r) {
			describeIdempotencyKey(op)
		}
		paths[r.Path][strings.ToLower(r.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "bizcenter",
			"version": "1",
			"description": "Business center for volume licensing. Errors are application/problem+json (RFC 9457). " +
				"Commands answer with an opaque position; read routes accept ?after=<position> to read their own writes. " +
				"Every route takes a W3C traceparent header (else X-Request-ID): its trace id becomes the events' correlation id, " +
				"echoed in X-Request-ID. Any route that needs the database or the event store answers 503 (type unavailable, " +
				"with Retry-After) while it cannot be reached, whether or not the route lists 503.",
		},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
			"schemas":         map[string]any{"Problem": answerSchema(reflect.TypeFor[kit.Problem]())},
		},
	}
}

func operation(r kit.Route) map[string]any {
	op := map[string]any{"summary": r.Summary, "description": "Access: " + string(r.Access) + "."}
	var params []map[string]any
	for _, m := range pathParam.FindAllStringSubmatch(r.Path, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	for _, name := range sortedKeys(r.Query) {
		params = append(params, map[string]any{"name": name, "in": "query", "description": r.Query[name], "schema": map[string]any{"type": "string"}})
	}
	for _, name := range sortedKeys(r.Headers) {
		params = append(params, map[string]any{"name": name, "in": "header", "description": r.Headers[name], "schema": map[string]any{"type": "string"}})
	}
	if params != nil {
		op["parameters"] = params
	}
	if r.Access != kit.Anyone {
		op["security"] = []map[string]any{{"bearer": []string{}}}
	}
	if r.Request != nil {
		// A body that command reads as {} when it is left out
		// (mayBeLeftOut) is optional, as one its route declares so is.
		_, leftOut := r.Request.(mayBeLeftOut)
		op["requestBody"] = map[string]any{"required": !r.OptionalBody && !leftOut, "content": map[string]any{
			"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(r.Request))},
		}}
	}
	success := map[string]any{"description": http.StatusText(r.Success)}
	if r.Response != nil {
		success["content"] = map[string]any{"application/json": map[string]any{"schema": answerSchema(reflect.TypeOf(r.Response))}}
	}
	responses := map[string]any{strconv.Itoa(r.Success): success}
	problem := map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}
	// Every mounted route may answer 400: queryTaken refuses a query
	// parameter it does not take, or one that does not parse, before
	// anything else, on /healthz as on a command.
	for _, st := range append([]int{http.StatusBadRequest}, r.Statuses...) {
		responses[strconv.Itoa(st)] = map[string]any{"description": http.StatusText(st), "content": problem}
	}
	op["responses"] = responses
	return op
}

// describeIdempotencyKey adds the Idempotency-Key header to a command
// route's operation, with the answers it brings: 400 for a malformed key,
// 409 while the first request with it runs, 422 for a key reused on
// another request.
func describeIdempotencyKey(op map[string]any) {
	params, _ := op["parameters"].([]map[string]any)
	op["parameters"] = append(params, map[string]any{
		"name": IdempotencyHeader, "in": "header",
		"description": "1 to 255 printable ASCII characters: the same key, method, path and body answer as the first time; " +
			"a 400 or 5xx is not kept, so the request may be corrected or retried with the same key (docs/operations.md)",
		"schema": map[string]any{"type": "string"},
	})
	responses := op["responses"].(map[string]any)
	problem := map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}
	for _, st := range []int{http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity} {
		if responses[strconv.Itoa(st)] == nil {
			responses[strconv.Itoa(st)] = map[string]any{"description": http.StatusText(st), "content": problem}
		}
	}
}

var (
	timeType = reflect.TypeFor[time.Time]()
	uuidType = reflect.TypeFor[uuid.UUID]()
	// A json.RawMessage is a []byte, which reflection sees as an array of
	// integers; encoding/json writes it as the JSON it holds (an event's
	// data: an object), so its schema is any value.
	rawType = reflect.TypeFor[json.RawMessage]()
)

// schemaOf describes a Go type as JSON Schema, following json tags: a
// request body's, whose fields are all optional to the schema (what a
// command requires, it names in its 400).
func schemaOf(t reflect.Type) map[string]any { return describe(t, false) }

// answerSchema describes a Go type an answer is written from: each field
// without omitempty is required, for encoding/json always writes it (a
// nil pointer as null). A generated client can then read such a field
// without a presence check.
func answerSchema(t reflect.Type) map[string]any { return describe(t, true) }

func describe(t reflect.Type, answer bool) map[string]any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case uuidType:
		return map[string]any{"type": "string", "format": "uuid"}
	case rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := describe(t.Elem(), answer)
		if s["type"] != nil { // a schema of any value admits null already
			s["type"] = []any{s["type"], "null"}
		}
		return s
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": describe(t.Elem(), answer)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": describe(t.Elem(), answer)}
	case reflect.Struct:
		return describeStruct(t, answer)
	}
	return map[string]any{}
}

func describeStruct(t reflect.Type, answer bool) map[string]any {
	props, required := map[string]any{}, []string{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if embedded := f.Type; f.Anonymous && name == "" {
			// encoding/json promotes an embedded struct's fields, an
			// unexported struct's too.
			if embedded.Kind() == reflect.Pointer {
				embedded = embedded.Elem()
			}
			if embedded.Kind() == reflect.Struct {
				inner := describeStruct(embedded, answer)
				maps.Copy(props, inner["properties"].(map[string]any))
				if r, ok := inner["required"].([]string); ok && f.Type.Kind() != reflect.Pointer {
					required = append(required, r...)
				}
				continue
			}
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = describe(f.Type, answer)
		if answer && !slices.Contains(strings.Split(opts, ","), "omitempty") {
			required = append(required, name)
		}
	}
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		slices.Sort(required)
		s["required"] = required
	}
	return s
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
