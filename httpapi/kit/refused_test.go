package kit

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// A value that encoding/json takes is not named, though judged alone it
// would not decode: a raw message's members, a UUID's bytes, a number in
// a string for a field with the string option, a fixed array's elements
// past its length.
func TestDecodeJSON_names_no_value_the_decoder_takes(t *testing.T) {
	type body struct {
		Data  json.RawMessage `json:"data"`
		ID    uuid.UUID       `json:"id"`
		Count int64           `json:"count,string"`
		Pair  [2]int          `json:"pair"`
		N     int             `json:"n"`
	}
	for doc, want := range map[string][]FieldProblem{
		`{"data":[300,"x",{"a":[1]}],"n":"5"}`: {{"n", "must be a whole number"}},
		`{"id":[1,"x"],"n":"5"}`:               {{"id", "must be a valid UUID"}, {"n", "must be a whole number"}},
		`{"count":"5","n":"5"}`:                {{"n", "must be a whole number"}},
		`{"pair":[1,2,"x"],"n":"5"}`:           {{"n", "must be a whole number"}},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(doc))
		var b body
		if p := DecodeJSON(r, &b); p == nil || !slices.Equal(p.Errors, want) {
			t.Errorf("%s: %+v, want %+v", doc, p, want)
		}
	}
}

// A body of half a million bad values is answered with the first
// maxRefused, and one nested thousands deep names its one bad value once.
func TestDecodeJSON_names_at_most_maxRefused_values(t *testing.T) {
	p := decodeBody(t, `{"roles":[`+strings.Repeat("1,", (MaxBody-20)/2-1)+`1]}`)
	if p == nil || len(p.Errors) != maxRefused || p.Errors[maxRefused-1] != (FieldProblem{"roles[99]", "must be a string"}) {
		t.Fatalf("%+v, want the first %d roles named", p, maxRefused)
	}
	if p := decodeBody(t, deepBadBody(5000)); p == nil || !slices.Equal(p.Errors, []FieldProblem{{"email", "must be a string"}}) {
		t.Fatalf("%+v, want email named", p)
	}
}

// deepBadBody is a 1 MiB body whose email is an array nested depth deep,
// full of numbers.
func deepBadBody(depth int) string {
	leaves := (MaxBody - 2*depth - 20) / 2
	return `{"email":` + strings.Repeat("[", depth) + strings.Repeat("1,", leaves-1) + "1" + strings.Repeat("]", depth) + `}`
}

// Naming the bad values of a body should cost about what reading it does,
// however deep it nests: a walk that built each value's path from the
// root took 68 s for this body, nested 9,000 deep.
func BenchmarkDecodeJSON_a_deep_bad_body(b *testing.B) {
	body := deepBadBody(9000)
	for b.Loop() {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		var v testBody
		if p := DecodeJSON(r, &v); p == nil {
			b.Fatal("taken")
		}
	}
}
