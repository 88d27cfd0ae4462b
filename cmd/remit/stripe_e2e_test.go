package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/remit/remit/internal/testdb"
)

// mustInvoice creates and issues an invoice of one line for the client.
func (s *testServer) mustInvoice(clientID string, unitAmount int64) map[string]any {
	s.tb.Helper()
	return s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": clientID, "issue": true,
		"lines": []map[string]any{{"description": "Work", "quantity": "1", "unit_amount": unitAmount}}}})
}

// count returns SELECT COUNT(*) FROM table WHERE where.
func (s *testServer) count(table, where string, args ...any) int {
	s.tb.Helper()
	var n int
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	if s.DB.Dialect() == "postgres" {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	if err := s.DB.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		s.tb.Fatal(err)
	}
	return n
}

func TestStripeNotConfigured(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"))
	cli := s.mustClient("No Stripe", "EUR", "UTC")
	inv := s.mustInvoice(cli, 10000)["id"].(string)
	payload := stripeEvent("evt_1", "payment_intent.succeeded", time.Now(), map[string]any{"id": "pi_1"})
	for _, r := range []request{
		{Method: "POST", Path: "/v1/invoices/" + inv + "/checkout", Key: testAdminKey},
		{Method: "POST", Path: "/v1/stripe/webhook", Body: payload, Header: map[string]string{"Stripe-Signature": signed(payload, testWebhookSecret, time.Now())}},
		{Method: "POST", Path: "/v1/stripe/reconcile", Key: testAdminKey},
	} {
		if resp := s.do(r); resp.Status != 503 || resp.ErrorCode() != "stripe_not_configured" {
			t.Errorf("%s: %d %s", r.Path, resp.Status, resp.Body)
		}
	}

	// A key without a signing secret: webhooks cannot be verified.
	s2 := MustRunMain(t, pinned("2026-03-01"), func(c *Config) { c.StripeSecretKey = testStripeKey })
	r := s2.do(request{Method: "POST", Path: "/v1/stripe/webhook", Body: payload, Header: map[string]string{"Stripe-Signature": signed(payload, testWebhookSecret, time.Now())}})
	if r.Status != 503 || r.ErrorCode() != "stripe_not_configured" || !strings.Contains(string(r.Body), "STRIPE_WEBHOOK_SECRET") {
		t.Errorf("webhook without a signing secret: %d %s", r.Status, r.Body)
	}
}

