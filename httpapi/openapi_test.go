package httpapi

import (
	"encoding/json"
	"reflect"
	"testing"
)

// An event's data is a json.RawMessage, which encoding/json writes as the
// JSON it holds (an object), not as the []byte it is: its schema admits
// any value, where an array of integers would make a generated client
// refuse every audit answer. A pointer to it stays a schema of any value,
// with no type to add null to.
func TestSchemaOf_a_raw_message_is_any_value(t *testing.T) {
	type withData struct {
		Data  json.RawMessage  `json:"data"`
		Maybe *json.RawMessage `json:"maybe"`
	}
	props := schemaOf(reflect.TypeFor[withData]())["properties"].(map[string]any)
	for _, name := range []string{"data", "maybe"} {
		if s := props[name].(map[string]any); len(s) != 0 {
			t.Errorf("%s: schema %v, want {} (any value)", name, s)
		}
	}
}

// An answer's fields without omitempty are required (encoding/json always
// writes them), promoted ones of an embedded struct too, but not those of
// an embedded pointer, which may be nil and then writes none. A request's
// schema requires nothing: a command names what it misses in its 400.
func TestAnswerSchema_requires_the_fields_always_written(t *testing.T) {
	type Inner struct {
		Count int `json:"count"`
	}
	type Optional struct {
		Extra string `json:"extra"`
	}
	type answer struct {
		Inner
		*Optional
		ID    string   `json:"id"`
		Note  string   `json:"note,omitempty"`
		Maybe *int     `json:"maybe"`
		Tags  []string `json:"tags,omitempty"`
		Plain bool
		skip  int
		Gone  int `json:"-"`
	}
	_ = answer{}.skip
	got, _ := answerSchema(reflect.TypeFor[answer]())["required"].([]string)
	if want := []string{"Plain", "count", "id", "maybe"}; !reflect.DeepEqual(got, want) {
		t.Errorf("required %q, want %q", got, want)
	}
	if r, ok := schemaOf(reflect.TypeFor[answer]())["required"]; ok {
		t.Errorf("a request's schema requires %v", r)
	}
}
