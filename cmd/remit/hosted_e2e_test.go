package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/remit/remit/domain"
)

// testPublicURL is REMIT_PUBLIC_URL in the hosted page tests; page opens
// the path of such a link on the test server.
const testPublicURL = "https://pay.remit.example"

// withHostedPages turns the client-facing pages on, with bank details.
func withHostedPages(c *Config) {
	c.PublicURL, c.LinkKey = testPublicURL, "test-link-key-0123456789abcdef-0123456789"
	c.Business.Name, c.Business.Email = "Studio Remit", "billing@studio.example"
	c.Business.Bank = domain.BankDetails{AccountHolder: "Studio Remit GmbH", BankName: "Sparkasse", IBAN: "DE89370400440532013000", BIC: "COBADEFFXXX"}
}

// page is what a hosted page answered, fetched like a browser would: no
// API key, redirects not followed.
type page struct {
	Status int
	Header http.Header
	Body   string
}

// open fetches a hosted link (a REMIT_PUBLIC_URL address) from the test server.
func (s *testServer) open(method, link string, form url.Values) page {
	s.tb.Helper()
	u, err := url.Parse(link)
	if err != nil {
		s.tb.Fatal(err)
	}
	target := s.URL() + u.RequestURI()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		s.tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	client := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		s.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.tb.Fatal(err)
	}
	return page{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// overdueInvoice makes a client with late-payment terms and an invoice of
// 1,000.00 EUR issued 2026-01-01, due 2026-01-31, and sweeps on 2026-03-01.
func overdueInvoice(t *testing.T, s *testServer) (clientID string, inv map[string]any) {
	t.Helper()
	clientID = s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
		"name": "Acme GmbH", "email": "ap@acme.example", "contact_name": "Jana Novak", "currency": "EUR", "timezone": "Europe/Berlin",
		"address": "Hauptstr. 1\n10115 Berlin"}})["id"].(string)
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + clientID + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500},
		"interest": map[string]any{"annual_rate": "12"}}})
	inv = s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": clientID, "issue": true,
		"issue_date": "2026-01-01", "lines": []map[string]any{{"description": "Website redesign", "quantity": "1", "unit_amount": 100000}}}})
	s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
	return clientID, inv
}

func mustHeader(t *testing.T, p page, name, want string) {
	t.Helper()
	if got := p.Header.Get(name); got != want {
		t.Errorf("%s: %q, want %q", name, got, want)
	}
}

