package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// refused sends r as admin (unless r.Key is set) and fails unless it gets
// status with error code and, when field is not "", names field; the
// database must be unchanged.
func (s *testServer) refused(status int, code, field string, r request) {
	s.tb.Helper()
	if r.Key == "" {
		r.Key = testAdminKey
	}
	before := s.snapshot()
	resp := s.do(r)
	if resp.Status != status || resp.ErrorCode() != code {
		s.tb.Fatalf("%s %s: %d %s, want %d %s: %s", r.Method, r.Path, resp.Status, resp.ErrorCode(), status, code, resp.Body)
	}
	if field != "" {
		fields, _ := resp.JSON(s.tb)["error"].(map[string]any)["fields"].(map[string]any)
		if _, ok := fields[field]; !ok {
			s.tb.Fatalf("%s %s: the error does not name %s: %s", r.Method, r.Path, field, resp.Body)
		}
	}
	if after := s.snapshot(); !reflect.DeepEqual(before, after) {
		s.tb.Fatalf("%s %s was refused but changed the database", r.Method, r.Path)
	}
}

func TestReferenceRatesEndToEnd(t *testing.T) {
	s := MustRunMain(t)
	_, reader := s.newKey("dashboard", "read")
	_, writer := s.newKey("crm", "write")

	if got := s.must(200, request{Method: "GET", Path: "/v1/reference_rates/ECB_MRO", Key: reader}); len(got["rates"].([]any)) != 0 || got["series"] != "ECB_MRO" {
		t.Fatalf("empty series %v", got)
	}
	put := s.must(200, request{Method: "PUT", Path: "/v1/reference_rates/ECB_MRO", Body: map[string]any{"rates": []map[string]any{
		{"effective_from": "2025-06-11", "rate": "2.15"}, {"effective_from": "2024-09-18", "rate": "3.65"}, {"effective_from": "2025-03-12", "rate": "2.65"},
	}}})
	want := map[string]any{"series": "ECB_MRO", "rates": []any{
		map[string]any{"effective_from": "2024-09-18", "rate": "3.65"},
		map[string]any{"effective_from": "2025-03-12", "rate": "2.65"},
		map[string]any{"effective_from": "2025-06-11", "rate": "2.15"},
	}}
	if !reflect.DeepEqual(put, want) {
		t.Fatalf("PUT answered %v", put)
	}
	if got := s.must(200, request{Method: "GET", Path: "/v1/reference_rates/ECB_MRO", Key: reader}); !reflect.DeepEqual(got, want) {
		t.Fatalf("GET answered %v", got)
	}

	path := "/v1/reference_rates/ECB_MRO"
	row := func(date, rate any) map[string]any { return map[string]any{"effective_from": date, "rate": rate} }
	s.refused(400, "invalid", "rates[1].rate", request{Method: "PUT", Path: path, Body: map[string]any{"rates": []any{row("2026-01-01", "2"), row("2026-02-01", "abc")}}})
	s.refused(400, "invalid", "rates[0].rate", request{Method: "PUT", Path: path, Body: map[string]any{"rates": []any{row("2026-01-01", 2.15)}}})
	s.refused(400, "invalid", "rates[0].rate", request{Method: "PUT", Path: path, Body: map[string]any{"rates": []any{row("2026-01-01", "")}}})
	s.refused(400, "invalid", "rates[0].effective_from", request{Method: "PUT", Path: path, Body: map[string]any{"rates": []any{row("2026-02-30", "2")}}})
	s.refused(400, "invalid", "rates[1].effective_from", request{Method: "PUT", Path: path, Body: map[string]any{"rates": []any{row("2026-01-01", "2"), row("2026-01-01", "3")}}})
	s.refused(400, "invalid", "rates", request{Method: "PUT", Path: path, Body: map[string]any{"rates": []any{}}})
	s.refused(400, "invalid", "rates[0].source", request{Method: "PUT", Path: path, Body: map[string]any{"rates": []any{map[string]any{"effective_from": "2026-01-01", "rate": "2", "source": "ECB"}}}})
	s.refused(400, "invalid", "", request{Method: "PUT", Path: path, Body: `{"rates": [`})
	s.refused(404, "not_found", "", request{Method: "PUT", Path: "/v1/reference_rates/FED_FUNDS", Body: map[string]any{"rates": []any{row("2026-01-01", "4.5")}}})
	s.refused(404, "not_found", "", request{Method: "GET", Path: "/v1/reference_rates/ecb_mro", Key: reader})
	s.refused(403, "forbidden", "", request{Method: "PUT", Path: path, Key: writer, Body: map[string]any{"rates": []any{row("2026-01-01", "2")}}})
	if got := s.must(200, request{Method: "GET", Path: path, Key: reader}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after refused PUTs: %v", got)
	}

	// A PUT replaces the whole series.
	s.must(200, request{Method: "PUT", Path: path, Body: map[string]any{"rates": []any{row("2014-06-11", "-0.10")}}})
	if got := s.must(200, request{Method: "GET", Path: path, Key: reader}); len(got["rates"].([]any)) != 1 {
		t.Fatalf("after replacing: %v", got)
	}
}

