package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	invopop "github.com/invopop/jsonschema"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/tools/txtar"
	"gopkg.in/yaml.v3"

	"github.com/protogen/protogen/internal/diff"
	"github.com/protogen/protogen/internal/golden"
)

// schemaFileName is the committed schema, in this folder.
const schemaFileName = "protogen.schema.json"

// TestSchemaFile fails when protogen.schema.json is not what the types of
// schema.go make; go test -run TestSchemaFile -update rewrites it.
func TestSchemaFile(t *testing.T) {
	got, err := reflectSchema()
	if err != nil {
		t.Fatal(err)
	}
	if *golden.Update {
		if err := os.WriteFile(schemaFileName, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(schemaFileName)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff.Unified("want/"+schemaFileName, "got/"+schemaFileName, want, got); d != "" {
		t.Errorf("%s is stale: run go generate ./spec (go test ./spec -run TestSchemaFile -update)\n%s", schemaFileName, d)
	}
}

// schemaName names a schema type's definition: schemaFramingKinds is
// FramingKinds.
func schemaName(t reflect.Type) string {
	return strings.TrimPrefix(t.Name(), "schema")
}

type (
	writtenOut interface{ jsonSchema() string }
	extended   interface{ jsonSchemaExtend() string }
)

// reflectSchema builds the JSON Schema from the types of schema.go.
func reflectSchema() ([]byte, error) {
	docs, err := schemaDocs("schema.go")
	if err != nil {
		return nil, err
	}
	defs := make(map[string]*invopop.Schema) // written-out definitions
	var failed error
	r := &invopop.Reflector{
		Anonymous:                  true,
		ExpandedStruct:             true,
		RequiredFromJSONSchemaTags: true,
		Namer:                      schemaName,
		LookupComment: func(t reflect.Type, field string) string {
			if field == "" {
				return docs[t.Name()]
			}
			return docs[t.Name()+"."+field]
		},
		Mapper: func(t reflect.Type) *invopop.Schema {
			w, ok := reflect.Zero(t).Interface().(writtenOut)
			if !ok {
				return nil
			}
			name := schemaName(t)
			if defs[name] == nil {
				s, err := parseSchema(w.jsonSchema())
				if err != nil {
					failed = fmt.Errorf("%s: %v", t.Name(), err)
					return nil
				}
				if s.Description == "" {
					s.Description = docs[t.Name()]
				}
				defs[name] = s
			}
			return &invopop.Schema{Ref: "#/$defs/" + name}
		},
	}
	var root *invopop.Schema
	for _, v := range schemaTypes {
		s := r.Reflect(v)
		if root == nil {
			root = s
			continue
		}
		// A further type: its definition, and those it refers to.
		name := schemaName(reflect.TypeOf(v))
		for k, def := range s.Definitions {
			root.Definitions[k] = def
		}
		s.Definitions, s.Version = nil, ""
		root.Definitions[name] = s
	}
	if failed != nil {
		return nil, failed
	}
	for name, def := range defs {
		root.Definitions[name] = def
	}
	// Keywords that tags cannot express.
	for _, t := range schemaStructs() {
		e, ok := reflect.Zero(t).Interface().(extended)
		if !ok {
			continue
		}
		ext, err := parseSchema(e.jsonSchemaExtend())
		if err != nil {
			return nil, fmt.Errorf("%s: %v", t.Name(), err)
		}
		target := root
		if t != reflect.TypeOf(schemaTypes[0]) {
			target = root.Definitions[schemaName(t)]
		}
		mergeSchema(target, ext)
	}
	root.ID = SchemaURL
	root.Title = "protogen spec"
	root.Comments = "Generated from the types of spec/schema.go by go generate ./spec. Do not edit."
	walkSchema(root, liftNullableDescription)
	data, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// schemaStructs returns the struct types that the schema types reach.
func schemaStructs() []reflect.Type {
	var out []reflect.Type
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t.NumField() == 0 || slices.Contains(out, t) {
			return
		}
		out = append(out, t)
		for i := range t.NumField() {
			walk(t.Field(i).Type)
		}
	}
	for _, v := range schemaTypes {
		walk(reflect.TypeOf(v))
	}
	return out
}

// parseSchema reads a written-out schema, keeping keywords that invopop's
// Schema has no field for (enumDescriptions, for editors) as extras.
func parseSchema(text string) (*invopop.Schema, error) {
	s := new(invopop.Schema)
	if err := json.Unmarshal([]byte(text), s); err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &all); err != nil {
		return nil, err
	}
	known := make(map[string]bool)
	st := reflect.TypeFor[invopop.Schema]()
	for i := range st.NumField() {
		name, _, _ := strings.Cut(st.Field(i).Tag.Get("json"), ",")
		known[name] = true
	}
	for k, v := range all {
		if !known[k] {
			var x any
			if err := json.Unmarshal(v, &x); err != nil {
				return nil, err
			}
			if s.Extras == nil {
				s.Extras = make(map[string]any)
			}
			s.Extras[k] = x
		}
	}
	return s, nil
}

// mergeSchema sets in dst every keyword that src sets.
func mergeSchema(dst, src *invopop.Schema) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := range s.NumField() {
		if s.Type().Field(i).IsExported() && !s.Field(i).IsZero() {
			d.Field(i).Set(s.Field(i))
		}
	}
}

