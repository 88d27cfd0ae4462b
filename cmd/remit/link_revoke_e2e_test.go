package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/remit/remit/domain"
)

// TestRevokeLinks: revoking an invoice's and a client's link ends them
// without new ones. The old pages are the plain 404 of a wrong token, the
// API shows the links as null, the account page lists the invoice without
// its link, and e-mails sent meanwhile carry no link (the bank details
// instead); revoking again changes nothing, and rotate_link brings links
// back, to pages and e-mails alike.
func TestRevokeLinks(t *testing.T) {
	sink, addr := startSMTPSink(t)
	s := MustRunMain(t, pinned("2026-01-01"), withHostedPages, func(c *Config) {
		c.SMTPURL, c.SMTPFrom = "smtp://"+addr, "billing@studio.example"
	})
	cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
		"name": "Acme GmbH", "email": "ap@acme.example", "contact_name": "Jana Novak", "currency": "EUR", "timezone": "Europe/Berlin"}})
	cliID := cli["id"].(string)
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cliID + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "payment_terms": "net_30", "reminder_offsets": []int{0, 7}}})
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cliID, "issue": true,
		"lines": []map[string]any{{"description": "Website redesign", "unit_amount": 100000}}}})
	id, link, portal := inv["id"].(string), inv["hosted_invoice_url"].(string), cli["portal_url"].(string)
	if !strings.HasPrefix(link, testPublicURL+"/i/") || !strings.HasPrefix(portal, testPublicURL+"/c/") {
		t.Fatalf("links %q %q", link, portal)
	}
	if got := s.open("GET", portal, nil).Body; !strings.Contains(got, strings.TrimPrefix(link, testPublicURL)) {
		t.Fatal("the account page does not link the invoice")
	}
	s.sentMails(t, sink) // the terms and the invoice, sent with links

	// isNull reports whether the object has the field, as null.
	isNull := func(obj map[string]any, field string) bool {
		v, has := obj[field]
		return has && v == nil
	}
	for range 2 { // the second time changes nothing and answers the same
		if got := s.must(200, request{Method: "POST", Path: "/v1/invoices/" + id + "/revoke_link"}); !isNull(got, "hosted_invoice_url") || got["id"] != id {
			t.Fatalf("revoke the invoice's link: %v", got)
		}
		if got := s.must(200, request{Method: "POST", Path: "/v1/clients/" + cliID + "/revoke_link"}); !isNull(got, "portal_url") || got["id"] != cliID {
			t.Fatalf("revoke the client's link: %v", got)
		}
	}
	if n, m := s.count("events", "type = ? AND invoice_id = ?", "invoice.link_revoked", id), s.count("events", "type = ? AND client_id = ?", "client.link_revoked", cliID); n != 1 || m != 1 {
		t.Fatalf("%d invoice.link_revoked and %d client.link_revoked events, want one each", n, m)
	}
	var revoked []any
	for _, e := range s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id + "/events?limit=100"})["data"].([]any) {
		if e.(map[string]any)["type"] == "invoice.link_revoked" {
			revoked = append(revoked, e)
		}
	}
	if len(revoked) != 1 || revoked[0].(map[string]any)["actor"] == "system" {
		t.Fatalf("the invoice's audit trail: %v", revoked)
	}
	if got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id}); !isNull(got, "hosted_invoice_url") {
		t.Fatalf("GET invoice after revoke: %v", got["hosted_invoice_url"])
	}
	if got := s.must(200, request{Method: "GET", Path: "/v1/invoices?client_id=" + cliID})["data"].([]any)[0].(map[string]any); !isNull(got, "hosted_invoice_url") {
		t.Fatalf("the invoice list after revoke: %v", got["hosted_invoice_url"])
	}
	if got := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cliID}); !isNull(got, "portal_url") {
		t.Fatalf("GET client after revoke: %v", got["portal_url"])
	}
	for _, c := range s.must(200, request{Method: "GET", Path: "/v1/clients"})["data"].([]any) {
		if c.(map[string]any)["id"] == cliID && !isNull(c.(map[string]any), "portal_url") {
			t.Fatalf("the client list after revoke: %v", c)
		}
	}
	for _, old := range []struct{ method, link string }{{"GET", link}, {"GET", link + "/invoice.pdf"}, {"POST", link + "/pay"},
		{"GET", portal}, {"GET", portal + "/statement.pdf"}} {
		if p := s.open(old.method, old.link, url.Values{}); p.Status != 404 || p.Body != "404 page not found\n" {
			t.Errorf("%s %s after revoke: %d %q", old.method, old.link, p.Status, p.Body)
		}
	}

	// The reminder on the due date, and a notice of new terms, carry no
	// link: the bank details and the reference say how to pay.
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cliID + "/agreements", Body: map[string]any{
		"effective_from": "2026-03-01", "payment_terms": "net_14", "late_fee": map[string]any{"flat": 2500}, "reminder_offsets": []int{0, 7}}})
	s.SetNow(time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC))
	s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
	mails := s.sentMails(t, sink)
	if len(mails["invoice.reminder"]) != 1 || len(mails["agreement.notice"]) != 1 {
		t.Fatalf("mails %v", mails)
	}
	reminder := mails["invoice.reminder"][0]
	mustContain(t, reminder, "Payment reminder: invoice INV-2026-0001", "Amount due today (31 January 2026): €1,000.00",
		"How to pay:\n  - by bank transfer: Studio Remit GmbH, Sparkasse, IBAN DE89370400440532013000, BIC COBADEFFXXX, reference INV-2026-0001")
	for _, m := range append(mails["invoice.reminder"], mails["agreement.notice"]...) {
		if strings.Contains(m, testPublicURL) || strings.Contains(m, "online") || strings.Contains(m, "account page") {
			t.Errorf("a mail after revoke carries a link:\n%s", m)
		}
	}

	// rotate_link issues fresh links: pages and mails have them again.
	newLink := s.must(200, request{Method: "POST", Path: "/v1/invoices/" + id + "/rotate_link"})["hosted_invoice_url"].(string)
	newPortal := s.must(200, request{Method: "POST", Path: "/v1/clients/" + cliID + "/rotate_link"})["portal_url"].(string)
	if newLink == link || newPortal == portal || !strings.HasPrefix(newLink, testPublicURL+"/i/") || !strings.HasPrefix(newPortal, testPublicURL+"/c/") {
		t.Fatalf("rotated links %q %q", newLink, newPortal)
	}
	if s.open("GET", newLink, nil).Status != 200 || s.open("GET", newPortal, nil).Status != 200 || s.open("GET", link, nil).Status != 404 {
		t.Fatal("after rotation: the new links do not open, or the old one does")
	}
	if got := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + id})["hosted_invoice_url"]; got != newLink {
		t.Fatalf("GET invoice after rotation: %v", got)
	}
	s.SetNow(time.Date(2026, 2, 7, 12, 0, 0, 0, time.UTC))
	s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
	again := s.sentMails(t, sink)["invoice.reminder"]
	if len(again) != 1 {
		t.Fatalf("second reminder: %v", again)
	}
	mustContain(t, again[0], "online (the amount due today, the invoice and the terms): "+newLink)

	// Who may revoke, and what.
	_, writeKey := s.newKey("writer", "write")
	draft := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cliID,
		"lines": []map[string]any{{"description": "Later", "unit_amount": 100}}}})["id"].(string)
	for _, c := range []struct {
		path, key string
		status    int
		code      string
	}{
		{"/v1/invoices/" + id + "/revoke_link", writeKey, 403, "forbidden"},
		{"/v1/clients/" + cliID + "/revoke_link", writeKey, 403, "forbidden"},
		{"/v1/invoices/" + id + "/revoke_link", "", 401, "unauthorized"},
		{"/v1/invoices/inv_nope/revoke_link", testAdminKey, 404, "not_found"},
		{"/v1/clients/cli_nope/revoke_link", testAdminKey, 404, "not_found"},
		{"/v1/invoices/" + draft + "/revoke_link", testAdminKey, 409, "invoice_not_open"},
	} {
		r := s.do(request{Method: "POST", Path: c.path, Key: c.key})
		if r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("POST %s: %d %s, want %d %s", c.path, r.Status, r.Body, c.status, c.code)
		}
	}
	if s.open("GET", newLink, nil).Status != 200 {
		t.Fatal("a refused revocation revoked the link")
	}

	// The invoice's link alone revoked: its mails do not send the client
	// to the account page instead.
	s.must(200, request{Method: "POST", Path: "/v1/invoices/" + id + "/revoke_link"})
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{"amount": 40000}})
	receipt := s.sentMails(t, sink)["payment.received"]
	if len(receipt) != 1 {
		t.Fatal("no receipt for a part payment")
	}
	mustContain(t, receipt[0], "Balance due: €600.00", "by bank transfer:")
	if strings.Contains(receipt[0], testPublicURL) {
		t.Errorf("a mail of an invoice whose link is revoked carries a link:\n%s", receipt[0])
	}
	account := s.open("GET", newPortal, nil)
	if account.Status != 200 {
		t.Fatal("revoking the invoice's link closed the account page")
	}
	// The account page lists the invoice, without a link to its page.
	mustContain(t, account.Body, "<td>INV-2026-0001</td>")
	if strings.Contains(account.Body, `href="/i/`) {
		t.Errorf("the account page links a revoked invoice page:\n%s", account.Body)
	}
}