func TestHostedInvoicePage(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"), withHostedPages)
	_, inv := overdueInvoice(t, s)
	id := inv["id"].(string)
	link, _ := inv["hosted_invoice_url"].(string)
	token, ok := strings.CutPrefix(link, testPublicURL+"/i/")
	if !ok || len(token) != 43 {
		t.Fatalf("hosted_invoice_url %q", link)
	}
	if got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})["hosted_invoice_url"]; got != link {
		t.Fatalf("GET gives %v, want the same link %q", got, link)
	}
	if n := s.count("links", "token_hash = ?", domain.LinkTokenHash(token)); n != 1 {
		t.Fatalf("%d links stored under the token's SHA-256", n)
	}
	if n := s.count("links", "token_hash = ? OR nonce = ?", token, token); n != 0 {
		t.Fatal("the token itself is stored")
	}
	draft := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": inv["client_id"],
		"lines": []map[string]any{{"description": "Later", "unit_amount": 100}}}})
	if _, has := draft["hosted_invoice_url"]; has {
		t.Fatalf("a draft has a hosted page: %v", draft)
	}

	quote := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id + "/accrual"})
	// 1,000.00 + a late fee of 25.00 + February's interest (28 days at 12 %
	// on 1,000.00: 9.21) + March 1st's (0.33).
	if num(quote, "payoff") != 103454 {
		t.Fatalf("quote %v", quote)
	}
	p := s.open("GET", link, nil)
	if p.Status != 200 || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %v\n%s", p.Status, p.Header, p.Body)
	}
	mustHeader(t, p, "Referrer-Policy", "no-referrer")
	mustHeader(t, p, "X-Robots-Tag", "noindex, nofollow")
	mustHeader(t, p, "Cache-Control", "no-store")
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'self'") ||
		strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q", csp)
	}
	mustContain(t, p.Body, "Invoice INV-2026-0001", "Studio Remit", "Acme GmbH", "Jana Novak", "1 January 2026", "31 January 2026",
		"Website redesign", `id="amount-due-today">€1,034.54<`, "As of 1 March 2026", "€0.33 of interest accrued to today",
		"Late fee", "€25.00", "Interest", "February 2026, 28 days at 12 % a year (act/365) on 1,000.00 EUR", "€9.21",
		"Payment is due within 30 days of the issue date (by 31 January 2026).",
		"DE89370400440532013000", "COBADEFFXXX", `id="reference">INV-2026-0001<`, "/i/"+token+"/invoice.pdf")
	if strings.Contains(p.Body, "<script") || strings.Contains(p.Body, "style=") || strings.Contains(p.Body, "<style") {
		t.Error("the page has inline script or style")
	}

	// A day later the page owes one more day of interest.
	s.SetNow(s.Now().Add(24 * time.Hour))
	mustContain(t, s.open("GET", link, nil).Body, `id="amount-due-today">€1,034.87<`)

	pdfPage := s.open("GET", testPublicURL+"/i/"+token+"/invoice.pdf", nil)
	if pdfPage.Status != 200 || pdfPage.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdfPage.Body, "%PDF") {
		t.Fatalf("pdf: %d %v", pdfPage.Status, pdfPage.Header)
	}
	css := s.open("GET", testPublicURL+"/hosted.css", nil)
	if css.Status != 200 || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("stylesheet: %d %v", css.Status, css.Header)
	}

	// A payment shows on the page and lowers what is due.
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{"amount": 50000, "paid_on": "2026-03-02", "reference": "TX-77"}})
	mustContain(t, s.open("GET", link, nil).Body, "Payments received", "TX-77", "€500.00", `id="amount-due-today">€534.87<`)

	// Wrong, foreign and rotated tokens are the same plain 404.
	rotated := s.must(200, request{Method: "POST", Path: "/v1/invoices/" + id + "/rotate_link"})["hosted_invoice_url"].(string)
	if rotated == link || !strings.HasPrefix(rotated, testPublicURL+"/i/") {
		t.Fatalf("rotated link %q", rotated)
	}
	if got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})["hosted_invoice_url"]; got != rotated {
		t.Fatalf("after rotation GET gives %v", got)
	}
	wrong := []string{link, link + "/invoice.pdf", testPublicURL + "/i/" + strings.Repeat("A", 43), testPublicURL + "/i/short",
		testPublicURL + "/c/" + strings.TrimPrefix(rotated, testPublicURL+"/i/")}
	for _, w := range wrong {
		if p := s.open("GET", w, nil); p.Status != 404 || p.Body != "404 page not found\n" || p.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: %d %q", w, p.Status, p.Body)
		}
	}
	if p := s.open("GET", rotated, nil); p.Status != 200 {
		t.Fatalf("rotated link: %d", p.Status)
	}
	if r := s.do(request{Method: "POST", Path: "/v1/invoices/" + draft["id"].(string) + "/rotate_link", Key: testAdminKey}); r.Status != 409 || r.ErrorCode() != "invoice_not_open" {
		t.Fatalf("rotate a draft's link: %d %s", r.Status, r.Body)
	}
	_, writeKey := s.newKey("writer", "write")
	if r := s.do(request{Method: "POST", Path: "/v1/invoices/" + id + "/rotate_link", Key: writeKey}); r.Status != 403 {
		t.Fatalf("rotate with a write key: %d %s", r.Status, r.Body)
	}

	// Guessing is throttled per address: after the burst of misses even a
	// good link waits.
	var last page
	for range 40 {
		if last = s.open("GET", testPublicURL+"/i/"+strings.Repeat("B", 43), nil); last.Status == 429 {
			break
		}
	}
	if last.Status != 429 || last.Header.Get("Retry-After") == "" {
		t.Fatalf("40 wrong links: %d", last.Status)
	}
	if p := s.open("GET", rotated, nil); p.Status != 429 {
		t.Fatalf("a good link from a throttled address: %d", p.Status)
	}
}