func TestStripeCheckoutEndToEnd(t *testing.T) {
	proxy := newStripeProxy(t, startStripeMock(t))
	s := MustRunMain(t, pinned("2026-03-01"), withStripe(proxy.URL))

	eur := s.mustClient("Acme GmbH", "EUR", "Europe/Berlin")
	inv := s.mustInvoice(eur, 12345)["id"].(string)
	sess := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + inv + "/checkout", Body: map[string]any{"success_url": "https://acme.example/thanks"}})
	if !strings.HasPrefix(sess["url"].(string), "https://") || sess["invoice_id"] != inv || num(sess, "amount") != 12345 || sess["currency"] != "EUR" ||
		!strings.HasPrefix(sess["customer_id"].(string), "cus_") || !strings.HasPrefix(sess["id"].(string), "cs_") {
		t.Fatalf("session %v", sess)
	}
	if _, err := time.Parse(time.RFC3339, sess["expires_at"].(string)); err != nil {
		t.Fatalf("expires_at %v", sess["expires_at"])
	}
	customers := proxy.sent("POST", "/v1/customers")
	if len(customers) != 1 || customers[0].Form.Get("metadata[remit_client_id]") != eur || customers[0].Form.Get("name") != "Acme GmbH" ||
		customers[0].IdempotencyKey != "remit-customer-"+eur {
		t.Fatalf("customer requests %+v", customers)
	}
	sent := proxy.sent("POST", "/v1/checkout/sessions")
	if len(sent) != 1 {
		t.Fatalf("%d session requests", len(sent))
	}
	want := map[string]string{
		"mode": "payment", "customer": sess["customer_id"].(string), "client_reference_id": inv,
		"line_items[0][quantity]": "1", "line_items[0][price_data][currency]": "eur", "line_items[0][price_data][unit_amount]": "12345",
		"metadata[remit_invoice_id]": inv, "payment_intent_data[metadata][remit_invoice_id]": inv,
		"success_url": "https://acme.example/thanks", "cancel_url": "https://remit.example/cancelled",
	}
	for k, v := range want {
		if got := sent[0].Form.Get(k); got != v {
			t.Errorf("sent %s=%q, want %q", k, got, v)
		}
	}
	if !strings.HasPrefix(sent[0].IdempotencyKey, "remit-checkout-") {
		t.Errorf("idempotency key %q", sent[0].IdempotencyKey)
	}

	// The same client's next checkout reuses its Customer; the same request
	// again sends Stripe the same idempotency key.
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + inv + "/checkout", Body: map[string]any{"success_url": "https://acme.example/thanks"}})
	if n := len(proxy.sent("POST", "/v1/customers")); n != 1 {
		t.Fatalf("%d customer requests, want 1", n)
	}
	if sent = proxy.sent("POST", "/v1/checkout/sessions"); sent[1].IdempotencyKey != sent[0].IdempotencyKey {
		t.Fatalf("idempotency keys %q and %q", sent[0].IdempotencyKey, sent[1].IdempotencyKey)
	}
	if n := s.count("stripe_customers", "client_id = ?", eur); n != 1 {
		t.Fatalf("%d stored customers", n)
	}

	// Zero- and three-decimal currencies.
	for _, c := range []struct {
		currency       string
		unit, want     int64
		stripeCurrency string
	}{{"JPY", 5000, 5000, "jpy"}, {"KWD", 12345, 12350, "kwd"}, {"KWD", 12340, 12340, "kwd"}} {
		cli := s.mustClient("Client "+c.currency+fmt.Sprint(c.unit), c.currency, "Asia/Tokyo")
		id := s.mustInvoice(cli, c.unit)["id"].(string)
		got := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/checkout"})
		sent := proxy.sent("POST", "/v1/checkout/sessions")
		last := sent[len(sent)-1].Form
		if num(got, "amount") != c.want || got["currency"] != c.currency || last.Get("line_items[0][price_data][unit_amount]") != fmt.Sprint(c.want) ||
			last.Get("line_items[0][price_data][currency]") != c.stripeCurrency || last.Get("success_url") != "https://remit.example/paid" {
			t.Errorf("%s %d: response %v, sent %v", c.currency, c.unit, got, last)
		}
	}

	draft := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": eur,
		"lines": []map[string]any{{"description": "Draft", "unit_amount": 100}}}})["id"].(string)
	paid := s.mustInvoice(eur, 500)["id"].(string)
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + paid + "/payments", Body: map[string]any{"amount": 500}})
	for _, c := range []struct {
		path   string
		body   any
		status int
		code   string
	}{
		{"/v1/invoices/" + draft + "/checkout", nil, 409, "invoice_not_open"},
		{"/v1/invoices/" + paid + "/checkout", nil, 409, "invoice_paid"},
		{"/v1/invoices/inv_nope/checkout", nil, 404, "not_found"},
		{"/v1/invoices/" + inv + "/checkout", map[string]any{"success_url": "javascript:alert(1)"}, 400, "invalid"},
		{"/v1/invoices/" + inv + "/checkout", map[string]any{"amount": 1}, 400, "invalid"},
	} {
		if r := s.do(request{Method: "POST", Path: c.path, Key: testAdminKey, Body: c.body}); r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("%s %v: %d %s, want %d %s", c.path, c.body, r.Status, r.Body, c.status, c.code)
		}
	}
}

