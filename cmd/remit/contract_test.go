package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/remit/remit/api"
)

// The end-to-end tests hold the server to api/openapi.yaml: every request
// they send through contractTransport and every answer it gets are checked
// against the document with kin-openapi's openapi3filter, and one mismatch
// fails the test.
//
// The rules:
//   - A request the document accepts gets an answer the document describes:
//     a documented status (or the default), the documented content type, a
//     body that matches its schema, and only documented headers among
//     X-Request-Id, Idempotent-Replayed, Retry-After, ETag and
//     Content-Disposition.
//   - A request the document refuses (a bad body, a missing API key, an
//     unknown route) must be refused by the server too, with a 4xx that the
//     document describes. Tests of bad input send such requests on purpose.
//   - Response objects are read strictly: an object schema that lists its
//     properties and says nothing of others is taken as closed, so a field
//     the server sends and the document does not name fails the test. The
//     document itself leaves them open, so that adding a field to an answer
//     does not break a client.
//   - A body that is not JSON (PDF, CSV, YAML, text) is checked by its
//     content type; a body where the document describes none fails.
//   - What Remit POSTs to the tests' webhook receivers is checked against
//     the document's webhooks section (checkWebhookDelivery).

// contract is the document prepared for checking, loaded once.
var contract struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// checkedHeaders are the response headers that the document must declare
// wherever the server sends them.
var checkedHeaders = []string{"X-Request-Id", "Idempotent-Replayed", "Retry-After", "ETag", "Content-Disposition"}

// loadContract returns the document, validated and with its objects
// closed (closeObjects), and a router over its paths.
func loadContract() (*openapi3.T, routers.Router, error) {
	contract.once.Do(func() {
		openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
		doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPIJSON)
		if err != nil {
			contract.err = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			contract.err = fmt.Errorf("api/openapi.yaml: %w", err)
			return
		}
		doc.Servers = nil // match any host: the test servers listen on random ports
		closeObjects(doc)
		contract.doc = doc
		contract.router, contract.err = gorillamux.NewRouter(doc)
	})
	return contract.doc, contract.router, contract.err
}

// closeObjects makes every object schema that lists its properties and says
// nothing of others refuse unlisted properties. An allOf of open objects is
// first merged into one object, since each member would refuse the others'
// properties; an allOf with a closed member is left as the document says.
func closeObjects(doc *openapi3.T) {
	forEachSchema(doc, mergeAllOf)
	forEachSchema(doc, func(s *openapi3.Schema) {
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			closed := false
			s.AdditionalProperties.Has = &closed
		}
	})
}

// forEachSchema calls f once on every schema of doc, outer before inner.
func forEachSchema(doc *openapi3.T, f func(*openapi3.Schema)) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		f(s)
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, m := range list {
				walk(m)
			}
		}
	}
	for _, ref := range doc.Components.Schemas {
		walk(ref)
	}
	for _, r := range doc.Components.Responses {
		for _, mt := range r.Value.Content {
			walk(mt.Schema)
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema)
				}
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					for _, mt := range r.Value.Content {
						walk(mt.Schema)
					}
				}
			}
		}
	}
}

// mergeAllOf turns s = allOf of open objects into one object with all
// their properties.
func mergeAllOf(s *openapi3.Schema) {
	if len(s.AllOf) < 2 {
		return
	}
	props := openapi3.Schemas{}
	var required []string
	for _, m := range s.AllOf {
		v := m.Value
		if v == nil || len(v.Properties) == 0 || v.AdditionalProperties.Has != nil || v.AdditionalProperties.Schema != nil {
			return
		}
		for k, p := range v.Properties {
			props[k] = p
		}
		required = append(required, v.Required...)
	}
	s.AllOf = nil
	s.Type = &openapi3.Types{openapi3.TypeObject}
	s.Properties = props
	s.Required = required
}

// contractTransport checks each exchange against the document and reports
// a mismatch as a test error.
type contractTransport struct {
	tb   testing.TB
	base http.RoundTripper
}

