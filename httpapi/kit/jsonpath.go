package kit

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// encoding/json names a bad value poorly: by a byte offset, by a Go-flavoured
// field path (an embedded struct's Go name in it, array indexes left out),
// or, when a type decodes itself (a time), not at all. So a bad value is
// named here by walking the body's tokens to it: "products[1].productId".

// jsonValue is one value of a document, or one object key (under the path
// of its value), as walked.
type jsonValue struct {
	path  []any // object keys (string) and array indexes (int) from the root
	start int64 // its first byte in the document
	key   bool
}

// jsonFrame is an open array or object of a walk.
type jsonFrame struct {
	array bool
	index int    // of the current element, in an array
	key   string // of the current member, in an object
	// wantKey: an object's next token is a key.
	wantKey bool
}

// walkJSON visits every value and key of doc in document order until visit
// returns false or the document ends (or turns out malformed).
func walkJSON(doc []byte, visit func(v jsonValue) bool) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var stack []*jsonFrame
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return
		}
		start := before + int64(len(doc[before:])-len(bytes.TrimLeft(doc[before:], " \t\r\n,:")))
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			nextMember(stack)
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].wantKey {
			stack[n-1].key, stack[n-1].wantKey = tok.(string), false
			if !visit(jsonValue{path: pathOf(stack), start: start, key: true}) {
				return
			}
			continue
		}
		if !visit(jsonValue{path: pathOf(stack), start: start}) {
			return
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, &jsonFrame{array: d == '[', wantKey: d == '{'})
			continue
		}
		nextMember(stack)
	}
}

// nextMember moves the innermost open array or object past a value.
func nextMember(stack []*jsonFrame) {
	if n := len(stack); n > 0 {
		if stack[n-1].array {
			stack[n-1].index++
		} else {
			stack[n-1].wantKey = true
		}
	}
}

func pathOf(stack []*jsonFrame) []any {
	path := make([]any, len(stack))
	for i, f := range stack {
		if f.array {
			path[i] = f.index
		} else {
			path[i] = f.key
		}
	}
	return path
}

// fieldName writes a path as the API names fields: "products[1].productId",
// "body" for the document itself.
func fieldName(path []any) string {
	var b strings.Builder
	for _, step := range path {
		switch s := step.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(s) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			if s == "" {
				s = `""` // the empty key, named as it is written
			}
			b.WriteString(s)
		}
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

// fieldAt names the value (or key) that holds byte offset off of doc: the
// last one to start at or before it.
func fieldAt(doc []byte, off int64) string {
	var path []any
	walkJSON(doc, func(v jsonValue) bool {
		if v.start > off {
			return false
		}
		path = v.path
		return true
	})
	return fieldName(path)
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodesItself reports whether t reads its own JSON (a time, a UUID).
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshaler) || p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler)
}

// maxRefused bounds the values refusedValues names: a 1 MiB body of
// half a million numbers where strings go would otherwise be answered
// with half a million problems (28 MB), each found at a cost.
const maxRefused = 100

// refusedValues names every value of doc that does not decode into the
// type it is for (the first maxRefused), in document order, with the
// reason: encoding/json reports only the first (and a type that decodes
// itself, a time, without saying where), where a client should learn of
// every bad field at once. into is the type doc was decoded into.
//
// It walks the document once, the Go type of each value alongside, so
// that its cost is the document's size whatever its depth: a value with
// no type (an unknown field, the members of a type that decodes itself,
// an interface) is passed over whole, and an array or object is judged by
// its kind alone (its members are judged in turn), so that no value is
// decoded more than once.
func refusedValues(doc []byte, into reflect.Type) []FieldProblem {
	w := &refusalWalk{doc: doc, dec: json.NewDecoder(bytes.NewReader(doc)), members: map[reflect.Type]map[string]reflect.Type{}}
	w.dec.UseNumber()
	w.value(into)
	return w.bad
}

// refusalWalk is the state of refusedValues.
type refusalWalk struct {
	doc     []byte
	dec     *json.Decoder
	path    []any // of the value being judged
	bad     []FieldProblem
	members map[reflect.Type]map[string]reflect.Type // memberOf's, by struct type
}