func TestStripeWebhookRefusals(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"), withStripe("http://127.0.0.1:9"))
	cli := s.mustClient("Refusals", "EUR", "UTC")
	inv := s.mustInvoice(cli, 10000)["id"].(string)
	good := stripeEvent("evt_ok", "payment_intent.succeeded", time.Now(), map[string]any{"id": "pi_1", "object": "payment_intent",
		"amount": 10000, "amount_received": 10000, "currency": "eur", "metadata": map[string]any{"remit_invoice_id": inv}})
	big := append(append([]byte(`{"id":"evt_big","type":"payment_intent.succeeded","pad":"`), bytes.Repeat([]byte("x"), 1<<20-100)...), []byte(`"}`)...)
	big = big[:1<<20]
	before := s.snapshot()
	for _, c := range []struct {
		name   string
		body   []byte
		header string
		status int
		code   string
	}{
		{"wrong secret", good, signed(good, "whsec_other", time.Now()), 400, "invalid_signature"},
		{"signature of another body", good, signed([]byte(`{}`), testWebhookSecret, time.Now()), 400, "invalid_signature"},
		{"old timestamp", good, signed(good, testWebhookSecret, time.Now().Add(-301*time.Second)), 400, "invalid_signature"},
		{"future timestamp", good, signed(good, testWebhookSecret, time.Now().Add(301*time.Second)), 400, "invalid_signature"},
		{"far future timestamp", good, signed(good, testWebhookSecret, time.Now().Add(24*time.Hour)), 400, "invalid_signature"},
		{"unsigned", good, "", 400, "invalid_signature"},
		{"malformed header", good, "t=abc,v1=zz", 400, "invalid_signature"},
		{"1 MiB body", big, signed(big, testWebhookSecret, time.Now()), 413, "too_large"},
		{"malformed JSON", []byte(`{"id": "evt_x", "type": `), signed([]byte(`{"id": "evt_x", "type": `), testWebhookSecret, time.Now()), 400, "invalid"},
		{"not an event", []byte(`{"hello": "world"}`), signed([]byte(`{"hello": "world"}`), testWebhookSecret, time.Now()), 400, "invalid"},
		{"unknown type", stripeEvent("evt_u", "customer.created", time.Now(), map[string]any{"id": "cus_1"}),
			signed(stripeEvent("evt_u", "customer.created", time.Now(), map[string]any{"id": "cus_1"}), testWebhookSecret, time.Now()), 200, ""},
	} {
		h := map[string]string{}
		if c.header != "" {
			h["Stripe-Signature"] = c.header
		}
		r := s.do(request{Method: "POST", Path: "/v1/stripe/webhook", Body: c.body, Header: h})
		if r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
	}
	if after := s.snapshot(); !reflect.DeepEqual(before, after) {
		t.Fatalf("a refused webhook wrote to the database:\nbefore %v\nafter  %v", before, after)
	}
	// The good event itself is accepted.
	if r := s.webhook(good); r.Status != 200 || !strings.Contains(string(r.Body), `"payment recorded"`) {
		t.Fatalf("good event: %d %s", r.Status, r.Body)
	}
}

