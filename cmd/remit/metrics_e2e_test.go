package main

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76/webhook"
)

// testStripeWebhookSecret signs the Stripe events of the tests that send them.
const testStripeWebhookSecret = "whsec_test_remit_metrics"

// withStripeWebhooks configures Stripe so that the webhook route verifies
// and applies events; no test here makes a request to Stripe's API.
func withStripeWebhooks(c *Config) {
	c.StripeSecretKey = "sk_test_remit"
	c.StripeWebhookSecret = testStripeWebhookSecret
	c.StripeAPIBase = "http://127.0.0.1:9"
}

// scrape fetches url from the API server (checked against its OpenAPI
// document) and returns its metric lines (comments left out).
func scrape(t *testing.T, url, key string) (int, []string) {
	t.Helper()
	return scrapeWith(t, contractClient(t, http.DefaultClient), url, key)
}

// scrapeWith is scrape through client; the separate metrics listener
// (REMIT_METRICS_ADDR) is not the API and is not checked against its document.
func scrapeWith(t *testing.T, client *http.Client, url, key string) (int, []string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for l := range strings.SplitSeq(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if resp.StatusCode == 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, lines
}

// requireLines fails unless every wanted line is among got, exactly.
func requireLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range got {
		have[l] = true
	}
	for _, w := range want {
		if !have[w] {
			var near []string
			name, _, _ := strings.Cut(w, "{")
			for _, l := range got {
				if strings.HasPrefix(l, name) {
					near = append(near, l)
				}
			}
			t.Errorf("missing %s\nhave:\n%s", w, strings.Join(near, "\n"))
		}
	}
}

// TestMetrics makes requests, a billing run and Stripe webhooks, then reads
// the exact counters from /metrics on the API address (with a read key) and
// on REMIT_METRICS_ADDR (without one).
func TestMetrics(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"), withStripeWebhooks, func(c *Config) {
		c.MetricsAddr = "127.0.0.1:0"
		c.DeliveryInterval = 0 // keep the outbox backlog still
	})
	_, readKey := s.newKey("prometheus", "read")

	for _, name := range []string{"Metric One", "Metric Two"} {
		s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{"name": name, "email": "ap@metrics.example", "currency": "EUR"}})
	}
	s.must(400, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{"name": "No currency", "currency": "eur"}})
	s.must(404, request{Method: "GET", Path: "/v1/clients/cli_missing"})
	s.must(404, request{Method: "GET", Path: "/wp-login.php"})
	s.must(404, request{Method: "GET", Path: "/v1/no/such/route"})

	inv := s.overdueInvoice("EUR", 100000, "2026-01-01", map[string]any{"payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500}})
	s.setDay("2026-02-01")
	run := s.sweep()
	if run["posted"].(map[string]any)["late_fee"] != 1.0 {
		t.Fatalf("run %v", run)
	}
	s.setDay("2026-02-02")
	run2 := s.sweep()
	reminders := num(run, "reminders") + num(run2, "reminders")

	// Two verified events of a type Remit ignores, one with a bad signature.
	event := []byte(`{"id":"evt_metrics_1","object":"event","type":"customer.created","data":{"object":{"id":"cus_1","object":"customer"}}}`)
	for i := range 2 {
		body := strings.Replace(string(event), "evt_metrics_1", "evt_metrics_"+strconv.Itoa(i), 1)
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(body), Secret: testStripeWebhookSecret})
		if r := s.do(request{Method: "POST", Path: "/v1/stripe/webhook", Body: body, Header: map[string]string{"Stripe-Signature": signed.Header}}); r.Status != 200 {
			t.Fatalf("stripe webhook: %d %s", r.Status, r.Body)
		}
	}
	bad := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: "whsec_wrong"})
	if r := s.do(request{Method: "POST", Path: "/v1/stripe/webhook", Body: event, Header: map[string]string{"Stripe-Signature": bad.Header}}); r.Status != 400 {
		t.Fatalf("badly signed webhook: %d %s", r.Status, r.Body)
	}

	if status, _ := scrape(t, s.URL()+"/metrics", ""); status != 401 {
		t.Fatalf("GET /metrics without a key: %d", status)
	}
	var backlog int64
	if err := s.DB.SQL().QueryRow("SELECT COUNT(*) FROM outbox WHERE processed_at IS NULL").Scan(&backlog); err != nil {
		t.Fatal(err)
	}
	if backlog == 0 {
		t.Fatal("no outbox events to count")
	}

	status, lines := scrape(t, s.URL()+"/metrics", readKey)
	if status != 200 {
		t.Fatalf("GET /metrics with a read key: %d %v", status, lines)
	}
	want := []string{
		// Two clients above and one for the overdue invoice.
		`remit_http_requests_total{method="POST",route="/v1/clients",status="201"} 3`,
		`remit_http_requests_total{method="POST",route="/v1/clients",status="400"} 1`,
		`remit_http_requests_total{method="GET",route="/v1/clients/:id",status="404"} 1`,
		`remit_http_requests_total{method="GET",route="unmatched",status="404"} 2`,
		`remit_http_requests_total{method="POST",route="/v1/invoices",status="201"} 1`,
		`remit_http_requests_total{method="POST",route="/v1/billing/run",status="200"} 2`,
		`remit_http_requests_total{method="POST",route="/v1/stripe/webhook",status="200"} 2`,
		`remit_http_requests_total{method="POST",route="/v1/stripe/webhook",status="400"} 1`,
		`remit_http_requests_total{method="GET",route="/metrics",status="401"} 1`,
		`remit_http_request_duration_seconds_count{method="POST",route="/v1/clients",status="201"} 3`,
		`remit_billing_runs_total{result="ok",trigger="api"} 2`,
		`remit_billing_run_duration_seconds_count 2`,
		`remit_charges_posted_total{kind="late_fee"} 1`,
		`remit_charges_posted_total{kind="interest"} 0`,
		`remit_charges_posted_total{kind="compensation"} 0`,
		`remit_enforcement_actions_total{action="reminder"} ` + strconv.FormatInt(reminders, 10),
		`remit_enforcement_actions_total{action="suspension"} 0`,
		`remit_outbox_backlog ` + strconv.FormatInt(backlog, 10),
		`remit_deliveries_failed{channel="webhook"} 0`,
		`remit_deliveries_failed{channel="email"} 0`,
		`remit_stripe_webhook_events_total{type="customer.created"} 2`,
	}
	requireLines(t, lines, want...)
	for _, l := range lines {
		if strings.Contains(l, "cli_missing") || strings.Contains(l, "wp-login") || strings.Contains(l, inv) {
			t.Errorf("a raw path leaked into a label: %s", l)
		}
	}

	// The separate address needs no key and serves only /metrics.
	status, lines = scrapeWith(t, http.DefaultClient, s.MetricsURL()+"/metrics", "")
	if status != 200 {
		t.Fatalf("GET /metrics on REMIT_METRICS_ADDR: %d", status)
	}
	requireLines(t, lines, `remit_charges_posted_total{kind="late_fee"} 1`,
		`remit_http_requests_total{method="GET",route="/metrics",status="200"} 1`)
	if status, _ := scrapeWith(t, http.DefaultClient, s.MetricsURL()+"/v1/clients", ""); status != 404 {
		t.Fatalf("GET /v1/clients on REMIT_METRICS_ADDR: %d", status)
	}
}
