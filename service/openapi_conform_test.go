package service_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// conforms reports where a JSON answer departs from the schema its route's
// OpenAPI document gives, as a client generated from the document would
// meet it: a property the schema does not declare, a value of another JSON
// type, a required property left out. doc is the whole document, for
// $ref. An empty result: it conforms.
func conforms(doc map[string]any, schema map[string]any, raw []byte) []string {
	if schema == nil {
		return []string{"no schema"}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	var out []string
	conformsAt(doc, schema, v, "$", &out)
	return out
}

func conformsAt(doc, schema map[string]any, v any, at string, out *[]string) {
	if ref, ok := schema["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		components, _ := doc["components"].(map[string]any)
		schemas, _ := components["schemas"].(map[string]any)
		resolved, ok := schemas[name].(map[string]any)
		if !ok {
			*out = append(*out, at+": unresolved $ref "+ref)
			return
		}
		schema = resolved
	}
	var types []string
	switch t := schema["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				types = append(types, s)
			}
		}
	case nil:
		return // any value
	}
	got := jsonType(v)
	if !slices.Contains(types, got) && !(got == "integer" && slices.Contains(types, "number")) {
		*out = append(*out, fmt.Sprintf("%s: %s %s, the document says %v", at, got, short(v), types))
		return
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		extra, _ := schema["additionalProperties"].(map[string]any)
		for _, name := range sortedNames(v) {
			p, ok := props[name].(map[string]any)
			switch {
			case ok:
				conformsAt(doc, p, v[name], at+"."+name, out)
			case extra != nil:
				conformsAt(doc, extra, v[name], at+"."+name, out)
			default:
				*out = append(*out, at+"."+name+": not declared")
			}
		}
		required, _ := schema["required"].([]any)
		for _, r := range required {
			if _, ok := v[r.(string)]; !ok {
				*out = append(*out, fmt.Sprintf("%s.%s: required, missing", at, r))
			}
		}
	case []any:
		items, _ := schema["items"].(map[string]any)
		for i, e := range v {
			conformsAt(doc, items, e, at+"["+strconv.Itoa(i)+"]", out)
		}
	}
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 60 {
		b = append(b[:60], "..."...)
	}
	return string(b)
}

func sortedNames(m map[string]any) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// requestSchema is the schema of a route's JSON request body, nil when the
// document describes none.
func requestSchema(doc map[string]any, method, pattern string) map[string]any {
	path, _ := doc["paths"].(map[string]any)[pattern].(map[string]any)
	op, _ := path[strings.ToLower(method)].(map[string]any)
	body, _ := op["requestBody"].(map[string]any)
	content, _ := body["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	schema, _ := media["schema"].(map[string]any)
	return schema
}
