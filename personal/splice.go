package personal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"
	fastjson "github.com/segmentio/encoding/json"

	"github.com/bizcenter/bizcenter/domain/event"
)

// member is one name and value at the top of a JSON object: the value is
// data[start:end], as written. The name is compared where it stands in
// the data (plain) unless it had an escape in it (plain is nil, name is
// unescaped): a string of every name of every sealed event a catch-up
// read was half of what opening them allocated.
type member struct {
	plain      []byte
	name       string
	start, end int
}

// is reports whether the member's name is s.
func (m member) is(s string) bool {
	if m.plain == nil {
		return m.name == s
	}
	return string(m.plain) == s
}

// oneOf is the name of names that is the member's; false when none is.
func (m member) oneOf(names []string) (string, bool) {
	for _, n := range names {
		if m.is(n) {
			return n, true
		}
	}
	return "", false
}

// subjectIn is the UUID the member named subject holds, the last of
// duplicate names winning, as for the decoder; uuid.Nil when none holds
// one.
func subjectIn(data []byte, members []member, subject string) uuid.UUID {
	id := uuid.Nil
	for _, m := range members {
		if !m.is(subject) {
			continue
		}
		v := data[m.start:m.end]
		if b, ok := plainBytes(v); ok {
			id, _ = uuid.ParseBytes(b)
		} else {
			s, _ := stringValue(v)
			id, _ = uuid.Parse(s)
		}
	}
	return id
}

// openInPlace opens the sealed personal fields of a payload where they
// stand (see inPlace): catching up, parsing the whole document into a map
// and writing it out again (rewrite) took a third of a projector's
// decoding, and the decoder parses the payload once more anyway.
func openInPlace(pf event.PersonalFields, data []byte, open func(subject uuid.UUID, field, value string) (string, error)) (out []byte, ok bool, err error) {
	return inPlace(pf, data, isSealed, nil, open)
}

func isSealed(value string) bool { return strings.HasPrefix(value, Prefix) }

// inPlace replaces the string values of a payload's personal fields that
// want takes with what f makes of them, where they stand, copying the
// rest as it is, rather than parsing the whole document into a map and
// writing it out again (rewrite). It reads the top level of the object
// only; ok is false for data that is not an object, for the general way
// to decide what to do with it. Like rewrite, it leaves a payload without
// a subject as it is, and calls prepare (when not nil) for the subject of
// any other, before f. A field's error names the field.
func inPlace(pf event.PersonalFields, data []byte, want func(value string) bool, prepare func(subject uuid.UUID) error,
	f func(subject uuid.UUID, field, value string) (string, error)) (out []byte, ok bool, err error) {
	var buf [16]member
	members, ok := topLevel(data, buf[:])
	if !ok {
		return nil, false, nil
	}
	subject := subjectIn(data, members, pf.Subject)
	if subject == uuid.Nil {
		return data, true, nil
	}
	if prepare != nil {
		if err := prepare(subject); err != nil {
			return nil, true, err
		}
	}
	out = make([]byte, 0, len(data)+len(data)/2)
	copied := 0
	for _, m := range members {
		field, ok := m.oneOf(pf.Fields)
		if !ok {
			continue
		}
		value, isString := stringValue(data[m.start:m.end])
		if !isString || !want(value) {
			continue
		}
		changed, err := f(subject, field, value)
		if err != nil {
			return nil, true, fmt.Errorf("%s: %w", field, err)
		}
		// Quoted as encoding/json quotes a string (HTML characters,
		// U+2028 and U+2029 escaped, invalid UTF-8 replaced), without
		// its reflection or a slice of its own.
		out = fastjson.AppendEscape(append(out, data[copied:m.start]...), changed, fastjson.EscapeHTML)
		copied = m.end
	}
	return append(out, data[copied:]...), true, nil
}

// plainString is the content of a JSON string with no escape in it;
// false for any other value.
func plainString(v []byte) (string, bool) {
	b, ok := plainBytes(v)
	return string(b), ok
}

// plainBytes is plainString's content where it stands in v (never nil
// when ok: a slice of v).
func plainBytes(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' || bytes.IndexByte(v, '\\') >= 0 {
		return nil, false
	}
	return v[1 : len(v)-1], true
}

// stringValue is the content of a JSON string value; false for a value of
// any other kind. Our encoder escapes nothing in the values sealed or
// read here, so the unescaping parse is only for others.
func stringValue(v []byte) (string, bool) {
	if s, ok := plainString(v); ok {
		return s, true
	}
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// topLevel lists the members of the JSON object data, appended to buf (a
// caller's array on its stack: this runs for every sealed event, and an
// event has a dozen members or so). It finds where each value ends without
// checking the value itself (the decoder checks the whole payload after);
// false when data is not an object.
func topLevel(data []byte, buf []member) ([]member, bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	i = skipSpace(data, i+1)
	members := buf[:0]
	if i < len(data) && data[i] == '}' {
		return members, skipSpace(data, i+1) == len(data)
	}
	for {
		end, ok := stringEnd(data, i)
		if !ok {
			return nil, false
		}
		m := member{}
		if m.plain, ok = plainBytes(data[i:end]); !ok {
			// A name with an escape; not unmarshalled into m.name, which
			// would move every m to the heap.
			if m.name, ok = stringValue(data[i:end]); !ok {
				return nil, false
			}
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		start := skipSpace(data, i+1)
		if end, ok = valueEnd(data, start); !ok {
			return nil, false
		}
		m.start, m.end = start, end
		members = append(members, m)
		i = skipSpace(data, end)
		switch {
		case i < len(data) && data[i] == ',':
			i = skipSpace(data, i+1)
		case i < len(data) && data[i] == '}':
			return members, skipSpace(data, i+1) == len(data)
		default:
			return nil, false
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index after the string that starts at data[i].
func stringEnd(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// valueEnd is the index after the value that starts at data[i].
func valueEnd(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, ok := stringEnd(data, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	j := i
	for j < len(data) && !bytes.ContainsRune([]byte(",}] \t\n\r"), rune(data[j])) {
		j++
	}
	return j, j > i
}
