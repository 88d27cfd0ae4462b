package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// receiver is a local webhook receiver that keeps what it got.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
	bodies  []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.headers, r.bodies = append(r.headers, req.Header), append(r.bodies, string(b))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

// verifies reports whether a Remit-Signature header holds a v1 signature
// of body made with secret (the README's check).
func verifies(header, body, secret string) bool {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + body))
	want := hex.EncodeToString(mac.Sum(nil))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// issueInvoice makes an invoice.issued event.
func (s *testServer) issueInvoice(cli string) {
	s.tb.Helper()
	s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
		"lines": []map[string]any{{"description": "Design", "unit_amount": 150000}}}})
}

// deliverNow runs the notifier once.
func (s *testServer) deliverNow() {
	s.tb.Helper()
	if _, _, err := s.Notifier.RunOnce(context.Background()); err != nil {
		s.tb.Fatal(err)
	}
}

// TestWebhookEndpointsCannotReachInside: URLs whose host is, in any
// spelling, or resolves to a non-public address are refused at
// registration and on change, naming url; and the address actually dialled
// is checked again at delivery, so a name that resolves elsewhere later
// (DNS rebinding) reaches nothing.
func TestWebhookEndpointsCannotReachInside(t *testing.T) {
	s := MustRunMain(t)
	inside := []string{
		"http://169.254.169.254/latest/meta-data/", "http://localhost:5432", "http://localhost./", "http://[::1]:6379",
		"http://10.0.0.1", "http://2130706433/", "http://127.1/", "http://0x7f.1/", "http://0177.0.0.1/", "http://0x7f000001/",
		"http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::]/", "http://0.0.0.0:8080/", "http://0/",
		"http://100.64.0.1/", "http://172.16.0.1/", "http://192.168.1.1/", "http://[fd00::1]/", "http://[fe80::1%25eth0]/",
		"http://224.0.0.1/", "http://[ff02::1]/", "http://192.0.2.1/", "http://198.51.100.1/", "http://203.0.113.1/",
		"http://[2001:db8::1]/", "http://[64:ff9b::a00:1]/", "https://169.254.169.254.:443/", s.URL() + "/v1/api_keys",
	}
	var cases []refusal
	for _, u := range inside {
		cases = append(cases, refusal{u, "POST", "/v1/webhook_endpoints", map[string]any{"url": u, "enabled_events": []string{"*"}}, 400, "invalid", "url"})
	}
	// A host that does not resolve now is taken; the dialer checks it at each delivery.
	ep := s.must(201, request{Method: "POST", Path: "/v1/webhook_endpoints", Body: map[string]any{"url": "http://rebind.invalid/hook", "enabled_events": []string{"*"}}})
	id := ep["id"].(string)
	cases = append(cases, refusal{"patch", "PATCH", "/v1/webhook_endpoints/" + id, map[string]any{"url": "http://127.1:8080/"}, 400, "invalid", "url"})
	s.mustRefuseAll(t, cases)

	// DNS rebinding: the name now answers with a loopback address (here: the
	// stored URL is changed under Remit's feet to the local receiver).
	recv := newReceiver(t)
	if _, err := s.DB.SQL().Exec("UPDATE webhook_endpoints SET url = ? WHERE id = ?", recv.URL+"/hook", id); err != nil {
		t.Fatal(err)
	}
	s.issueInvoice(s.mustClient("Rebind", "EUR", "UTC"))
	s.deliverNow()
	if n := recv.count(); n != 0 {
		t.Fatalf("the receiver on loopback got %d requests", n)
	}
	d := s.must(200, request{Method: "GET", Path: "/v1/webhook_endpoints/" + id + "/deliveries"})["data"].([]any)
	if len(d) != 1 || d[0].(map[string]any)["status"] != "pending" || !strings.Contains(d[0].(map[string]any)["last_error"].(string), "refuses to send a webhook to 127.0.0.1, a loopback address") ||
		d[0].(map[string]any)["response_excerpt"] != "" {
		t.Fatalf("delivery %v", d)
	}
}