// contractTBKey is the context key of withContractTB.
type contractTBKey struct{}

// withContractTB makes a contractTransport report a mismatch of a request
// with ctx to tb rather than to the test that started the server (a fuzz
// target must report to its own t).
func withContractTB(ctx context.Context, tb testing.TB) context.Context {
	return context.WithValue(ctx, contractTBKey{}, tb)
}

// contractClient wraps client's transport (http.DefaultTransport if none)
// in a contractTransport.
func contractClient(tb testing.TB, client *http.Client) *http.Client {
	c := *client
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = contractTransport{tb: tb, base: base}
	return &c
}

func (t contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return resp, nil // the caller sees the short body and fails
	}
	if err := checkExchange(req, reqBody, resp, respBody); err != nil {
		tb := t.tb
		if rtb, ok := req.Context().Value(contractTBKey{}).(testing.TB); ok {
			tb = rtb
		}
		tb.Errorf("openapi contract: %s %s -> %d: %v\nrequest: %.500s\nresponse: %.1000s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, err, reqBody, respBody)
	}
	return resp, nil
}

// checkExchange holds one request and its answer to the document.
func checkExchange(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	doc, router, err := loadContract()
	if err != nil {
		return err
	}
	ctx := context.Background()
	refused := resp.StatusCode >= 400 && resp.StatusCode < 500
	route, params, err := router.FindRoute(req)
	if err != nil {
		if !refused {
			return fmt.Errorf("the document has no such operation (%v), yet the server answered %d", err, resp.StatusCode)
		}
		return checkErrorBody(ctx, doc, resp, respBody)
	}
	clone := req.Clone(ctx)
	clone.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{
		Request:    clone,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:  bearerPresent,
			SkipSettingDefaults: true,
		},
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && !refused {
		return fmt.Errorf("the document refuses this request, yet the server answered %d: %w", resp.StatusCode, err)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return err
	}
	if err := checkBodyDocumented(route.Operation, resp, respBody); err != nil {
		return err
	}
	return checkHeaders(route.Operation, resp)
}

