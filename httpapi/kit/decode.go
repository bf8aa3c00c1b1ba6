package kit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxBody bounds a request body.
const MaxBody = 1 << 20

// DecodeJSON reads a JSON body into dst strictly: unknown fields, wrong
// types, text that is not UTF-8, trailing data and oversize bodies are
// 400s naming the field.
func DecodeJSON(r *http.Request, dst any) *Problem {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return Invalid(FieldProblem{Field: "body", Reason: "Content-Type must be application/json (in UTF-8, if a charset is named)"})
	}
	// The body is read whole so that a bad value can be found in it again
	// to be named (jsonpath.go).
	doc, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return Invalid(FieldProblem{Field: "body", Reason: fmt.Sprintf("larger than %d bytes", MaxBody)})
	}
	if err != nil {
		return Invalid(FieldProblem{Field: "body", Reason: "unreadable body"})
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(doc, reflect.TypeOf(dst), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Invalid(FieldProblem{Field: "body", Reason: "trailing data after the JSON document"})
	}
	// encoding/json turns bytes that are not UTF-8 into U+FFFD: the text
	// would be stored changed.
	if off := invalidUTF8(doc); off >= 0 {
		return Invalid(FieldProblem{Field: fieldAt(doc, int64(off)), Reason: "is not valid UTF-8"})
	}
	// So does an escaped UTF-16 surrogate without its other half.
	if off := loneSurrogate(doc); off >= 0 {
		return Invalid(FieldProblem{Field: fieldAt(doc, int64(off)), Reason: "holds a \\u escape of half a UTF-16 surrogate pair"})
	}
	if !mayRepeat(doc) {
		return nil
	}
	if field, found := repeatedMember(doc, reflect.TypeOf(dst)); found {
		return Invalid(FieldProblem{Field: field, Reason: "given twice in one object (keys match ignoring case)"})
	}
	return nil
}

// loneSurrogate is the offset of the first \u escape in b of a UTF-16
// surrogate that is not half of a pair, or -1. (Called on a document that
// decoded: every \u is followed by four hex digits.)
func loneSurrogate(b []byte) int {
	for i := 0; i+6 <= len(b); i++ {
		switch {
		case b[i] != '\\':
			continue
		case b[i+1] != 'u':
			i++ // an escaped character, perhaps a backslash
			continue
		}
		r := escaped(b[i:])
		if !utf16.IsSurrogate(r) {
			i += 5
			continue
		}
		if utf16.DecodeRune(r, escaped(b[i+6:])) == unicode.ReplacementChar {
			return i
		}
		i += 11
	}
	return -1
}

// escaped is the UTF-16 code unit of the \uXXXX at the start of b, or -1.
func escaped(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	n, err := strconv.ParseUint(string(b[2:6]), 16, 16)
	if err != nil {
		return -1
	}
	return rune(n)
}

// invalidUTF8 is the offset of the first byte of b that is not UTF-8, or -1.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// isJSON reports whether a Content-Type names JSON, in UTF-8 if it names
// a charset (JSON is UTF-8; a body said to be Latin-1 would be misread).
func isJSON(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	cs, named := params["charset"]
	return err == nil && mt == "application/json" && (!named || strings.EqualFold(cs, "utf-8"))
}

// decodeProblem names what err, from decoding doc into a value of type
// into, found wrong.
func decodeProblem(doc []byte, into reflect.Type, err error) *Problem {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return Invalid(FieldProblem{Field: "body", Reason: "a JSON body is required"})
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return Invalid(FieldProblem{Field: "body", Reason: "malformed JSON"})
	case errors.As(err, &typ):
		if bad := refusedValues(doc, into); len(bad) > 0 {
			return Invalid(bad...)
		}
		// Offset is just past the bad literal, or just inside the bad
		// array or object: the byte before it is in the value.
		return Invalid(FieldProblem{Field: fieldAt(doc, typ.Offset-1), Reason: typeReason(typ)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// The error holds the key alone, Go-quoted: named here by its
		// path ("products[1].servicePlan"), as every other field is.
		return Invalid(FieldProblem{Field: unknownMember(doc, into), Reason: "unknown field"})
	}
	// Any other error comes from a type that decodes itself (a time).
	if bad := refusedValues(doc, into); len(bad) > 0 {
		return Invalid(bad...)
	}
	return Invalid(FieldProblem{Field: "body", Reason: "unreadable JSON"})
}

// typeReason says what a value of the wrong type should have been.
func typeReason(e *json.UnmarshalTypeError) string {
	t := e.Type
	switch {
	case decodesItself(t):
		return ownReason(t)
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return wholeReason(t, e.Value)
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		if strings.HasPrefix(e.Value, "number") {
			return "must be a number within range"
		}
	}
	return "must be " + jsonKind(t.Kind())
}

// wholeReason says why a number does not fit an integer type: not whole,
// out of the type's range, or written with an exponent (1e2).
func wholeReason(t reflect.Type, value string) string {
	f, ok := new(big.Float).SetString(strings.TrimPrefix(value, "number "))
	if !ok || !f.IsInt() {
		return "must be a whole number"
	}
	unused := 64 - t.Bits()
	lo, hi := new(big.Float), new(big.Float).SetUint64(math.MaxUint64>>unused)
	if t.Kind() <= reflect.Int64 {
		lo, hi = lo.SetInt64(math.MinInt64>>unused), hi.SetInt64(math.MaxInt64>>unused)
	}
	if f.Cmp(lo) < 0 || f.Cmp(hi) > 0 {
		return "must be a whole number from " + lo.Text('f', 0) + " to " + hi.Text('f', 0)
	}
	return "must be a whole number written without a fraction or exponent"
}

var timeType = reflect.TypeFor[time.Time]()

// ownReason says what a type that decodes itself wants.
func ownReason(t reflect.Type) string {
	if t == timeType {
		return "must be an RFC 3339 time, like 2026-05-01T08:00:00Z"
	}
	return "must be a valid " + t.Name()
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Bool:
		return "a boolean"
	default:
		return "a number"
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
