package main

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// mailParts returns a message's headers and its text/plain body.
func mailParts(t *testing.T, raw []byte) (mail.Header, string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var text string
	var walk func(h map[string][]string, body io.Reader)
	walk = func(h map[string][]string, body io.Reader) {
		ct := ""
		if v := h["Content-Type"]; len(v) > 0 {
			ct = v[0]
		}
		mt, params, _ := mime.ParseMediaType(ct)
		switch {
		case strings.HasPrefix(mt, "multipart/"):
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextPart()
				if err != nil {
					return
				}
				walk(p.Header, p)
			}
		case mt == "text/plain" && text == "":
			if enc := h["Content-Transfer-Encoding"]; len(enc) > 0 && strings.EqualFold(enc[0], "quoted-printable") {
				body = quotedprintable.NewReader(body)
			} else if len(enc) > 0 && strings.EqualFold(enc[0], "base64") {
				b, _ := io.ReadAll(body)
				body = base64Reader(b)
			}
			b, _ := io.ReadAll(body)
			text = strings.ReplaceAll(string(b), "\r\n", "\n")
		}
	}
	walk(msg.Header, msg.Body)
	return msg.Header, text
}

// sentMails delivers the outbox and returns the mails by their event type.
func (s *testServer) sentMails(t *testing.T, sink *smtpSink) map[string][]string {
	t.Helper()
	if _, _, err := s.Notifier.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	out := map[string][]string{}
	for _, raw := range sink.messages {
		h, body := mailParts(t, raw)
		if h.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("a mail without Auto-Submitted: %v", h)
		}
		if strings.Contains(string(raw), "evt_") || h.Get("Remit-Event-Id") != "" {
			t.Errorf("a mail shows an internal event id:\n%s", raw)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
		out[h.Get("Remit-Event-Type")] = append(out[h.Get("Remit-Event-Type")], subject+"\n"+body)
	}
	sink.messages = nil
	return out
}

// TestEmailsTheClientCanActOn: every mail greets the contact by name,
// names the invoice, what happened and its amount, the amount due today,
// the date to pay by, how to pay (the hosted page, the bank details with
// the reference) and the basis; the first agreement sends its terms, not a
// change; a part payment sends a receipt; the admin lists the deliveries.
func TestEmailsTheClientCanActOn(t *testing.T) {
	sink, addr := startSMTPSink(t)
	s := MustRunMain(t, pinned("2026-01-01"), withHostedPages, func(c *Config) {
		c.SMTPURL, c.SMTPFrom = "smtp://"+addr, "billing@studio.example"
	})
	cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
		"name": "Acme GmbH", "email": "ap@acme.example", "contact_name": "Jana Novak", "currency": "EUR", "timezone": "Europe/Berlin"}})
	id := cli["id"].(string)
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + id + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500},
		"interest": map[string]any{"annual_rate": "12"}, "require_acceptance": true}})
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": id, "issue": true,
		"lines": []map[string]any{{"description": "Website redesign", "unit_amount": 100000}}}})
	link := inv["hosted_invoice_url"].(string)

	mails := s.sentMails(t, sink)
	terms := mails["agreement.notice"]
	if len(terms) != 1 {
		t.Fatalf("agreement mails %v", mails)
	}
	mustContain(t, terms[0], "Your payment terms (Studio Remit)", "Dear Jana Novak,", "These are the payment terms of our agreement.",
		"A late fee of 25.00 EUR applies.", "accept them where we ask you to, on your account page:\n"+cli["portal_url"].(string))
	if strings.Contains(terms[0], "No longer") || strings.Contains(terms[0], "Notice of new payment terms") {
		t.Errorf("the first agreement is told as a change:\n%s", terms[0])
	}
	issued := mails["invoice.issued"]
	if len(issued) != 1 {
		t.Fatalf("issued mails %v", mails)
	}
	mustContain(t, issued[0], "New invoice INV-2026-0001 (Studio Remit)", "Dear Jana Novak,", "Invoice: INV-2026-0001",
		"Total: €1,000.00", "Amount due today (1 January 2026): €1,000.00, interest to today included.",
		"Please pay by 31 January 2026.", "How to pay:\n  - online (the amount due today, the invoice and the terms): "+link,
		"by bank transfer: Studio Remit GmbH, Sparkasse, IBAN DE89370400440532013000, BIC COBADEFFXXX, reference INV-2026-0001",
		"Basis: the late-payment terms of our agreement (version 1, in force from 1 January 2026)")

	// Paid in part: a receipt with what is left.
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + inv["id"].(string) + "/payments", Body: map[string]any{"amount": 40000}})
	receipt := s.sentMails(t, sink)["payment.received"]
	if len(receipt) != 1 {
		t.Fatal("no receipt for a part payment")
	}
	mustContain(t, receipt[0], "Payment received: invoice INV-2026-0001", "we received a payment of €400.00 for invoice INV-2026-0001",
		"Balance due: €600.00", "Amount due today (1 January 2026): €600.00")

	// Overdue: the fee's mail states its amount, the payoff and that the date passed.
	s.SetNow(time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC))
	s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
	late := s.sentMails(t, sink)
	charge := late["charge.posted"]
	if len(charge) != 1 {
		t.Fatalf("charge mails %v", late)
	}
	// 600.00 + 25.00 + interest at 12 % on 600.00 for Feb 1-10 (1.97).
	mustContain(t, charge[0], "A charge was added to invoice INV-2026-0001", "a charge of €25.00 was added to invoice INV-2026-0001",
		"Amount due today (10 February 2026): €626.97", "The due date has passed: please pay now.", link)

	// In German: the same mail in the client's language.
	s.must(200, request{Method: "PATCH", Path: "/v1/clients/" + id, Body: map[string]any{"language": "de"}})
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + inv["id"].(string) + "/payments", Body: map[string]any{"amount": 10000}})
	de := s.sentMails(t, sink)["payment.received"]
	if len(de) != 1 {
		t.Fatal("no receipt in German")
	}
	mustContain(t, de[0], "Zahlung erhalten: Rechnung INV-2026-0001", "Guten Tag Jana Novak,",
		"Wir haben eine Zahlung von 100,00\u00a0€ für die Rechnung INV-2026-0001 erhalten.", "Offener Betrag: 525,00\u00a0€",
		"Heute fällig (10. Februar 2026): 526,97\u00a0€", "Das Fälligkeitsdatum ist überschritten", "So bezahlen Sie:",
		"Verwendungszweck INV-2026-0001", "Mit freundlichen Grüßen")

	list := s.must(200, request{Method: "GET", Path: "/v1/clients/" + id + "/email_deliveries"})["data"].([]any)
	if len(list) < 4 {
		t.Fatalf("deliveries %v", list)
	}
	for _, d := range list {
		if d.(map[string]any)["recipient"] != "ap@acme.example" || d.(map[string]any)["status"] != "succeeded" {
			t.Fatalf("delivery %v", d)
		}
	}
	if r := s.do(request{Method: "GET", Path: "/v1/clients/" + id + "/email_deliveries?status=bounced", Key: testAdminKey}); r.Status != 400 {
		t.Fatalf("status=bounced: %d", r.Status)
	}
	if r := s.do(request{Method: "GET", Path: "/v1/clients/cli_missing/email_deliveries", Key: testAdminKey}); r.Status != 404 {
		t.Fatalf("unknown client: %d", r.Status)
	}
}