// value judges the document's next value, for type t (nil: none), and
// its members; false once the walk is to end (the document ended or was
// malformed, or maxRefused values are named).
func (w *refusalWalk) value(t reflect.Type) bool {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	off := w.dec.InputOffset()
	rest := bytes.TrimLeft(w.doc[off:], " \t\r\n,:")
	if len(rest) == 0 {
		return false
	}
	if t == nil || t.Kind() == reflect.Interface || rest[0] == 'n' { // null leaves any field as it is
		return w.dec.Decode(&passOver{}) == nil
	}
	object := !decodesItself(t) && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map)
	array := !decodesItself(t) && (t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 || t.Kind() == reflect.Array)
	switch {
	case object && rest[0] != '{':
		return w.refuse("must be an object") && w.dec.Decode(&passOver{}) == nil
	case array && rest[0] != '[':
		return w.refuse("must be an array") && w.dec.Decode(&passOver{}) == nil
	case !object && !array:
		var raw []byte
		if rest[0] != '{' && rest[0] != '[' && !decodesItself(t) {
			// A string, number or boolean for a plain type: most fit.
			start := int64(len(w.doc) - len(rest))
			tok, err := w.dec.Token()
			if err != nil {
				return false
			}
			if fits(tok, t) {
				return true
			}
			raw = w.doc[start:w.dec.InputOffset()]
		} else {
			var whole json.RawMessage
			if w.dec.Decode(&whole) != nil {
				return false
			}
			raw = whole
		}
		err := json.Unmarshal(raw, reflect.New(t).Interface())
		var typ *json.UnmarshalTypeError
		switch {
		case err == nil:
			return true
		case errors.As(err, &typ):
			if typ.Type == reflect.PointerTo(t) { // the value refused whole, as a field of type t would be
				typ = &json.UnmarshalTypeError{Value: typ.Value, Type: t}
			}
			return w.refuse(typeReason(typ))
		}
		return w.refuse(ownReason(t))
	}
	if _, err := w.dec.Token(); err != nil { // { or [
		return false
	}
	for i := 0; w.dec.More(); i++ {
		var mt reflect.Type // a struct's member's is its field's; an array's past its length is dropped
		if t.Kind() != reflect.Struct && (t.Kind() != reflect.Array || i < t.Len()) {
			mt = t.Elem()
		}
		if object {
			tok, err := w.dec.Token()
			key, ok := tok.(string)
			if err != nil || !ok {
				return false
			}
			if t.Kind() == reflect.Struct {
				mt = w.memberOf(t, key)
			}
			w.path = append(w.path, key)
		} else {
			w.path = append(w.path, i)
		}
		ok := w.value(mt)
		w.path = w.path[:len(w.path)-1]
		if !ok {
			return false
		}
	}
	_, err := w.dec.Token() // } or ]
	return err == nil
}

// fits reports whether a string, number or boolean token (as a decoder
// that uses numbers reads it) decodes into plain type t as encoding/json
// decodes it; false when unsure.
func fits(tok json.Token, t reflect.Type) bool {
	switch v := tok.(type) {
	case string:
		return t.Kind() == reflect.String
	case bool:
		return t.Kind() == reflect.Bool
	case json.Number:
		var err error
		switch k := t.Kind(); {
		case k >= reflect.Int && k <= reflect.Int64:
			_, err = strconv.ParseInt(string(v), 10, t.Bits())
		case k >= reflect.Uint && k <= reflect.Uintptr:
			_, err = strconv.ParseUint(string(v), 10, t.Bits())
		case k == reflect.Float32 || k == reflect.Float64:
			_, err = strconv.ParseFloat(string(v), t.Bits())
		default:
			return false
		}
		return err == nil
	}
	return false
}

// refuse names the value being judged, with why; false once maxRefused
// are named.
func (w *refusalWalk) refuse(why string) bool {
	w.bad = append(w.bad, FieldProblem{Field: fieldName(w.path), Reason: why})
	return len(w.bad) < maxRefused
}