func TestWebhookEndpointsEndToEnd(t *testing.T) {
	s := MustRunMain(t, allowPrivateWebhooks) // it registers http://10.0.0.7
	_, writer := s.newKey("crm", "write")

	e := s.must(201, request{Method: "POST", Path: "/v1/webhook_endpoints", Body: map[string]any{
		"url": "https://hosting.example.com/remit", "description": "site hosting",
		"enabled_events": []string{"client.suspended", "client.reinstated"}}})
	id, secret := e["id"].(string), e["secret"].(string)
	if !strings.HasPrefix(id, "whe_") || !strings.HasPrefix(secret, "whsec_") || e["enabled"] != true || e["url"] != "https://hosting.example.com/remit" {
		t.Fatalf("created %v", e)
	}
	all := s.must(201, request{Method: "POST", Path: "/v1/webhook_endpoints", Body: map[string]any{"url": "http://10.0.0.7:8080/hook", "enabled_events": []string{"*"}}})

	list := s.must(200, request{Method: "GET", Path: "/v1/webhook_endpoints?limit=1"})
	data := list["data"].([]any)
	if len(data) != 1 || list["has_more"] != true || data[0].(map[string]any)["id"] != all["id"] {
		t.Fatalf("first page %v", list)
	}
	list = s.must(200, request{Method: "GET", Path: "/v1/webhook_endpoints?limit=1&starting_after=" + all["id"].(string)})
	got := list["data"].([]any)[0].(map[string]any)
	if _, shown := got["secret"]; shown || got["id"] != id || got["description"] != "site hosting" || list["has_more"] != false {
		t.Fatalf("second page %v", list)
	}
	if d := s.must(200, request{Method: "GET", Path: "/v1/webhook_endpoints/" + id + "/deliveries"}); len(d["data"].([]any)) != 0 || d["has_more"] != false {
		t.Fatalf("deliveries %v", d)
	}

	post := func(body any) request { return request{Method: "POST", Path: "/v1/webhook_endpoints", Body: body} }
	s.refused(400, "invalid", "url", post(map[string]any{"url": "ftp://example.com/hook", "enabled_events": []string{"*"}}))
	s.refused(400, "invalid", "url", post(map[string]any{"url": "not a url", "enabled_events": []string{"*"}}))
	s.refused(400, "invalid", "url", post(map[string]any{"url": "https://", "enabled_events": []string{"*"}}))
	s.refused(400, "invalid", "url", post(map[string]any{"url": "https://user:pw@example.com/hook", "enabled_events": []string{"*"}}))
	s.refused(400, "invalid", "url", post(map[string]any{"enabled_events": []string{"*"}}))
	s.refused(400, "invalid", "enabled_events", post(map[string]any{"url": "https://example.com/hook"}))
	s.refused(400, "invalid", "enabled_events[1]", post(map[string]any{"url": "https://example.com/hook", "enabled_events": []string{"invoice.paid", "invoice.exploded"}}))
	s.refused(400, "invalid", "enabled_events", post(map[string]any{"url": "https://example.com/hook", "enabled_events": []string{"*", "invoice.paid"}}))
	s.refused(400, "invalid", "secret", post(map[string]any{"url": "https://example.com/hook", "enabled_events": []string{"*"}, "secret": "whsec_mine"}))
	s.refused(400, "invalid", "enabled_events", post(map[string]any{"url": "https://example.com/hook", "enabled_events": "*"}))
	s.refused(403, "forbidden", "", request{Method: "POST", Path: "/v1/webhook_endpoints", Key: writer, Body: map[string]any{"url": "https://example.com/hook", "enabled_events": []string{"*"}}})
	s.refused(403, "forbidden", "", request{Method: "GET", Path: "/v1/webhook_endpoints", Key: writer})
	s.refused(400, "invalid", "limit", request{Method: "GET", Path: "/v1/webhook_endpoints?limit=100000"})
	s.refused(400, "invalid", "limit", request{Method: "GET", Path: "/v1/webhook_endpoints/" + id + "/deliveries?limit=100000"})
	s.refused(400, "invalid", "status", request{Method: "GET", Path: "/v1/webhook_endpoints/" + id + "/deliveries?status=lost"})
	s.refused(404, "not_found", "", request{Method: "GET", Path: "/v1/webhook_endpoints/whe_missing/deliveries"})
	s.refused(401, "unauthorized", "", request{Method: "GET", Path: "/v1/webhook_endpoints", Key: "rk_nobody_0123456789abcdefghij"})
}

