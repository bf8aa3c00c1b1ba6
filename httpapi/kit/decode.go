package kit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// MaxBody bounds a request body.
const MaxBody = 1 << 20

// DecodeJSON reads a JSON body into dst strictly: unknown fields, wrong
// types, trailing data and oversize bodies are 400s naming the field.
func DecodeJSON(r *http.Request, dst any) *Problem {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return Invalid(FieldProblem{Field: "body", Reason: "Content-Type must be application/json (in UTF-8, if a charset is named)"})
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Invalid(FieldProblem{Field: "body", Reason: "trailing data after the JSON document"})
	}
	return nil
}

// isJSON reports whether a Content-Type names JSON, in UTF-8 if it names
// a charset (JSON is UTF-8; a body said to be Latin-1 would be misread).
func isJSON(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	cs, named := params["charset"]
	return err == nil && mt == "application/json" && (!named || strings.EqualFold(cs, "utf-8"))
}

func decodeProblem(err error) *Problem {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return Invalid(FieldProblem{Field: "body", Reason: "a JSON body is required"})
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return Invalid(FieldProblem{Field: "body", Reason: "malformed JSON"})
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return Invalid(FieldProblem{Field: field, Reason: fmt.Sprintf("must be a %s", jsonKind(typ.Type.Kind().String()))})
	case errors.As(err, &tooBig):
		return Invalid(FieldProblem{Field: "body", Reason: fmt.Sprintf("larger than %d bytes", MaxBody)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Invalid(FieldProblem{Field: name, Reason: "unknown field"})
	default:
		return Invalid(FieldProblem{Field: "body", Reason: "unreadable JSON"})
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	default:
		return "number"
	}
}

// DecodeOptionalJSON is DecodeJSON for a body that may be left out: an
// empty body (whatever its Content-Length says, chunked included) leaves
// dst as it is.
func DecodeOptionalJSON(r *http.Request, dst any) *Problem {
	body := bufio.NewReader(http.MaxBytesReader(nil, r.Body, MaxBody))
	if _, err := body.Peek(1); errors.Is(err, io.EOF) {
		return nil
	}
	r.Body = io.NopCloser(body)
	return DecodeJSON(r, dst)
}