func TestStripeWebhookFlow(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"), withStripe("http://127.0.0.1:9"))
	cli := s.mustClient("Flow AG", "EUR", "Europe/Berlin")
	inv := s.mustInvoice(cli, 20000)["id"].(string)
	day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	session := stripeEvent("evt_s1", "checkout.session.completed", day, map[string]any{"id": "cs_1", "object": "checkout.session",
		"mode": "payment", "payment_intent": "pi_f1", "amount_total": 20000, "currency": "eur", "payment_status": "paid",
		"metadata": map[string]any{"remit_invoice_id": inv}})
	r := s.webhook(session)
	if r.Status != 200 || r.JSON(t)["duplicate"] != false {
		t.Fatalf("session: %d %s", r.Status, r.Body)
	}
	got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv})
	if got["status"] != "paid" || num(got, "balance_due") != 0 || got["paid_on"] != "2026-03-01" {
		t.Fatalf("after session: %v", got)
	}
	if r := s.webhook(session); r.Status != 200 || r.JSON(t)["duplicate"] != true {
		t.Fatalf("duplicate: %d %s", r.Status, r.Body)
	}
	succeeded := stripeEvent("evt_s2", "payment_intent.succeeded", day, map[string]any{"id": "pi_f1", "object": "payment_intent",
		"amount": 20000, "amount_received": 20000, "currency": "eur", "metadata": map[string]any{"remit_invoice_id": inv}})
	if r := s.webhook(succeeded); r.Status != 200 || r.JSON(t)["duplicate"] != false {
		t.Fatalf("intent: %d %s", r.Status, r.Body)
	}
	pays := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv + "/payments"})["data"].([]any)
	if len(pays) != 1 {
		t.Fatalf("%d payments, want 1: %v", len(pays), pays)
	}
	p := pays[0].(map[string]any)
	if p["source"] != "stripe" || p["method"] != "card" || p["reference"] != "pi_f1" || num(p, "amount") != 20000 {
		t.Fatalf("payment %v", p)
	}

	// An event rendered in another API version is read all the same.
	refund := stripeEventVersion("evt_s3", "charge.refunded", "2099-01-01.future", day.Add(time.Hour), map[string]any{"id": "ch_f1", "object": "charge",
		"payment_intent": "pi_f1", "amount": 20000, "amount_refunded": 5000, "currency": "eur", "some_new_field": map[string]any{"x": 1}})
	if r := s.webhook(refund); r.Status != 200 {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	dispute := stripeEvent("evt_s4", "charge.dispute.created", day.Add(2*time.Hour), map[string]any{"id": "dp_f1", "object": "dispute",
		"charge": "ch_f1", "payment_intent": "pi_f1", "amount": 15000, "currency": "eur", "status": "needs_response"})
	if r := s.webhook(dispute); r.Status != 200 {
		t.Fatalf("dispute: %d %s", r.Status, r.Body)
	}
	got = s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv})
	if got["status"] != "open" || num(got, "balance_due") != 5000 || got["disputed"] != true {
		t.Fatalf("after refund and dispute: %v", got)
	}
	closed := stripeEvent("evt_s5", "charge.dispute.closed", day.Add(3*time.Hour), map[string]any{"id": "dp_f1", "object": "dispute",
		"charge": "ch_f1", "payment_intent": "pi_f1", "amount": 15000, "currency": "eur", "status": "won"})
	if r := s.webhook(closed); r.Status != 200 {
		t.Fatalf("closed: %d %s", r.Status, r.Body)
	}
	if got = s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv}); got["disputed"] != false || num(got, "balance_due") != 5000 {
		t.Fatalf("after dispute closed: %v", got)
	}
	events := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv + "/events?limit=100"})["data"].([]any)
	var types []string
	for _, e := range events {
		e := e.(map[string]any)
		if e["actor"] == "stripe" {
			types = append(types, e["type"].(string))
		}
	}
	if want := []string{"payment.recorded", "invoice.paid", "payment.refunded", "invoice.dispute_opened", "invoice.dispute_closed"}; !reflect.DeepEqual(types, want) {
		t.Fatalf("stripe's audit events %v, want %v", types, want)
	}
	if n := s.count("stripe_events", ""); n != 5 {
		t.Fatalf("%d stored events, want 5", n)
	}
}