// walkSchema calls fn for s and every schema below it.
func walkSchema(s *invopop.Schema, fn func(*invopop.Schema)) {
	if s == nil {
		return
	}
	fn(s)
	for _, def := range s.Definitions {
		walkSchema(def, fn)
	}
	if s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			walkSchema(p.Value, fn)
		}
	}
	for _, sub := range s.OneOf {
		walkSchema(sub, fn)
	}
	walkSchema(s.Items, fn)
}

// liftNullableDescription moves the description of a nullable property
// ({"oneOf": [{..., "description": d}, {"type": "null"}]}) to the property,
// where editors look for it.
func liftNullableDescription(s *invopop.Schema) {
	if len(s.OneOf) == 2 && s.OneOf[1].Type == "null" && s.Description == "" {
		s.Description, s.OneOf[0].Description = s.OneOf[0].Description, ""
	}
}

// schemaDocs reads the doc comments of the types and fields in file: "T"
// for a type, "T.F" for a field. A type's comment loses its leading "T is"
// ("schemaFlow is a protocol's write-buffer limits" describes Flow as "A
// protocol's write-buffer limits"), and lines are joined into paragraphs.
func schemaDocs(file string) (map[string]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	docs := make(map[string]string)
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			doc := ts.Doc
			if doc == nil && len(gd.Specs) == 1 {
				doc = gd.Doc
			}
			name := ts.Name.Name
			text := strings.TrimPrefix(paragraphs(doc.Text()), name+" ")
			text = strings.TrimPrefix(text, "is ")
			r, size := utf8.DecodeRuneInString(text)
			docs[name] = string(unicode.ToUpper(r)) + text[size:]
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, field := range st.Fields.List {
				for _, n := range field.Names {
					docs[name+"."+n.Name] = paragraphs(field.Doc.Text())
				}
			}
		}
	}
	return docs, nil
}

// paragraphs joins the lines of each paragraph of a comment's text.
func paragraphs(text string) string {
	var out []string
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		out = append(out, strings.Join(strings.Fields(p), " "))
	}
	return strings.Join(out, "\n\n")
}