// TestRevokeLinksWithoutHostedPages: with hosted pages off there is no
// link to revoke.
func TestRevokeLinksWithoutHostedPages(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"))
	cli, inv := overdueInvoice(t, s)
	for _, path := range []string{"/v1/invoices/" + inv["id"].(string) + "/revoke_link", "/v1/clients/" + cli + "/revoke_link"} {
		if r := s.do(request{Method: "POST", Path: path, Key: testAdminKey}); r.Status != 409 || r.ErrorCode() != "conflict" {
			t.Errorf("POST %s: %d %s", path, r.Status, r.Body)
		}
	}
}

// TestRevokedLinkWithoutBankDetails: with no link and no bank details to
// give, the mail asks the client to reply, and prints no empty address.
func TestRevokedLinkWithoutBankDetails(t *testing.T) {
	sink, addr := startSMTPSink(t)
	s := MustRunMain(t, pinned("2026-03-01"), withHostedPages, func(c *Config) {
		c.SMTPURL, c.SMTPFrom = "smtp://"+addr, "billing@studio.example"
		c.Business.Bank = domain.BankDetails{}
	})
	_, inv := overdueInvoice(t, s)
	id := inv["id"].(string)
	s.sentMails(t, sink)
	s.must(200, request{Method: "POST", Path: "/v1/invoices/" + id + "/revoke_link"})
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{"amount": 50000}})
	receipt := s.sentMails(t, sink)["payment.received"]
	if len(receipt) != 1 {
		t.Fatal("no receipt for a part payment")
	}
	mustContain(t, receipt[0], "Amount due today (1 March 2026): €534.54", "To arrange payment, please reply to this e-mail.")
	for _, bad := range []string{testPublicURL, "How to pay:", "online", ": \n", "here:"} {
		if strings.Contains(receipt[0], bad) {
			t.Errorf("the mail has %q:\n%s", bad, receipt[0])
		}
	}
}
