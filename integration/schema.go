package integration

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schemas holds the JSON Schema of every integration type
// (schemas/<type>.json) and of the envelope they share
// (schemas/cloudevent.json). docs/integration.md shows each.
//
//go:embed schemas/*.json
var Schemas embed.FS

// SchemaBase is the $id prefix of every schema.
const SchemaBase = "https://bizcenter.dev/schemas/integration/"

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

func compileAll() {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := fs.Glob(Schemas, "schemas/*.json")
	if err != nil {
		compileErr = err
		return
	}
	for _, f := range files {
		b, _ := Schemas.ReadFile(f)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			compileErr = fmt.Errorf("%s: %w", f, err)
			return
		}
		if err := c.AddResource(SchemaBase+strings.TrimPrefix(f, "schemas/"), doc); err != nil {
			compileErr = fmt.Errorf("%s: %w", f, err)
			return
		}
	}
	compiled = map[string]*jsonschema.Schema{}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "schemas/"), ".json")
		if compiled[name], compileErr = c.Compile(SchemaBase + name + ".json"); compileErr != nil {
			return
		}
	}
}

// Validate checks one event, as JSON, against its type's schema.
func Validate(raw []byte) error {
	compileOnce.Do(compileAll)
	if compileErr != nil {
		return compileErr
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return err
	}
	s, ok := compiled[head.Type]
	if !ok {
		return fmt.Errorf("no schema for type %q", head.Type)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}