// TestStripeWebhookConcurrent sends 1,000 events about 100 invoices, each
// twice, in random order from 20 concurrent senders, on SQLite and on
// PostgreSQL: every invoice must end as if the events had come in order,
// with one payment each.
func TestStripeWebhookConcurrent(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s := MustRunMain(t, pinned("2026-03-01"), withStripe("http://127.0.0.1:9"), func(c *Config) { c.DatabaseURL = testdb.URL(t, dialect) })
			const invoices, senders = 100, 20
			cli := s.mustClient("Concurrent Ltd", "EUR", "UTC")
			var bodies [][]byte
			ids := make([]string, invoices)
			totals := make([]int64, invoices)
			for i := range invoices {
				totals[i] = 10000 + int64(i)*7
				ids[i] = s.mustInvoice(cli, totals[i])["id"].(string)
				bodies = append(bodies, invoiceEvents(i, ids[i], totals[i])...)
			}
			if len(bodies) != 1000 {
				t.Fatalf("%d events", len(bodies))
			}
			sends := append(append([][]byte{}, bodies...), bodies...)
			rand.Shuffle(len(sends), func(i, j int) { sends[i], sends[j] = sends[j], sends[i] })

			work := make(chan []byte)
			var duplicates atomic.Int64
			var failures []string
			var mu sync.Mutex
			var wg sync.WaitGroup
			client := contractClient(t, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: senders}, Timeout: time.Minute})
			defer client.CloseIdleConnections()
			for range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for body := range work {
						status, dup, err := postWebhook(client, s.URL(), body)
						if err != nil || status != 200 {
							mu.Lock()
							failures = append(failures, fmt.Sprintf("%d %v", status, err))
							mu.Unlock()
							continue
						}
						if dup {
							duplicates.Add(1)
						}
					}
				}()
			}
			start := time.Now()
			for _, b := range sends {
				work <- b
			}
			close(work)
			wg.Wait()
			t.Logf("%s: %d deliveries in %v", dialect, len(sends), time.Since(start).Round(time.Millisecond))
			if len(failures) > 0 {
				t.Fatalf("%d deliveries failed, first: %s", len(failures), failures[0])
			}
			if d := duplicates.Load(); d != 1000 {
				t.Fatalf("%d duplicates, want 1000", d)
			}
			if n := s.count("stripe_events", ""); n != 1000 {
				t.Fatalf("%d stored events, want 1000", n)
			}
			for i, id := range ids {
				inv := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})
				if inv["status"] != "open" || num(inv, "balance_due") != 1500 || num(inv, "amount_paid") != totals[i]-1500 ||
					inv["payment_processing"] != false || inv["disputed"] != false {
					t.Fatalf("invoice %d: %v", i, inv)
				}
				pays := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id + "/payments"})["data"].([]any)
				if len(pays) != 1 || num(pays[0].(map[string]any), "amount") != totals[i] || num(pays[0].(map[string]any), "refunded") != 1500 {
					t.Fatalf("invoice %d payments %v", i, pays)
				}
			}
		})
	}
}

// invoiceEvents are the ten events of one invoice's life in Stripe: a
// checkout paid after processing, a failure after the success, two refunds
// (the first listing its refund), a dispute won, and a second attempt that
// processed and was cancelled.
func invoiceEvents(i int, invoiceID string, total int64) [][]byte {
	base := time.Date(2026, 3, 1, 0, 0, i, 0, time.UTC)
	pi, pj, ch := fmt.Sprintf("pi_c%d", i), fmt.Sprintf("pi_d%d", i), fmt.Sprintf("ch_c%d", i)
	meta := map[string]any{"remit_invoice_id": invoiceID}
	intent := func(id string, amount int64) map[string]any {
		return map[string]any{"id": id, "object": "payment_intent", "amount": total, "amount_received": amount, "currency": "eur", "metadata": meta}
	}
	ev := func(n int, typ string, minute int, obj map[string]any) []byte {
		return stripeEvent(fmt.Sprintf("evt_c%d_%d", i, n), typ, base.Add(time.Duration(minute)*time.Minute), obj)
	}
	return [][]byte{
		ev(0, "payment_intent.processing", 1, intent(pi, 0)),
		ev(1, "checkout.session.completed", 2, map[string]any{"id": fmt.Sprintf("cs_c%d", i), "object": "checkout.session", "mode": "payment",
			"payment_intent": pi, "amount_total": total, "currency": "eur", "payment_status": "paid", "metadata": meta}),
		ev(2, "payment_intent.succeeded", 2, intent(pi, total)),
		ev(3, "payment_intent.payment_failed", 3, intent(pi, 0)),
		ev(4, "charge.refunded", 4, map[string]any{"id": ch, "object": "charge", "payment_intent": pi, "amount": total, "amount_refunded": 1000,
			"currency": "eur", "refunds": map[string]any{"object": "list", "data": []any{map[string]any{"id": fmt.Sprintf("re_c%d", i), "amount": 1000, "status": "succeeded"}}}}),
		ev(5, "charge.refunded", 5, map[string]any{"id": ch, "object": "charge", "payment_intent": pi, "amount": total, "amount_refunded": 1500, "currency": "eur"}),
		ev(6, "charge.dispute.created", 6, map[string]any{"id": fmt.Sprintf("dp_c%d", i), "object": "dispute", "charge": ch, "payment_intent": pi,
			"amount": total - 1500, "currency": "eur", "status": "needs_response"}),
		ev(7, "charge.dispute.closed", 7, map[string]any{"id": fmt.Sprintf("dp_c%d", i), "object": "dispute", "charge": ch, "payment_intent": pi,
			"amount": total - 1500, "currency": "eur", "status": "won"}),
		ev(8, "payment_intent.processing", 1, intent(pj, 0)),
		ev(9, "payment_intent.canceled", 8, intent(pj, 0)),
	}
}