// memberOf is memberType, nil for a field whose tag has the string
// option (its value is JSON text inside a string: judged alone, it would
// be refused), remembered for the walk (a body may have many keys).
func (w *refusalWalk) memberOf(t reflect.Type, name string) reflect.Type {
	byName := w.members[t]
	if byName == nil {
		byName = map[string]reflect.Type{}
		w.members[t] = byName
	}
	mt, ok := byName[name]
	if !ok {
		if f, found := member(t, name); found && !slices.Contains(strings.Split(f.Tag.Get("json"), ",")[1:], "string") {
			mt = f.Type
		}
		byName[name] = mt
	}
	return mt
}

// passOver takes any JSON value and keeps nothing of it.
type passOver struct{}

func (*passOver) UnmarshalJSON([]byte) error { return nil }

// typeAt is the Go type the value at path decodes into, starting from t;
// nil when there is none (an unknown field, an interface).
func typeAt(t reflect.Type, path []any) reflect.Type {
	for _, step := range path {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch s := step.(type) {
		case int:
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return nil
			}
			t = t.Elem()
		case string:
			switch t.Kind() {
			case reflect.Map:
				t = t.Elem()
			case reflect.Struct:
				if t = memberType(t, s); t == nil {
					return nil
				}
			default:
				return nil
			}
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// memberType is the type of the struct field an object member decodes
// into, matched as encoding/json does: by json tag or Go name, an exact
// match first, else ignoring case, embedded structs' fields promoted.
func memberType(t reflect.Type, name string) reflect.Type {
	f, ok := member(t, name)
	if !ok {
		return nil
	}
	return f.Type
}

// member is the struct field an object member decodes into (see
// memberType).
func member(t reflect.Type, name string) (reflect.StructField, bool) {
	var folded *reflect.StructField
	for _, f := range reflect.VisibleFields(t) {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || tag == "-" || f.Anonymous && tag == "" {
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if tag == name {
			return f, true
		}
		if folded == nil && strings.EqualFold(tag, name) {
			folded = &f
		}
	}
	if folded == nil {
		return reflect.StructField{}, false
	}
	return *folded, true
}

// unknownMember names the first object member of doc, in document order,
// that no field of the struct its object decodes into takes: the one
// encoding/json refuses first when unknown fields are refused. into is
// the type doc is decoded into.
func unknownMember(doc []byte, into reflect.Type) string {
	field := "body"
	walkJSON(doc, func(v jsonValue) bool {
		if !v.key {
			return true
		}
		parent, name := v.path[:len(v.path)-1], v.path[len(v.path)-1].(string)
		if t := typeAt(into, parent); t != nil && t.Kind() == reflect.Struct {
			if _, ok := member(t, name); !ok {
				field = fieldName(v.path)
				return false
			}
		}
		return true
	})
	return field
}

// repeatedMember names the first object member of doc that sets what an
// earlier member of the same object set: the same key, or, in an object
// decoded into a struct, a key of the same field ("total" and "TOTAL").
// encoding/json keeps the last one without a word, so a body saying two
// things would be read as one of them. into is the type doc is decoded
// into.
func repeatedMember(doc []byte, into reflect.Type) (field string, found bool) {
	seen := map[string]bool{} // object's path + "\x00" + member
	walkJSON(doc, func(v jsonValue) bool {
		if !v.key {
			return true
		}
		parent, name := v.path[:len(v.path)-1], v.path[len(v.path)-1].(string)
		if t := typeAt(into, parent); t != nil && t.Kind() == reflect.Struct {
			// Every key of a struct's object names a visible field
			// (unknown fields are refused first), and visible fields'
			// names are distinct: the field's name stands for its keys.
			if f, ok := member(t, name); ok {
				name = f.Name
			}
		}
		id := fieldName(parent) + "\x00" + name
		if seen[id] {
			field, found = fieldName(v.path), true
			return false
		}
		seen[id] = true
		return true
	})
	return field, found
}