func TestHostedPagesOff(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"))
	_, inv := overdueInvoice(t, s)
	if _, has := inv["hosted_invoice_url"]; has {
		t.Fatalf("hosted_invoice_url without REMIT_PUBLIC_URL: %v", inv)
	}
	if r := s.do(request{Method: "POST", Path: "/v1/invoices/" + inv["id"].(string) + "/rotate_link", Key: testAdminKey}); r.Status != 409 {
		t.Fatalf("rotate without hosted pages: %d %s", r.Status, r.Body)
	}
	if p := s.open("GET", testPublicURL+"/i/"+strings.Repeat("A", 43), nil); p.Status != 404 {
		t.Fatalf("page without hosted pages: %d", p.Status)
	}
	if _, err := LoadConfig(func(k string) string {
		return map[string]string{"REMIT_PUBLIC_URL": "https://pay.example.com"}[k]
	}); err == nil || !strings.Contains(err.Error(), "REMIT_LINK_KEY") {
		t.Fatalf("REMIT_PUBLIC_URL without REMIT_LINK_KEY: %v", err)
	}
}

// payByCard presses the page's Pay button as a browser would (the form's
// hidden amount included) and returns the redirect, the amount the button
// showed and the form Remit sent Stripe for the session.
func payByCard(t *testing.T, s *testServer, proxy *stripeProxy, link string) (location, button string, sent url.Values) {
	t.Helper()
	body := s.open("GET", link, nil).Body
	m := regexp.MustCompile(`<input type="hidden" name="amount" value="(\d+)"><button type="submit" id="pay">Pay ([^<]+) by card</button>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no Pay form on the page:\n%s", body)
	}
	before := len(proxy.sent("POST", "/v1/checkout/sessions"))
	pay := s.open("POST", link+"/pay", url.Values{"amount": {m[1]}})
	all := proxy.sent("POST", "/v1/checkout/sessions")
	if pay.Status != 303 || len(all) != before+1 {
		t.Fatalf("pay: %d %s, %d session requests", pay.Status, pay.Header.Get("Location"), len(all)-before)
	}
	return pay.Header.Get("Location"), m[2], all[len(all)-1].Form
}

// completeCheckout sends Stripe's signed checkout.session.completed for a
// card payment of amount made at the time at.
func completeCheckout(t *testing.T, s *testServer, invoiceID, intent string, amount int64, at time.Time) {
	t.Helper()
	ev := stripeEvent("evt_"+intent, "checkout.session.completed", at, map[string]any{"id": "cs_" + intent, "object": "checkout.session",
		"mode": "payment", "payment_intent": intent, "amount_total": amount, "currency": "eur", "payment_status": "paid",
		"metadata": map[string]any{"remit_invoice_id": invoiceID}})
	if r := s.webhook(ev); r.Status != 200 || !strings.Contains(string(r.Body), "payment recorded") {
		t.Fatalf("webhook: %d %s", r.Status, r.Body)
	}
}

// interestCharge returns the amount of the invoice's charge under key.
func interestCharge(t *testing.T, s *testServer, invoiceID, key string) int64 {
	t.Helper()
	for _, c := range s.must(200, request{Method: "GET", Path: "/v1/invoices/" + invoiceID + "/charges"})["data"].([]any) {
		if ch := c.(map[string]any); ch["key"] == key {
			return num(ch, "amount")
		}
	}
	t.Fatalf("invoice %s has no charge %s", invoiceID, key)
	return 0
}

// TestHostedInvoicePayByCard: the Pay button charges the payoff of the
// day the page shows (interest accrued to today included), the session
// closes at 23:55 of the invoice's day, and the payment Stripe reports
// leaves the invoice paid with nothing owed: the final interest posted is
// the interest quoted.
func TestHostedInvoicePayByCard(t *testing.T) {
	proxy := newStripeProxy(t, startStripeMock(t))
	s := MustRunMain(t, pinned("2026-03-01"), withStripe(proxy.URL), withHostedPages)
	_, inv := overdueInvoice(t, s)
	id := inv["id"].(string)
	link := inv["hosted_invoice_url"].(string)
	token := strings.TrimPrefix(link, testPublicURL+"/i/")

	quote := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id + "/accrual"})
	if num(quote, "payoff") != 103454 || num(quote, "interest_accrued_unposted") != 33 {
		t.Fatalf("quote %v", quote)
	}
	p := s.open("GET", link, nil)
	mustContain(t, p.Body, `<form method="post" action="/i/`+token+`/pay">`, `id="amount-due-today">€1,034.54<`, "Pay €1,034.54 by card")
	for _, gone := range []string{"DE89370400440532013000", "charged with the next one", "charged later"} {
		if strings.Contains(p.Body, gone) {
			t.Errorf("the page shows %q", gone)
		}
	}

	// A form without the amount, or with another, opens nothing.
	for _, form := range []url.Values{{}, {"amount": {"103421"}}} {
		if r := s.open("POST", link+"/pay", form); r.Status != 303 || r.Header.Get("Location") != link+"?checkout=changed" {
			t.Fatalf("pay with %v: %d %s", form, r.Status, r.Header.Get("Location"))
		}
	}
	if n := len(proxy.sent("POST", "/v1/checkout/sessions")); n != 0 {
		t.Fatalf("%d sessions opened for a stale amount", n)
	}
	mustContain(t, s.open("GET", link+"?checkout=changed", nil).Body, "The amount due has changed since this page was opened")

	location, button, sent := payByCard(t, s, proxy, link)
	if !strings.HasPrefix(location, "https://") || button != "€1,034.54" {
		t.Fatalf("pay: %s, button %q", location, button)
	}
	// 23:55 on 1 March in Berlin.
	closes := time.Date(2026, 3, 1, 23, 55, 0, 0, mustZone(t, "Europe/Berlin")).Unix()
	if sent.Get("line_items[0][price_data][unit_amount]") != "103454" || sent.Get("expires_at") != fmt.Sprint(closes) ||
		sent.Get("success_url") != link+"?checkout=success" || sent.Get("cancel_url") != link+"?checkout=cancelled" ||
		sent.Get("payment_intent_data[metadata][remit_invoice_id]") != id {
		t.Fatalf("session sent %v", sent)
	}
	mustContain(t, s.open("GET", link+"?checkout=success", nil).Body, "Your payment is processing")
	mustContain(t, s.open("GET", link+"?checkout=cancelled", nil).Body, "The payment was cancelled")

	// Stripe reports the payment of the amount Remit sent, made today.
	charged, err := strconv.ParseInt(sent.Get("line_items[0][price_data][unit_amount]"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	completeCheckout(t, s, id, "pi_today", charged, s.Now())
	got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})
	if got["status"] != "paid" || num(got, "balance_due") != 0 || got["paid_on"] != "2026-03-01" {
		t.Fatalf("after the payment: %v", got)
	}
	if final := interestCharge(t, s, id, "interest:2026-03"); final != num(quote, "interest_accrued_unposted") {
		t.Fatalf("final interest %d, quoted %d", final, num(quote, "interest_accrued_unposted"))
	}
	// The PaymentIntent's own event for the same payment counts nothing twice.
	succeeded := stripeEvent("evt_pi_today_succeeded", "payment_intent.succeeded", s.Now(), map[string]any{"id": "pi_today",
		"object": "payment_intent", "amount": 103454, "amount_received": 103454, "currency": "eur",
		"metadata": map[string]any{"remit_invoice_id": id}})
	if r := s.webhook(succeeded); r.Status != 200 || r.JSON(t)["duplicate"] != false {
		t.Fatalf("payment_intent.succeeded: %d %s", r.Status, r.Body)
	}
	if n := s.count("payments", "invoice_id = ?", id); n != 1 {
		t.Fatalf("%d payments recorded for one card payment", n)
	}
	if cl := s.must(200, request{Method: "GET", Path: "/v1/clients/" + inv["client_id"].(string)}); num(cl, "credit_balance") != 0 {
		t.Fatalf("credit after an exact payment: %v", cl["credit_balance"])
	}
	paid := s.open("GET", link+"?checkout=success", nil).Body
	mustContain(t, paid, "Paid on 1 March 2026")
	if strings.Contains(paid, "/pay") || strings.Contains(paid, "processing") {
		t.Errorf("a paid invoice's page:\n%s", paid)
	}
	if again := s.open("POST", link+"/pay", url.Values{"amount": {"103454"}}); again.Status != 303 || again.Header.Get("Location") != link {
		t.Fatalf("pay a paid invoice: %d %v", again.Status, again.Header.Get("Location"))
	}
}

// TestHostedPayQuoteOfAnotherDay: money that arrives for another day's
// quote is still counted exactly once. Paid a day after its quote, one
// day's interest stays owed; a session opened in the last half hour of
// the day quotes tomorrow's payoff, and paid before midnight its extra
// day's interest becomes client credit.
func TestHostedPayQuoteOfAnotherDay(t *testing.T) {
	proxy := newStripeProxy(t, startStripeMock(t))
	s := MustRunMain(t, pinned("2026-03-01"), withStripe(proxy.URL), withHostedPages)
	berlin := mustZone(t, "Europe/Berlin")

	t.Run("paid the day after the quote", func(t *testing.T) {
		_, inv := overdueInvoice(t, s)
		id, link := inv["id"].(string), inv["hosted_invoice_url"].(string)
		_, button, sent := payByCard(t, s, proxy, link)
		if button != "€1,034.54" || sent.Get("line_items[0][price_data][unit_amount]") != "103454" {
			t.Fatalf("button %q, sent %v", button, sent)
		}
		// Stripe completes it after midnight (a delayed method, say).
		s.SetNow(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
		defer s.SetNow(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		completeCheckout(t, s, id, "pi_late", 103454, s.Now())
		got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})
		// Interest to 2 March: 2 days at 12 % on 1,000.00 = 0.66; 0.33 left.
		if got["status"] != "open" || num(got, "balance_due") != 33 || num(got, "amount_paid") != 103454 {
			t.Fatalf("after a payment a day late: %v", got)
		}
		if final := interestCharge(t, s, id, "interest:2026-03"); final != 66 {
			t.Fatalf("final interest %d, want 66", final)
		}
		if n := s.count("payments", "invoice_id = ?", id); n != 1 {
			t.Fatalf("%d payments", n)
		}
	})

	t.Run("opened at 23:40, paid before midnight", func(t *testing.T) {
		s.SetNow(time.Date(2026, 3, 1, 23, 40, 0, 0, berlin))
		defer s.SetNow(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		cli, inv := overdueInvoice(t, s)
		id, link := inv["id"].(string), inv["hosted_invoice_url"].(string)
		page := s.open("GET", link, nil).Body
		// Today's payoff is shown as due today; the button charges 2 March's.
		mustContain(t, page, `id="amount-due-today">€1,034.54<`, "Pay €1,034.87 by card", "covers the amount due on 2 March 2026")
		_, button, sent := payByCard(t, s, proxy, link)
		// Closes 23 h 55 min later, before the end of 2 March.
		closes := time.Date(2026, 3, 2, 23, 35, 0, 0, berlin).Unix()
		if button != "€1,034.87" || sent.Get("line_items[0][price_data][unit_amount]") != "103487" || sent.Get("expires_at") != fmt.Sprint(closes) {
			t.Fatalf("button %q, sent %v", button, sent)
		}
		completeCheckout(t, s, id, "pi_evening", 103487, time.Date(2026, 3, 1, 23, 45, 0, 0, berlin))
		got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})
		if got["status"] != "paid" || num(got, "balance_due") != 0 || got["paid_on"] != "2026-03-01" {
			t.Fatalf("after the evening payment: %v", got)
		}
		if final := interestCharge(t, s, id, "interest:2026-03"); final != 33 {
			t.Fatalf("final interest %d, want 33", final)
		}
		if c := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli}); num(c, "credit_balance") != 33 {
			t.Fatalf("credit %v, want 33", c["credit_balance"])
		}
	})
}

// TestHostedPayMissingRate: where interest cannot be quoted (the reference
// rate of a statutory preset is not loaded), the page and the Pay button
// fall back to the posted balance and say so.
func TestHostedPayMissingRate(t *testing.T) {
	proxy := newStripeProxy(t, startStripeMock(t))
	s := MustRunMain(t, pinned("2026-03-01"), withStripe(proxy.URL), withHostedPages)
	cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
		"name": "Rate GmbH", "email": "ap@rate.example", "currency": "EUR", "timezone": "Europe/Berlin"}})["id"].(string)
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "payment_terms": "net_30", "interest": map[string]any{"preset": "eu_late_payment"}}})
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
		"issue_date": "2026-01-01", "lines": []map[string]any{{"description": "Work", "quantity": "1", "unit_amount": 100000}}}})
	s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
	got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv["id"].(string)})
	balance := num(got, "balance_due")
	if r := s.do(request{Method: "GET", Path: "/v1/invoices/" + inv["id"].(string) + "/accrual", Key: testAdminKey}); r.ErrorCode() != "missing_reference_rate" {
		t.Fatalf("accrual without the rate: %d %s", r.Status, r.Body)
	}
	link := got["hosted_invoice_url"].(string)
	mustContain(t, s.open("GET", link, nil).Body, "interest accrued since the last posting is not included yet",
		"interest accrued since the last posting cannot be worked out yet")
	_, button, sent := payByCard(t, s, proxy, link)
	// The sweep skips the invoice while the rate is missing: nothing posted.
	if balance != 100000 || sent.Get("line_items[0][price_data][unit_amount]") != "100000" || button != "€1,000.00" {
		t.Fatalf("balance %d: button %q, sent %v", balance, button, sent)
	}
}

// mustZone loads a time zone.
func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestHostedAccountPage(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"), withHostedPages)
	cli, inv := overdueInvoice(t, s)
	client := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli})
	link, _ := client["portal_url"].(string)
	if token, ok := strings.CutPrefix(link, testPublicURL+"/c/"); !ok || len(token) != 43 {
		t.Fatalf("portal_url %q", link)
	}
	list := s.must(200, request{Method: "GET", Path: "/v1/clients"})["data"].([]any)
	if list[0].(map[string]any)["portal_url"] != link {
		t.Fatalf("the list gives %v", list[0])
	}
	// A tougher version announced for May.
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
		"effective_from": "2026-05-01", "payment_terms": "net_15", "late_fee": map[string]any{"flat": 5000},
		"interest": map[string]any{"annual_rate": "12"}}})

	p := s.open("GET", link, nil)
	if p.Status != 200 {
		t.Fatalf("account page: %d %s", p.Status, p.Body)
	}
	mustHeader(t, p, "Referrer-Policy", "no-referrer")
	mustHeader(t, p, "X-Robots-Tag", "noindex, nofollow")
	mustContain(t, p.Body, "Acme GmbH", "as of 1 March 2026", `id="total-due">€1,034.54<`,
		`<a href="`+strings.TrimPrefix(inv["hosted_invoice_url"].(string), testPublicURL)+`">INV-2026-0001</a>`, "29 days overdue",
		"Version 1, in force since 1 January 2026.", "A late fee of 25.00 EUR applies.",
		"New terms from 1 May 2026", "Payment is due within 15 days of the issue date.", "A late fee of 50.00 EUR applies.",
		"No longer: A late fee of 25.00 EUR applies.", "1 March 2026: Your payment terms", "1 March 2026: Notice of new payment terms")

	pdfLink := link + "/statement.pdf"
	st := s.open("GET", pdfLink, nil)
	if st.Status != 200 || st.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("statement: %d %v", st.Status, st.Header)
	}
	mustContain(t, pdfText(t, []byte(st.Body)), "INV-2026-0001", "1,034.54")

	rotated := s.must(200, request{Method: "POST", Path: "/v1/clients/" + cli + "/rotate_link"})["portal_url"].(string)
	if rotated == link {
		t.Fatal("rotation kept the link")
	}
	for _, old := range []string{link, pdfLink} {
		if p := s.open("GET", old, nil); p.Status != 404 {
			t.Errorf("%s after rotation: %d", old, p.Status)
		}
	}
	if p := s.open("GET", rotated, nil); p.Status != 200 {
		t.Fatalf("the new link: %d", p.Status)
	}
}

// TestHostedPagesSpeakTheClientsLanguage: a client's language sets the
// words of its pages and how numbers, money and dates are written.
func TestHostedPagesSpeakTheClientsLanguage(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"), withHostedPages)
	if r := s.do(request{Method: "POST", Path: "/v1/clients", Key: testAdminKey, Body: map[string]any{
		"name": "X", "email": "x@x.example", "currency": "EUR", "timezone": "UTC", "language": "fr"}}); r.Status != 400 || !strings.Contains(string(r.Body), `"language"`) {
		t.Fatalf("language fr: %d %s", r.Status, r.Body)
	}
	cli, inv := overdueInvoice(t, s)
	if got := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli})["language"]; got != "en" {
		t.Fatalf("default language %v", got)
	}
	link := inv["hosted_invoice_url"].(string)
	for _, c := range []struct{ lang, html, title, due, date string }{
		{"de", `<html lang="de">`, "<h1>Rechnung INV-2026-0001</h1>", "1.034,54\u00a0€", "1. Januar 2026"},
		{"ru", `<html lang="ru">`, "<h1>Счёт INV-2026-0001</h1>", "1\u00a0034,54\u00a0€", "1 января 2026 г."},
		{"bg", `<html lang="bg">`, "<h1>Фактура INV-2026-0001</h1>", "1\u00a0034,54\u00a0€", "1 януари 2026 г."},
	} {
		s.must(200, request{Method: "PATCH", Path: "/v1/clients/" + cli, Body: map[string]any{"language": c.lang}})
		mustContain(t, s.open("GET", link, nil).Body, c.html, c.title, `id="amount-due-today">`+c.due+`<`, c.date)
	}
	mustContain(t, s.open("GET", s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli})["portal_url"].(string), nil).Body,
		`<html lang="bg">`, "Неплатени фактури", "1\u00a0034,54\u00a0€")
}

// TestHostedPayThreeDecimalCurrency: in a currency Stripe takes only in
// multiples of 10 minor units, the button shows the rounded amount, the
// one Remit sends.
func TestHostedPayThreeDecimalCurrency(t *testing.T) {
	proxy := newStripeProxy(t, startStripeMock(t))
	s := MustRunMain(t, pinned("2026-03-01"), withStripe(proxy.URL), withHostedPages)
	cli := s.mustClient("Kuwait Trading", "KWD", "Asia/Kuwait")
	inv := s.mustInvoice(cli, 12345)
	link := inv["hosted_invoice_url"].(string)
	page := s.open("GET", link, nil).Body
	_, button, sent := payByCard(t, s, proxy, link)
	if sent.Get("line_items[0][price_data][unit_amount]") != "12350" || !strings.Contains(button, "12.350") ||
		!strings.Contains(page, `<input type="hidden" name="amount" value="12350">`) {
		t.Fatalf("button %q, sent %v", button, sent)
	}
}
