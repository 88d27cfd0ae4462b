package main

// Fuzz targets for the request decoding of the API and the Stripe webhook.
// The seed corpora under testdata/fuzz/<Name>/ run as ordinary tests in
// `go test`; `make fuzz` explores further for a bounded time. No input may
// get a 5xx, and every error answer must be the contract's JSON.
//
// A body may name the objects made at setup with {{client}}, {{invoice}}
// (open, issued), {{draft}} (a draft invoice) and {{payment}}; the target
// substitutes their ids, so seeds can reach past "not found".

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// fuzzRequestTimeout is the longest any fuzzed request may take.
const fuzzRequestTimeout = 10 * time.Second

// fuzzTarget is one route a fuzz body is sent to.
type fuzzTarget struct{ method, path string }

// fuzzServer is a running Main with a few objects to refer to.
type fuzzServer struct {
	*testServer
	ids map[string]string
}

// mustRunFuzzServer starts Main once per fuzz target (and per fuzz worker
// process) and makes a client, an issued invoice with a payment, and a draft.
func mustRunFuzzServer(f *testing.F, modify ...func(*Config)) *fuzzServer {
	modify = append([]func(*Config){pinned("2026-03-01"), func(c *Config) { c.DeliveryInterval = 0 }}, modify...)
	s := MustRunMain(f, modify...)
	cli := s.mustClient("Fuzz Client", "EUR", "UTC")
	lines := []map[string]any{{"description": "Work", "unit_amount": 100000}}
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "lines": lines}})["id"].(string)
	draft := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "lines": lines}})["id"].(string)
	pay := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + inv + "/payments", Body: map[string]any{"amount": 1000, "paid_on": "2026-03-01"}})["id"].(string)
	return &fuzzServer{testServer: s, ids: map[string]string{"{{client}}": cli, "{{invoice}}": inv, "{{draft}}": draft, "{{payment}}": pay}}
}

// expand replaces the {{name}} placeholders in b with the setup's ids.
func (s *fuzzServer) expand(b []byte) []byte {
	for k, v := range s.ids {
		b = bytes.ReplaceAll(b, []byte(k), []byte(v))
	}
	return b
}

// send makes one request with any t (it never touches the F of the setup).
func (s *fuzzServer) send(t *testing.T, method, path string, body []byte, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	// No input may hang a request either.
	ctx, cancel := context.WithTimeout(withContractTB(context.Background(), t), fuzzRequestTimeout)
	defer cancel()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, method, s.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s after %v: %v\nbody sent: %.2000q", method, path, time.Since(start), err, body)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s after %v: %v\nbody sent: %.2000q", method, path, time.Since(start), err, body)
	}
	return resp.StatusCode, resp.Header, b
}

// checkAnswer fails on a 5xx, on an error answer that is not the
// contract's JSON, and on a success whose body is not JSON.
func checkAnswer(t *testing.T, what string, body []byte, status int, header http.Header, got []byte) {
	t.Helper()
	if status >= 500 {
		t.Fatalf("%s answered %d: %s\nbody sent: %q", what, status, got, body)
	}
	if len(got) == 0 && (status == http.StatusNoContent || status < 300) {
		return
	}
	if !strings.HasPrefix(header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s answered %d with Content-Type %q: %s\nbody sent: %q", what, status, header.Get("Content-Type"), got, body)
	}
	if status < 400 {
		if !json.Valid(got) {
			t.Fatalf("%s answered %d with a body that is not JSON: %s\nbody sent: %q", what, status, got, body)
		}
		return
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(got, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("%s answered %d with a body that is not an error object: %s\nbody sent: %q", what, status, got, body)
	}
}

// FuzzCreateEndpoints sends each body to every route that creates or
// changes something from a JSON body.
func FuzzCreateEndpoints(f *testing.F) {
	s := mustRunFuzzServer(f)
	candidates := []fuzzTarget{
		{"POST", "/v1/clients"},
		{"PATCH", "/v1/clients/{{client}}"},
		{"POST", "/v1/clients/{{client}}/agreements"},
		{"POST", "/v1/invoices"},
		{"PATCH", "/v1/invoices/{{draft}}"},
		{"POST", "/v1/invoices/{{invoice}}/payments"},
		{"POST", "/v1/payments/{{payment}}/refunds"},
		{"POST", "/v1/invoices/{{invoice}}/charges/chg_missing/waive"},
		{"POST", "/v1/api_keys"},
		{"POST", "/v1/webhook_endpoints"},
		{"PUT", "/v1/reference_rates/ECB_MRO"},
		{"POST", "/v1/projects"},
		{"PATCH", "/v1/projects/prj_missing"},
		{"POST", "/v1/milestones/mil_missing/client_delay"},
		{"POST", "/v1/time_entries"},
		{"POST", "/v1/time_entries/bulk"},
	}
	// Routes that do not exist (yet) are left out, not failed.
	var targets []fuzzTarget
	for _, c := range candidates {
		path := string(s.expand([]byte(c.path)))
		resp := s.do(request{Method: c.method, Path: path, Key: testAdminKey, Body: "{}"})
		if resp.Status == 404 && strings.HasPrefix(string(resp.Body), `{"error":{"code":"not_found","message":"no such route`) ||
			resp.Status == 405 {
			f.Logf("skipping %s %s: no such route", c.method, c.path)
			continue
		}
		targets = append(targets, fuzzTarget{c.method, path})
	}
	if len(targets) < 5 {
		f.Fatalf("only %d create routes found: %v", len(targets), targets)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		body = s.expand(body)
		for _, tg := range targets {
			status, header, got := s.send(t, tg.method, tg.path, body, nil)
			checkAnswer(t, tg.method+" "+tg.path, body, status, header, got)
		}
	})
}

// FuzzStripeWebhook posts bodies to the Stripe webhook, signed with the
// configured secret when sign is set and else with the header as given.
func FuzzStripeWebhook(f *testing.F) {
	s := mustRunFuzzServer(f, withStripeWebhooks)
	resp := s.do(request{Method: "POST", Path: "/v1/stripe/webhook", Body: "{}"})
	switch {
	case resp.Status == 404 && strings.Contains(string(resp.Body), "no such route"):
		f.Skip("no POST /v1/stripe/webhook route")
	case resp.ErrorCode() == "stripe_not_configured":
		f.Skip("the Stripe webhook is not wired into Main")
	}
	f.Fuzz(func(t *testing.T, body []byte, header string, sign bool) {
		body = s.expand(body)
		// A header value cannot hold control characters; net/http refuses to send one.
		header = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, header)
		if sign {
			header = webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: testStripeWebhookSecret}).Header
		}
		status, h, got := s.send(t, "POST", "/v1/stripe/webhook", body, map[string]string{"Stripe-Signature": header})
		checkAnswer(t, "POST /v1/stripe/webhook", body, status, h, got)
		if !sign && status == 200 {
			t.Fatalf("an unsigned body was accepted: %q with Stripe-Signature %q", body, header)
		}
	})
}