// checkBodyDocumented fails when an answer has a body and its response
// object has no content: openapi3filter would not look at the body at all.
func checkBodyDocumented(op *openapi3.Operation, resp *http.Response, body []byte) error {
	r := op.Responses.Status(resp.StatusCode)
	if r == nil {
		r = op.Responses.Default()
	}
	if len(body) > 0 && r != nil && r.Value != nil && len(r.Value.Content) == 0 {
		return fmt.Errorf("response %d has a %s body, and the document describes none", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return nil
}

// checkErrorBody checks an answer to a request the document has no
// operation for: a JSON Error.
func checkErrorBody(ctx context.Context, doc *openapi3.T, resp *http.Response, body []byte) error {
	if len(body) == 0 && resp.StatusCode == http.StatusMethodNotAllowed {
		return nil
	}
	op := &openapi3.Operation{Responses: openapi3.NewResponses(openapi3.WithName("default", doc.Components.Responses["Error"].Value))}
	route := &routers.Route{Spec: doc, Operation: op, Method: "GET", Path: "/"}
	r, _ := http.NewRequest("GET", "/", nil)
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return err
	}
	return checkHeaders(op, resp)
}

// checkHeaders fails when the answer carries one of checkedHeaders that its
// response object does not declare.
func checkHeaders(op *openapi3.Operation, resp *http.Response) error {
	r := op.Responses.Status(resp.StatusCode)
	if r == nil {
		r = op.Responses.Default()
	}
	if r == nil || r.Value == nil {
		return fmt.Errorf("status %d is not documented", resp.StatusCode)
	}
	var missing []string
	for _, h := range checkedHeaders {
		if resp.Header.Get(h) == "" {
			continue
		}
		declared := false
		for name := range r.Value.Headers {
			if strings.EqualFold(name, h) {
				declared = true
			}
		}
		if !declared {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("response %d sends headers it does not declare: %v", resp.StatusCode, missing)
	}
	return nil
}

// bearerPresent is the document's bearer scheme as far as the document can
// say: an Authorization header of the form "Bearer <token>".
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if token, ok := strings.CutPrefix(h, "Bearer "); !ok || token == "" {
		return errors.New("no bearer token")
	}
	return nil
}

// TestContractCheckCatchesMismatches proves the check is not a no-op: an
// answer with an undocumented field, a wrong type or an undeclared header
// fails, and so does a request the document refuses that the server takes.
func TestContractCheckCatchesMismatches(t *testing.T) {
	get := func(path string) *http.Request {
		r, _ := http.NewRequest("GET", "http://127.0.0.1:1"+path, nil)
		r.Header.Set("Authorization", "Bearer k")
		return r
	}
	answer := func(status int, body string, header ...string) *http.Response {
		h := http.Header{"Content-Type": {"application/json"}}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &http.Response{StatusCode: status, Header: h}
	}
	client := `{"id":"c1","name":"A","email":"a@example.com","contact_name":"","account_manager":"","address":"",` +
		`"timezone":"UTC","currency":"EUR","communication":{"channel":"email","response_time_hours":24},"turnaround_days":0,` +
		`"relationship":"standard","status":"active","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`
	cases := []struct {
		name    string
		req     *http.Request
		body    string
		resp    *http.Response
		respB   string
		wantErr string
	}{
		{"valid", get("/v1/clients/c1"), "", answer(200, "", "X-Request-Id", "r"), client, ""},
		{"undocumented field", get("/v1/clients/c1"), "", answer(200, ""), strings.Replace(client, `"id"`, `"Extra":1,"id"`, 1), "Extra"},
		{"wrong type", get("/v1/clients/c1"), "", answer(200, ""), strings.Replace(client, `"A"`, `7`, 1), "name"},
		{"missing field", get("/v1/clients/c1"), "", answer(200, ""), strings.Replace(client, `"address":"",`, ``, 1), "address"},
		{"an error with an unknown code", get("/v1/clients/c1"), "", answer(404, ""), `{"error":{"code":"gone","message":"x"}}`, "code"},
		{"undeclared header", get("/v1/clients/c1"), "", answer(200, "", "Retry-After", "1"), client, "Retry-After"},
		{"refused by the document, taken by the server", func() *http.Request {
			r := get("/v1/clients?limit=0")
			return r
		}(), "", answer(200, ""), `{"data":[],"has_more":false}`, "refuses"},
		{"unknown route answered 200", get("/v1/nothing"), "", answer(200, ""), `{}`, "no such operation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkExchange(tc.req, []byte(tc.body), tc.resp, []byte(tc.respB))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected mismatch: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want a mismatch naming %q", err, tc.wantErr)
			}
		})
	}
}

// CloseIdleConnections passes on to the wrapped transport, so that
// stopping a test server does not wait for idle connections.
func (t contractTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// checkWebhookDelivery holds a request Remit sent to a webhook endpoint to
// the document's webhooks.event operation (headers and body).
func checkWebhookDelivery(tb testing.TB, r *http.Request, body []byte) {
	tb.Helper()
	// Errorf, not Fatal: receivers call this from their own goroutines.
	doc, _, err := loadContract()
	if err != nil {
		tb.Error(err)
		return
	}
	item := doc.Webhooks["event"]
	if item == nil || item.Post == nil {
		tb.Error("api/openapi.yaml has no webhooks.event.post")
		return
	}
	clone := r.Clone(context.Background())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{
		Request: clone,
		Route:   &routers.Route{Spec: doc, Path: r.URL.Path, PathItem: item, Method: http.MethodPost, Operation: item.Post},
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, SkipSettingDefaults: true},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		tb.Errorf("openapi contract: webhook delivery %s: %v\nbody: %.1000s", r.Header.Get("Remit-Event-Type"), err, body)
	}
}