// The schema's keys are the decoder's: a key that the decoder accepts and
// the schema lacks would be flagged by editors in a valid spec, and a key
// the schema has and the decoder lacks would be completed by editors and
// refused by protogen.
func TestSchemaKeys(t *testing.T) {
	// hintKeys are keys that the decoder lists only to explain a mistake:
	// a protocol's states is refused with a pointer to machine.
	hintKeys := map[reflect.Type][]string{reflect.TypeFor[schemaProtocol](): {"states"}}
	decoderKeys := map[reflect.Type][]string{
		reflect.TypeFor[schemaFile]():             fileKeys,
		reflect.TypeFor[schemaProtocol]():         protocolKeys,
		reflect.TypeFor[schemaField]():            fieldKeys,
		reflect.TypeFor[schemaFlow]():             flowKeys,
		reflect.TypeFor[schemaFramingKinds]():     framingKinds,
		reflect.TypeFor[schemaLineFraming]():      lineKeys,
		reflect.TypeFor[schemaDelimiterFraming](): delimiterKeys,
		reflect.TypeFor[schemaLengthFraming]():    lengthKeys,
		reflect.TypeFor[schemaFixedFraming]():     fixedKeys,
		reflect.TypeFor[schemaMachine]():          machineKeys,
		reflect.TypeFor[schemaTransition]():       transitionKeys,
		reflect.TypeFor[schemaEnum]():             enumKeys,
		reflect.TypeFor[schemaStructType]():       typeKeys,
		reflect.TypeFor[schemaSet]():              setKeys,
		reflect.TypeFor[schemaMessage]():          messageKeys,
		reflect.TypeFor[schemaMessageField]():     messageFieldKeys,
	}
	structs := schemaStructs()
	for _, st := range structs {
		if _, ok := decoderKeys[st]; !ok {
			t.Errorf("schema type %s has no decoder key list in this test", st.Name())
		}
	}
	for st, keys := range decoderKeys {
		if !slices.Contains(structs, st) {
			t.Errorf("schema type %s is not reachable from schemaTypes", st.Name())
		}
		var want []string
		for _, k := range keys {
			if !slices.Contains(hintKeys[st], k) {
				want = append(want, k)
			}
		}
		var got []string
		for i := range st.NumField() {
			name, _, _ := strings.Cut(st.Field(i).Tag.Get("json"), ",")
			got = append(got, name)
		}
		if _, ok := reflect.Zero(st).Interface().(extended); ok && strings.Contains(reflect.Zero(st).Interface().(extended).jsonSchemaExtend(), `"^x-"`) {
			got = append(got, extensionKeys)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema keys %q, decoder keys %q (in the same order, please)", st.Name(), got, want)
		}
	}
}

// The patterns of the schema agree with the decoder on examples of each.
func TestSchemaPatterns(t *testing.T) {
	check := func(name, pattern string, decoderOK func(string) bool, inputs []string) {
		re := regexp.MustCompile(pattern)
		for _, in := range inputs {
			if got, want := re.MatchString(in), decoderOK(in); got != want {
				t.Errorf("%s pattern matches %q: %v; the decoder accepts it: %v", name, in, got, want)
			}
		}
	}
	// The schema cannot say how large a size may be; only the integer
	// form has a maximum.
	check("size", sizePattern, func(s string) bool { _, err := parseSize(s); return err == nil },
		[]string{"0", "65536", "64KiB", "64 KiB", "1MiB", "1GiB", "10B", "64 ", "64KB", "64kib", "1.5MiB", "-1", "", "KiB", "big", " 64"})
	check("duration", durationPattern, func(s string) bool { d, err := time.ParseDuration(s); return err == nil && d > 0 },
		[]string{"30s", "1m30s", "500ms", "1.5h", ".5s", "5.s", "2h45m10s", "1µs", "1μs", "1us", "100ns", "+5s",
			"30", "-1s", "1d", "s", "", "1 s", "thirty seconds", "1.2.3s"})
	isIdent := func(s string) bool { return token.IsIdentifier(s) && s != "_" }
	identInputs := []string{"chat", "Chat", "_x", "x2", "état", "Über", "2x", "my-chat", "a.b", "", "a b", "type", "_"}
	keywordsOut := func(s string) bool { return !slices.Contains(goKeywords, s) && s != "_" }
	check("identifier", identPattern, func(s string) bool { return isIdent(s) || slices.Contains(goKeywords, s) || s == "_" }, identInputs)
	for _, s := range identInputs {
		if keywordsOut(s) == (token.IsKeyword(s) || s == "_") {
			t.Errorf("goKeywords and the blank identifier: %q is a keyword: %v", s, token.IsKeyword(s))
		}
	}
	check("exported identifier", exportedPattern, func(s string) bool { return isIdent(s) && ast.IsExported(s) },
		[]string{"Chat", "Über", "X_1", "chat", "_X", "2X", "Chat Room", ""})
	// The decoder compiles machineNamePattern itself, so the rule is spelled
	// out here independently: an ASCII letter, then ASCII letters, digits
	// and underscores.
	asciiName := func(s string) bool {
		for i, r := range s {
			letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
			if !letter && (i == 0 || r != '_' && (r < '0' || r > '9')) {
				return false
			}
		}
		return s != ""
	}
	check("state or event", machineNamePattern, asciiName, []string{"ready", "auth_wait", "x1", "_a", "1a", "b c", "go!", "été"})
}

