package api_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/remit/remit/api"
)

// TestOpenAPIMatchesRoutes fails when a registered route is missing from the
// document, or the document names a route the server does not have.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPIJSON, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	s := api.NewServer(api.DefaultConfig(), api.Deps{Logger: slog.New(slog.DiscardHandler)})
	registered := map[string]bool{}
	for _, r := range s.Routes() {
		registered[r.Method+" "+r.Path] = true
	}
	var missing, extra []string
	for r := range registered {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !registered[r] {
			extra = append(extra, r)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("api/openapi.yaml is out of date.\nregistered but not documented: %v\ndocumented but not registered: %v", missing, extra)
	}
	if len(registered) < 5 {
		t.Fatalf("only %d routes registered", len(registered))
	}
}

// TestOpenAPIDocumentIsValid loads the served document with kin-openapi and
// validates it; every operation must have a unique operationId, and no
// mapping may hold a key with a null value (the trace of an unquoted comma
// in a one-line `{description: a, b}`).
func TestOpenAPIDocumentIsValid(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPIJSON)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("api/openapi.yaml: %v", err)
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
				continue
			}
			if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share operationId %q", where, other, op.OperationID)
			}
			ids[op.OperationID] = where
		}
	}
	var raw any
	if err := json.Unmarshal(api.OpenAPIJSON, &raw); err != nil {
		t.Fatal(err)
	}
	for _, p := range nullKeys("", raw) {
		t.Errorf("api/openapi.yaml: %s is null (an unquoted comma in a one-line mapping?)", p)
	}
}

// nullKeys lists the JSON pointers of every mapping key whose value is null.
func nullKeys(at string, v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				out = append(out, at+"/"+k)
			}
			out = append(out, nullKeys(at+"/"+k, e)...)
		}
	case []any:
		for i, e := range v {
			out = append(out, nullKeys(at+"/"+strconv.Itoa(i), e)...)
		}
	}
	return out
}

// TestOpenAPIErrorCodes fails when an error code constant of domain (an
// E... string constant) or of the api package is missing from the
// document's ErrorCode enum, or the enum names a code nothing sends.
func TestOpenAPIErrorCodes(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIJSON)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, v := range doc.Components.Schemas["ErrorCode"].Value.Enum {
		documented[v.(string)] = true
	}
	// The api package answers 405 itself, outside domain's codes.
	sent := map[string]bool{"method_not_allowed": true}
	fset := token.NewFileSet()
	files, err := filepath.Glob("../domain/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !errorConst.MatchString(n.Name) || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						code, _ := strconv.Unquote(lit.Value)
						sent[code] = true
					}
				}
			}
		}
	}
	if len(sent) < 20 {
		t.Fatalf("found only %d codes in domain: %v", len(sent), sent)
	}
	for code := range sent {
		if !documented[code] {
			t.Errorf("error code %q is sent but not in the ErrorCode enum of api/openapi.yaml", code)
		}
	}
	for code := range documented {
		if !sent[code] {
			t.Errorf("ErrorCode %q is documented but no constant defines it", code)
		}
	}
}

// errorConst matches the names of domain's error code constants.
var errorConst = regexp.MustCompile(`^E[A-Z]+$`)

// TestOpenAPIResponseHeaders: every answer carries X-Request-Id, and any
// answer to a POST that takes an Idempotency-Key may be a replay, so every
// response object must declare them.
func TestOpenAPIResponseHeaders(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIJSON)
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			idempotent := false
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.Name == "Idempotency-Key" {
					idempotent = true
				}
			}
			for status, r := range op.Responses.Map() {
				want := []string{"X-Request-Id"}
				if idempotent {
					want = append(want, "Idempotent-Replayed")
				}
				for _, h := range want {
					if _, ok := r.Value.Headers[h]; !ok {
						t.Errorf("%s %s %s does not declare %s", method, path, status, h)
					}
				}
			}
		}
	}
}