// TestWebhookEndpointLifecycle: an endpoint is changed (url, events,
// enabled), its secret rolled with both signatures sent for 24 hours, and
// deleted.
func TestWebhookEndpointLifecycle(t *testing.T) {
	s := MustRunMain(t, allowPrivateWebhooks, pinned("2026-03-02"))
	first, second := newReceiver(t), newReceiver(t)
	ep := s.must(201, request{Method: "POST", Path: "/v1/webhook_endpoints", Body: map[string]any{"url": first.URL, "enabled_events": []string{"invoice.paid"}}})
	id, oldSecret := ep["id"].(string), ep["secret"].(string)
	cli := s.mustClient("Hooked", "EUR", "UTC")

	upd := s.must(200, request{Method: "PATCH", Path: "/v1/webhook_endpoints/" + id, Body: map[string]any{"url": second.URL + "/v2", "enabled_events": []string{"invoice.issued"}}})
	if upd["url"] != second.URL+"/v2" || upd["enabled_events"].([]any)[0] != "invoice.issued" || upd["enabled"] != true || upd["secret"] != nil {
		t.Fatalf("patched %v", upd)
	}
	s.mustRefuseAll(t, []refusal{
		{"bad event", "PATCH", "/v1/webhook_endpoints/" + id, map[string]any{"enabled_events": []string{"invoice.lost"}}, 400, "invalid", "enabled_events[0]"},
		{"bad url", "PATCH", "/v1/webhook_endpoints/" + id, map[string]any{"url": "ftp://x"}, 400, "invalid", "url"},
		{"unknown field", "PATCH", "/v1/webhook_endpoints/" + id, map[string]any{"secret": "whsec_mine"}, 400, "invalid", "secret"},
		{"missing", "PATCH", "/v1/webhook_endpoints/whe_missing", map[string]any{"enabled": false}, 404, "not_found", ""},
	})

	// Disabled: nothing is sent; enabled again: the waiting delivery goes.
	s.must(200, request{Method: "PATCH", Path: "/v1/webhook_endpoints/" + id, Body: map[string]any{"enabled": false}})
	s.issueInvoice(cli)
	s.deliverNow()
	if first.count() != 0 || second.count() != 0 {
		t.Fatalf("a disabled endpoint was sent to")
	}
	s.must(200, request{Method: "PATCH", Path: "/v1/webhook_endpoints/" + id, Body: map[string]any{"enabled": true}})
	s.issueInvoice(cli)
	s.deliverNow()
	if first.count() != 0 || second.count() != 1 || !verifies(second.headers[0].Get("Remit-Signature"), second.bodies[0], oldSecret) {
		t.Fatalf("after the change: first %d, second %d", first.count(), second.count())
	}

	// Roll: the new secret is shown once; for 24 hours both sign.
	roll := s.do(request{Method: "POST", Path: "/v1/webhook_endpoints/" + id + "/roll_secret", Key: testAdminKey, Header: map[string]string{"Idempotency-Key": "roll-1"}})
	rolled := roll.JSON(t)
	newSecret, _ := rolled["secret"].(string)
	if roll.Status != 200 || !strings.HasPrefix(newSecret, "whsec_") || newSecret == oldSecret || rolled["previous_secret_expires_at"] != "2026-03-03T12:00:00Z" {
		t.Fatalf("roll: %d %s", roll.Status, roll.Body)
	}
	if again := s.do(request{Method: "POST", Path: "/v1/webhook_endpoints/" + id + "/roll_secret", Key: testAdminKey, Header: map[string]string{"Idempotency-Key": "roll-1"}}); strings.Contains(string(again.Body), newSecret) || again.JSON(t)["secret_redacted"] != true {
		t.Fatalf("a replay of the roll shows the secret: %s", again.Body)
	}
	s.issueInvoice(cli)
	s.deliverNow()
	h, body := second.headers[len(second.headers)-1].Get("Remit-Signature"), second.bodies[len(second.bodies)-1]
	if strings.Count(h, "v1=") != 2 || !verifies(h, body, newSecret) || !verifies(h, body, oldSecret) {
		t.Fatalf("during the overlap: %q", h)
	}
	s.SetNow(time.Date(2026, 3, 3, 12, 0, 1, 0, time.UTC))
	s.issueInvoice(cli)
	s.deliverNow()
	h, body = second.headers[len(second.headers)-1].Get("Remit-Signature"), second.bodies[len(second.bodies)-1]
	if strings.Count(h, "v1=") != 1 || !verifies(h, body, newSecret) || verifies(h, body, oldSecret) {
		t.Fatalf("after the overlap: %q", h)
	}

	// Delete: gone from the list and the routes, pending deliveries failed, nothing more sent.
	s.must(200, request{Method: "PATCH", Path: "/v1/webhook_endpoints/" + id, Body: map[string]any{"enabled": false}})
	s.issueInvoice(cli)
	sent := second.count()
	s.must(200, request{Method: "DELETE", Path: "/v1/webhook_endpoints/" + id})
	if list := s.must(200, request{Method: "GET", Path: "/v1/webhook_endpoints"}); len(list["data"].([]any)) != 0 {
		t.Fatalf("listed after delete: %v", list)
	}
	for _, r := range []request{
		{Method: "GET", Path: "/v1/webhook_endpoints/" + id + "/deliveries", Key: testAdminKey},
		{Method: "DELETE", Path: "/v1/webhook_endpoints/" + id, Key: testAdminKey},
		{Method: "POST", Path: "/v1/webhook_endpoints/" + id + "/roll_secret", Key: testAdminKey},
	} {
		if resp := s.do(r); resp.Status != 404 {
			t.Fatalf("%s %s after delete: %d %s", r.Method, r.Path, resp.Status, resp.Body)
		}
	}
	s.issueInvoice(cli)
	s.deliverNow()
	if second.count() != sent || s.count("webhook_deliveries", "endpoint_id = ? AND status = 'pending'", id) != 0 {
		t.Fatalf("sent to a deleted endpoint")
	}
}