func TestBillingRunsEndToEnd(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"))
	_, reader := s.newKey("dashboard", "read")
	if runs := s.must(200, request{Method: "GET", Path: "/v1/billing/runs", Key: reader}); len(runs["data"].([]any)) != 0 {
		t.Fatalf("runs before any sweep: %v", runs)
	}
	first := s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
	second := s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
	runs := s.must(200, request{Method: "GET", Path: "/v1/billing/runs?limit=1", Key: reader})
	data := runs["data"].([]any)
	if len(data) != 1 || runs["has_more"] != true || !reflect.DeepEqual(data[0], second) {
		t.Fatalf("first page %v\nwant %v", runs, second)
	}
	runs = s.must(200, request{Method: "GET", Path: "/v1/billing/runs?starting_after=" + second["id"].(string), Key: reader})
	if data := runs["data"].([]any); len(data) != 1 || !reflect.DeepEqual(data[0], first) || first["trigger"] != "api" || first["as_of"] != "2026-03-01" {
		t.Fatalf("second page %v\nwant %v", runs, first)
	}
	s.refused(400, "invalid", "limit", request{Method: "GET", Path: "/v1/billing/runs?limit=100000", Key: reader})
	s.refused(400, "invalid", "limit", request{Method: "GET", Path: "/v1/billing/runs?limit=0", Key: reader})
	if r := s.do(request{Method: "GET", Path: "/v1/billing/runs"}); r.Status != 401 || r.ErrorCode() != "unauthorized" {
		t.Fatalf("without a key: %d %s", r.Status, r.Body)
	}
}