// postWebhook sends a signed event from a goroutine other than the test's.
func postWebhook(client *http.Client, base string, body []byte) (status int, duplicate bool, err error) {
	req, err := http.NewRequest("POST", base+"/v1/stripe/webhook", bytes.NewReader(body))
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signed(body, testWebhookSecret, time.Now()))
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	var out struct {
		Duplicate bool `json:"duplicate"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Duplicate, err
}

func TestStripeReconcile(t *testing.T) {
	proxy := newStripeProxy(t, startStripeMock(t))
	s := MustRunMain(t, pinned("2026-03-01"), withStripe(proxy.URL))
	cli := s.mustClient("Reconciled SA", "EUR", "UTC")
	inv := s.mustInvoice(cli, 30000)["id"].(string)
	created := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC).Unix()
	pi := func(id, status string, meta map[string]any) map[string]any {
		return map[string]any{"id": id, "object": "payment_intent", "amount": 30000, "amount_received": 30000, "currency": "eur",
			"status": status, "created": created, "metadata": meta, "livemode": false}
	}
	list, _ := json.Marshal(map[string]any{"object": "list", "url": "/v1/payment_intents", "has_more": false, "data": []any{
		pi("pi_missed", "succeeded", map[string]any{"remit_invoice_id": inv}),
		pi("pi_other", "succeeded", map[string]any{}),
		pi("pi_open", "requires_payment_method", map[string]any{"remit_invoice_id": inv}),
	}})
	proxy.answer("GET", "/v1/payment_intents", list)

	// The command first, on the same database.
	t.Setenv("DATABASE_URL", s.Config.DatabaseURL)
	t.Setenv("STRIPE_SECRET_KEY", testStripeKey)
	t.Setenv("STRIPE_API_BASE", proxy.URL)
	t.Setenv("REMIT_NOW", "2026-03-01T12:00:00Z")
	out, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = out
	err = run(context.Background(), []string{"stripe", "reconcile", "-since", "24h"})
	os.Stdout = stdout
	if err != nil {
		t.Fatal(err)
	}
	if printed, _ := os.ReadFile(out.Name()); !strings.Contains(string(printed), "\"recorded\": [\n    \"pi_missed\"\n  ]") {
		t.Fatalf("the command printed:\n%s", printed)
	}
	lists := proxy.sent("GET", "/v1/payment_intents")
	if len(lists) != 1 || lists[0].Form.Get("created[gte]") != fmt.Sprint(time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC).Unix()) {
		t.Fatalf("list requests %+v", lists)
	}
	got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv})
	if got["status"] != "paid" || num(got, "amount_paid") != 30000 {
		t.Fatalf("after the command: %v", got)
	}

	// The endpoint finds nothing more to record, and a late webhook for the
	// same intent adds no second payment.
	report := s.must(200, request{Method: "POST", Path: "/v1/stripe/reconcile", Body: map[string]any{"since": "2026-02-01T00:00:00Z"}})
	if num(report, "checked") != 3 || num(report, "succeeded") != 2 || num(report, "skipped") != 1 || len(report["recorded"].([]any)) != 0 {
		t.Fatalf("report %v", report)
	}
	late := stripeEvent("evt_late", "payment_intent.succeeded", time.Unix(created, 0), pi("pi_missed", "succeeded", map[string]any{"remit_invoice_id": inv}))
	if r := s.webhook(late); r.Status != 200 {
		t.Fatalf("late webhook: %d %s", r.Status, r.Body)
	}
	if n := s.count("payments", "invoice_id = ?", inv); n != 1 {
		t.Fatalf("%d payments, want 1", n)
	}

	// A new succeeded intent is recorded by the endpoint.
	inv2 := s.mustInvoice(cli, 30000)["id"].(string)
	list, _ = json.Marshal(map[string]any{"object": "list", "url": "/v1/payment_intents", "has_more": false, "data": []any{
		pi("pi_missed2", "succeeded", map[string]any{"remit_invoice_id": inv2})}})
	proxy.answer("GET", "/v1/payment_intents", list)
	report = s.must(200, request{Method: "POST", Path: "/v1/stripe/reconcile"})
	if rec := report["recorded"].([]any); len(rec) != 1 || rec[0] != "pi_missed2" {
		t.Fatalf("report %v", report)
	}
	if got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv2}); got["status"] != "paid" {
		t.Fatalf("second invoice %v", got)
	}
}

// TestStripeCheckoutOutsideTheWriter: a checkout sent with an
// Idempotency-Key waits on Stripe without holding the database's writer, so
// other writes go on meanwhile; a replay of it gets the first response and
// sends Stripe nothing.
func TestStripeCheckoutOutsideTheWriter(t *testing.T) {
	proxy := newStripeProxy(t, startStripeMock(t))
	s := MustRunMain(t, pinned("2026-03-01"), withStripe(proxy.URL))
	eur := s.mustClient("Acme GmbH", "EUR", "Europe/Berlin")
	inv := s.mustInvoice(eur, 12345)["id"].(string)

	arrived, release := proxy.hold("POST", "/v1/checkout/sessions")
	defer release()
	checkout := request{Method: "POST", Path: "/v1/invoices/" + inv + "/checkout", Key: testAdminKey,
		Body: `{"success_url":"https://acme.example/thanks"}`, Header: map[string]string{"Idempotency-Key": "pay-link-1"}}
	type result struct {
		status int
		body   []byte
		err    error
	}
	first := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.URL()+checkout.Path, strings.NewReader(checkout.Body.(string)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testAdminKey)
		req.Header.Set("Idempotency-Key", "pay-link-1")
		resp, err := contractClient(t, http.DefaultClient).Do(req)
		if err != nil {
			first <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		first <- result{resp.StatusCode, b, err}
	}()
	select {
	case <-arrived:
	case r := <-first:
		t.Fatalf("the checkout finished without reaching Stripe: %d %s %v", r.status, r.body, r.err)
	case <-time.After(30 * time.Second):
		t.Fatal("the checkout never reached Stripe") // a hang detector, not a timing assertion
	}

	// Stripe still holds the checkout: a write goes through meanwhile.
	wrote := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.URL()+"/v1/clients", strings.NewReader(`{"name":"Beta","email":"ap@beta.example","currency":"EUR"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testAdminKey)
		if resp, err := contractClient(t, http.DefaultClient).Do(req); err == nil {
			resp.Body.Close()
			wrote <- resp.StatusCode
		} else {
			wrote <- 0
		}
	}()
	select {
	case status := <-wrote:
		if status != 201 {
			t.Fatalf("client create while Stripe holds the checkout: status %d", status)
		}
	case <-time.After(20 * time.Second):
		release()
		t.Fatal("a client create waited for the checkout's call to Stripe: the checkout holds the writer") // a hang detector, not a timing assertion
	}
	release()
	r := <-first
	if r.err != nil || r.status != 201 {
		t.Fatalf("checkout: %d %s %v", r.status, r.body, r.err)
	}

	replay := s.do(checkout)
	if replay.Status != 201 || string(replay.Body) != string(r.body) || replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s %v, first %s", replay.Status, replay.Body, replay.Header, r.body)
	}
	if n := len(proxy.sent("POST", "/v1/checkout/sessions")); n != 1 {
		t.Fatalf("%d session requests to Stripe, want 1", n)
	}
}