// compileSchema compiles the committed schema.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(schemaFileName)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaURL, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaURL)
	if err != nil {
		t.Fatalf("%s does not compile: %v", schemaFileName, err)
	}
	return s
}

// validateYAML validates a YAML document against the schema, as an editor
// would: through the JSON value it holds.
func validateYAML(s *jsonschema.Schema, data []byte) error {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return err
	}
	j, err := json.Marshal(jsonValueOf(v))
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// jsonValueOf turns what yaml.v3 decodes into what JSON can hold.
func jsonValueOf(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = jsonValueOf(e)
		}
		return m
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = jsonValueOf(e)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = jsonValueOf(e)
		}
		return l
	}
	return v
}

// goldenSpecs returns the specs that golden cases pass to -spec, by name,
// and the cases' exit statuses.
func goldenSpecs(t *testing.T) (specs map[string][]byte, exit map[string]int) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "golden", "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden cases (%v)", err)
	}
	specs, exit = make(map[string][]byte), make(map[string]int)
	for _, path := range paths {
		a, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		var args []string
		for _, line := range strings.Split(string(a.Comment), "\n") {
			if v, ok := strings.CutPrefix(line, "args: "); ok {
				args = strings.Fields(v)
			}
			if v, ok := strings.CutPrefix(line, "exit: "); ok {
				n, err := strconv.Atoi(v)
				if err != nil {
					t.Fatalf("%s: bad exit line", path)
				}
				exit[name] = n
			}
		}
		for i, arg := range args {
			if arg != "-spec" || i+1 == len(args) {
				continue
			}
			for _, f := range a.Files {
				if f.Name == args[i+1] {
					specs[name+"/"+f.Name] = f.Data
				}
			}
		}
	}
	return specs, exit
}

