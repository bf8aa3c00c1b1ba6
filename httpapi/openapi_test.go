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