// TestWebhookDeliveryEndToEnd issues an invoice through the API and
// receives its invoice.issued event, signed, at a real HTTP endpoint.
func TestWebhookDeliveryEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got, bodies = append(got, r), append(bodies, string(b))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	s := MustRunMain(t, allowPrivateWebhooks, func(c *Config) { c.DeliveryInterval = 100 * time.Millisecond })

	ep := s.must(201, request{Method: "POST", Path: "/v1/webhook_endpoints", Body: map[string]any{"url": recv.URL + "/remit", "enabled_events": []string{"invoice.issued"}}})
	cli := s.mustClient("Acme GmbH", "EUR", "Europe/Berlin")
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
		"lines": []map[string]any{{"description": "Design", "unit_amount": 150000}}}})

	var deliveries []any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		d := s.must(200, request{Method: "GET", Path: "/v1/webhook_endpoints/" + ep["id"].(string) + "/deliveries"})
		if deliveries = d["data"].([]any); len(deliveries) == 1 && deliveries[0].(map[string]any)["status"] == "succeeded" {
			break
		}
	}
	if len(deliveries) != 1 {
		t.Fatalf("deliveries %v", deliveries)
	}
	d := deliveries[0].(map[string]any)
	if d["status"] != "succeeded" || d["attempts"] != 1.0 || d["last_status_code"] != 204.0 || d["event_type"] != "invoice.issued" {
		t.Fatalf("delivery %v", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d requests", len(got))
	}
	r, body := got[0], bodies[0]
	checkWebhookDelivery(t, r, []byte(body))
	if r.URL.Path != "/remit" || r.Header.Get("Remit-Event-Type") != "invoice.issued" || r.Header.Get("Remit-Event-Id") != d["event_id"] ||
		!strings.Contains(body, `"invoice_id":"`+inv["id"].(string)+`"`) || !strings.Contains(body, `"type":"invoice.issued"`) ||
		!strings.Contains(body, `"terms_source":"default"`) {
		t.Fatalf("request %v %s", r.Header, body)
	}
	// The signature is HMAC-SHA256 of "<t>.<body>" keyed with the secret.
	sig := r.Header.Get("Remit-Signature")
	ts, v1, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",v1=")
	mac := hmac.New(sha256.New, []byte(ep["secret"].(string)))
	mac.Write([]byte(ts + "." + body))
	if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || time.Since(time.Unix(sec, 0)) > time.Minute || v1 != hex.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("signature %q does not verify", sig)
	}
}

// verifyRemitSignature is the README's receiver check: the v1 HMAC of
// "<t>.<body>" and t within tolerance of the receiver's own clock.
func verifyRemitSignature(header string, body []byte, secret string, tolerance time.Duration, now time.Time) bool {
	var ts, v1 string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if age := now.Sub(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	got, err := hex.DecodeString(v1)
	return err == nil && hmac.Equal(got, mac.Sum(nil))
}

// TestWebhookSignedWithRealClockUnderREMIT_NOW pins the business date far
// from today, as a demo with REMIT_NOW does: the transport signature still
// carries the real time, so a receiver with a 5-minute tolerance accepts it.
func TestWebhookSignedWithRealClockUnderREMIT_NOW(t *testing.T) {
	var mu sync.Mutex
	var headers []string
	var bodies [][]byte
	var secret string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		headers, bodies = append(headers, r.Header.Get("Remit-Signature")), append(bodies, b)
		if !verifyRemitSignature(r.Header.Get("Remit-Signature"), b, secret, 5*time.Minute, time.Now()) {
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	pinned := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if d := time.Since(pinned); d < time.Hour && d > -time.Hour {
		pinned = pinned.AddDate(-1, 0, 0) // stay far from the real clock
	}
	s := MustRunMain(t, allowPrivateWebhooks, func(c *Config) { c.Now, c.DeliveryInterval = pinned, 100*time.Millisecond })

	ep := s.must(201, request{Method: "POST", Path: "/v1/webhook_endpoints", Body: map[string]any{"url": recv.URL + "/remit", "enabled_events": []string{"invoice.issued"}}})
	mu.Lock()
	secret = ep["secret"].(string)
	mu.Unlock()
	cli := s.mustClient("Acme GmbH", "EUR", "Europe/Berlin")
	s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
		"lines": []map[string]any{{"description": "Design", "unit_amount": 150000}}}})

	var d map[string]any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		list := s.must(200, request{Method: "GET", Path: "/v1/webhook_endpoints/" + ep["id"].(string) + "/deliveries"})["data"].([]any)
		if len(list) == 1 && list[0].(map[string]any)["attempts"] != 0.0 {
			d = list[0].(map[string]any)
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if d == nil || d["status"] != "succeeded" || d["last_status_code"] != 204.0 {
		t.Fatalf("delivery %v; the receiver got signatures %v", d, headers)
	}
	// The event itself still carries the business date.
	if !strings.Contains(string(bodies[0]), `"created":"`+pinned.Format("2006-01-02")) {
		t.Fatalf("the event is not dated by REMIT_NOW (%s): %s", pinned.Format(time.DateOnly), bodies[0])
	}
}