// Every spec that protogen accepts validates: those of the golden cases
// that succeed (or find stale files with -check), the examples', and the
// starter spec of protogen -init.
func TestSchemaValidSpecs(t *testing.T) {
	s := compileSchema(t)
	specs, exit := goldenSpecs(t)
	valid := make(map[string][]byte)
	for name, data := range specs {
		if c, _, _ := strings.Cut(name, "/"); exit[c] == 0 || exit[c] == 1 {
			valid[name] = data
		}
	}
	examples, err := filepath.Glob(filepath.Join("..", "generated_example", "*", "*.yaml"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example specs (%v)", err)
	}
	for _, path := range examples {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		valid[path] = data
	}
	if len(valid) < 20 {
		t.Fatalf("only %d valid specs found", len(valid))
	}
	for _, name := range slices.Sorted(maps.Keys(valid)) {
		if _, err := Parse(name, valid[name], Options{DefaultPackage: "p"}); err != nil {
			t.Errorf("%s: protogen refuses it, so it is no test of the schema: %v", name, err)
			continue
		}
		if err := validateYAML(s, valid[name]); err != nil {
			t.Errorf("%s: valid for protogen, invalid for the schema:\n%v", name, err)
		}
	}
}

// Specs that protogen refuses for their shape fail the schema too, at the
// places protogen reports.
func TestSchemaInvalidSpecs(t *testing.T) {
	s := compileSchema(t)
	specs, _ := goldenSpecs(t)
	cases := []struct {
		name string // a golden case's spec, or a spec's text
		want []string
	}{
		{"err_unknown_keys/spec.yaml", []string{"", "/protocols/0", "/protocols/0/fields/0", "/protocols/0/flow"}},
		{"err_yaml_types/spec.yaml", []string{"/version", "/package", "/protocols/0/name", "/protocols/0/doc",
			"/protocols/0/fields", "/protocols/0/hooks", "/protocols/0/nodelay", "/protocols/1",
			"/protocols/2/fields/0", "/protocols/2/fields/1/type", "/protocols/2/hooks/0", "/protocols/2/flow"}},
		{"err_sizes/spec.yaml", []string{"/protocols/0/flow/high_water", "/protocols/1/flow/high_water",
			"/protocols/3/flow/high_water", "/protocols/4/flow/low_water", "/protocols/5/flow", "/protocols/6/flow/high_water"}},
		{"err_timeouts/spec.yaml", []string{"/protocols/0/read_timeout", "/protocols/0/idle_timeout",
			"/protocols/1/idle_timeout", "/protocols/2/read_timeout"}},
		{"err_hooks/spec.yaml", []string{"/protocols/0/hooks/0", "/protocols/0/hooks/2", "/protocols/0/hooks/3", "/protocols/0/hooks"}},
		{"err_names/spec.yaml", []string{"/package", "/protocols/0/name", "/protocols/1/name", "/protocols/2/name",
			"/protocols/3/fields/0/name", "/protocols/3/fields/1/name", "/protocols/3/fields/2/name", "/protocols/3/fields/3"}},
		{"err_framing/spec.yaml", []string{"/protocols/0/framing", "/protocols/1/framing", "/protocols/2/framing",
			"/protocols/3/framing", "/protocols/4/framing", "/protocols/5/framing", "/protocols/7/framing",
			"/protocols/12/framing", "/protocols/13/framing"}},
		{"err_version_unknown/spec.yaml", []string{"/version"}},
		{"err_version_missing/spec.yaml", []string{""}},
		{"version: 1\npackage: p\nprotocols: []\n", []string{"/protocols"}},
		{"version: 1\nprotocols:\n  - name: P\n    machine: {initial: a, states: [a], transitions: [{from: [], on: go, to: a}, {from: a, on: go, to: b c}, {from: a, on: x}]}\n",
			[]string{"/protocols/0/machine/transitions/0/from", "/protocols/0/machine/transitions/1/to", "/protocols/0/machine/transitions/2"}},
		{"version: 1\nprotocols:\n  - name: P\n    machine: {states: [a, a]}\n", []string{"/protocols/0/machine"}},
		{"version: 1\nprotocols:\n  - name: P\n    framing: {fixed: {size: 4}, line: {}}\n", []string{"/protocols/0/framing"}},
		{"version: 1\nprotocols:\n  - name: P\n    framing: {length: {size: 3, endian: middle}}\n", []string{"/protocols/0/framing"}},
		{"version: 1\nprotocols:\n  - name: P\n    states: [a]\n", []string{"/protocols/0"}},
		{"version: 1\nprotocols:\n  - name: P\n    x-note: only at the top level\n", []string{"/protocols/0"}},
	}
	for _, c := range cases {
		data, ok := specs[c.name]
		if !ok {
			if !strings.Contains(c.name, "\n") {
				t.Errorf("no golden spec %s", c.name)
				continue
			}
			data = []byte(c.name)
		}
		err := validateYAML(s, data)
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: validation gave %v, want errors at %q", c.name, err, c.want)
			continue
		}
		got := make(map[string]bool)
		var collect func(e *jsonschema.ValidationError)
		collect = func(e *jsonschema.ValidationError) {
			loc := ""
			for _, tok := range e.InstanceLocation {
				loc += "/" + tok
			}
			got[loc] = true
			for _, c := range e.Causes {
				collect(c)
			}
		}
		collect(ve)
		for _, w := range c.want {
			if !got[w] {
				t.Errorf("%s: no schema error at %q; errors:\n%v", c.name, w, err)
			}
		}
	}
}
