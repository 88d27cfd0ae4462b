package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// acceptForm reads the hidden fields of the page's accept form.
func acceptForm(t *testing.T, body string) url.Values {
	t.Helper()
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z_0-9]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		form.Set(m[1], m[2])
	}
	if form.Get("agreement_id") == "" || form.Get("form_token") == "" || len(form.Get("terms_sha256")) != 64 {
		t.Fatalf("no accept form on the page:\n%s", body)
	}
	return form
}

func TestTermsAcceptance(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"), withHostedPages)
	cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
		"name": "Acme GmbH", "email": "ap@acme.example", "contact_name": "Jana Novak", "currency": "EUR", "timezone": "Europe/Berlin"}})
	id := cli["id"].(string)
	if r := s.do(request{Method: "POST", Path: "/v1/clients/" + id + "/agreements", Key: testAdminKey, Body: map[string]any{
		"effective_from": "2026-01-01", "enforce_only_if_accepted": true}}); r.Status != 400 || !strings.Contains(string(r.Body), "enforce_only_if_accepted") {
		t.Fatalf("enforce_only_if_accepted without require_acceptance: %d %s", r.Status, r.Body)
	}
	ag := s.must(201, request{Method: "POST", Path: "/v1/clients/" + id + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500},
		"interest": map[string]any{"annual_rate": "12"}, "require_acceptance": true, "enforce_only_if_accepted": true}})
	if ag["require_acceptance"] != true || ag["enforce_only_if_accepted"] != true || ag["acceptance"] != nil {
		t.Fatalf("agreement %v", ag)
	}
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": id, "issue": true,
		"issue_date": "2026-01-01", "lines": []map[string]any{{"description": "Website redesign", "unit_amount": 100000}}}})
	invID := inv["id"].(string)

	pending := s.must(200, request{Method: "GET", Path: "/v1/clients?acceptance=pending"})["data"].([]any)
	if len(pending) != 1 || pending[0].(map[string]any)["id"] != id {
		t.Fatalf("pending acceptance: %v", pending)
	}
	if r := s.do(request{Method: "GET", Path: "/v1/clients?acceptance=maybe", Key: testAdminKey}); r.Status != 400 {
		t.Fatalf("acceptance=maybe: %d", r.Status)
	}

	// Not accepted: the sweep holds the late fee and interest back and says so.
	run := s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
	if got := skippedBy(run)[invID]; !strings.HasPrefix(got, "awaiting_acceptance fees and interest held back: agreement version 1") {
		t.Fatalf("run log for the invoice: %q (%v)", got, run)
	}
	if n := s.count("charges", "invoice_id = ?", invID); n != 0 {
		t.Fatalf("%d charges posted before acceptance", n)
	}
	if q := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + invID + "/accrual"}); num(q, "payoff") != 100000 {
		t.Fatalf("payoff before acceptance: %v", q)
	}

	link := cli["portal_url"].(string)
	p := s.open("GET", link, nil)
	mustContain(t, p.Body, "Please read and accept these terms", "Payment terms, version 1, in force from 1 January 2026.",
		"A late fee of 25.00 EUR applies.", "Fees and interest under this version apply only once you have accepted it.")
	form := acceptForm(t, p.Body)
	accept := link + "/accept"

	// A form the page did not serve, one from another site, an empty name,
	// an unticked box: nothing is recorded.
	forged := url.Values{"agreement_id": {form.Get("agreement_id")}, "terms_sha256": {form.Get("terms_sha256")}, "form_token": {strings.Repeat("0", 64)},
		"name": {"Mallory"}, "agree": {"yes"}}
	if r := s.open("POST", accept, forged); r.Status != 403 {
		t.Fatalf("forged form: %d %s", r.Status, r.Body)
	}
	noName := url.Values{}
	for k, v := range form {
		noName[k] = v
	}
	noName.Set("agree", "yes")
	if r := s.open("POST", accept, noName); r.Status != 400 || !strings.Contains(r.Body, "Please type your full name.") {
		t.Fatalf("no name: %d", r.Status)
	}
	noBox := url.Values{}
	for k, v := range form {
		noBox[k] = v
	}
	noBox.Set("name", "Jana Novak")
	if r := s.open("POST", accept, noBox); r.Status != 400 || !strings.Contains(r.Body, "Please tick the box") || !strings.Contains(r.Body, `value="Jana Novak"`) {
		t.Fatalf("no box: %d", r.Status)
	}
	if n := s.count("agreement_acceptances", "1 = 1"); n != 0 {
		t.Fatalf("%d acceptances recorded from bad forms", n)
	}

	form.Set("name", "Jana Novak")
	form.Set("agree", "yes")
	r := s.open("POST", accept, form)
	if r.Status != 303 || !strings.HasSuffix(r.Header.Get("Location"), "?accepted=1#agreement-h") {
		t.Fatalf("accept: %d %v %s", r.Status, r.Header, r.Body)
	}
	list := s.must(200, request{Method: "GET", Path: "/v1/clients/" + id + "/agreements"})["data"].([]any)
	acc, _ := list[0].(map[string]any)["acceptance"].(map[string]any)
	if acc == nil {
		t.Fatalf("agreement after acceptance: %v", list[0])
	}
	sum := sha256.Sum256([]byte(acc["terms_text"].(string)))
	if acc["name"] != "Jana Novak" || acc["ip_address"] != "127.0.0.1" || acc["user_agent"] != "Go-http-client/1.1" ||
		acc["terms_sha256"] != hex.EncodeToString(sum[:]) || acc["terms_sha256"] != form.Get("terms_sha256") ||
		acc["accepted_at"] != "2026-03-01T12:00:00Z" || !strings.HasPrefix(acc["terms_text"].(string), "Payment terms, version 1, in force from 1 January 2026.\nPayment is due within 30 days") {
		t.Fatalf("acceptance %v", acc)
	}
	if n := s.count("events", "type = ? AND client_id = ?", "agreement.accepted", id); n != 1 {
		t.Fatalf("%d agreement.accepted events", n)
	}
	if again := s.open("POST", accept, form); again.Status != 303 || s.count("agreement_acceptances", "1 = 1") != 1 {
		t.Fatalf("accepting twice: %d", again.Status)
	}
	if pending := s.must(200, request{Method: "GET", Path: "/v1/clients?acceptance=pending"})["data"].([]any); len(pending) != 0 {
		t.Fatalf("pending after acceptance: %v", pending)
	}

	page := s.open("GET", link+"?accepted=1", nil).Body
	mustContain(t, page, "your acceptance of the terms is recorded", "Accepted by Jana Novak on 1 March 2026 at 13:00 CET.")
	pdfLink := link + "/agreements/" + form.Get("agreement_id") + "/acceptance.pdf"
	doc := s.open("GET", pdfLink, nil)
	if doc.Status != 200 || doc.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("acceptance PDF: %d", doc.Status)
	}
	mustContain(t, pdfText(t, []byte(doc.Body)), "Payment terms accepted", "A late fee of 25.00 EUR applies.", "Name typed: Jana Novak",
		"IP address: 127.0.0.1", "Browser: Go-http-client/1.1", form.Get("terms_sha256")[:40])

	// The admin gets the same document through the API.
	if r := s.do(request{Method: "GET", Path: "/v1/clients/" + id + "/agreements/" + form.Get("agreement_id") + "/acceptance.pdf", Key: testAdminKey}); r.Status != 200 ||
		r.Header.Get("Content-Type") != "application/pdf" || !strings.Contains(pdfText(t, r.Body), "Name typed: Jana Novak") {
		t.Fatalf("acceptance PDF through the API: %d", r.Status)
	}
	if r := s.do(request{Method: "GET", Path: "/v1/clients/" + id + "/agreements/agr_missing/acceptance.pdf", Key: testAdminKey}); r.Status != 404 {
		t.Fatalf("acceptance PDF of no version: %d", r.Status)
	}

	// Accepted: the next sweep posts what was held back.
	s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
	if q := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + invID + "/accrual"}); num(q, "payoff") != 103454 {
		t.Fatalf("payoff after acceptance: %v", q)
	}
	if n := s.count("charges", "invoice_id = ?", invID); n != 2 {
		t.Fatalf("%d charges after acceptance, want the late fee and February's interest", n)
	}
}
