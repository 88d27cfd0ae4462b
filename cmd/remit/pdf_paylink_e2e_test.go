package main

import (
	"strings"
	"testing"
)

// TestInvoicePDFLinksToTheHostedPage: with hosted pages on, the invoice PDF
// sends the client to the invoice's page, which quotes the day's payoff
// whenever it is opened, and rendering it opens no Checkout session (a
// session would charge the figure of the day it was printed). Without
// hosted pages it keeps the Checkout link; a revoked page is not printed.
func TestInvoicePDFLinksToTheHostedPage(t *testing.T) {
	proxy := newStripeProxy(t, startStripeMock(t))
	s := MustRunMain(t, pinned("2026-03-01"), withStripe(proxy.URL), withHostedPages)
	_, inv := overdueInvoice(t, s)
	id := inv["id"].(string)
	link := inv["hosted_invoice_url"].(string)

	text := pdfText(t, s.getPDF("/v1/invoices/"+id+"/pdf", nil).Body)
	// (pdftotext breaks the long link where the PDF wraps it.)
	squashed := func(s string) string { return strings.Join(strings.Fields(s), "") }
	mustContain(t, text, "interest to the day included")
	if !strings.Contains(squashed(text), link) {
		t.Errorf("the PDF lacks the page's link %s", link)
	}
	if strings.Contains(text, "checkout") || len(proxy.sent("POST", "/v1/checkout/sessions")) != 0 {
		t.Fatalf("the PDF opened a Checkout session:\n%s", text)
	}

	// Revoked: the page is gone from the PDF, Checkout takes its place.
	s.must(200, request{Method: "POST", Path: "/v1/invoices/" + id + "/revoke_link"})
	text = pdfText(t, s.getPDF("/v1/invoices/"+id+"/pdf", nil).Body)
	if strings.Contains(squashed(text), link) || strings.Contains(text, "interest to the day included") {
		t.Fatalf("a revoked page is still printed:\n%s", text)
	}
	if len(proxy.sent("POST", "/v1/checkout/sessions")) != 1 {
		t.Fatalf("no Checkout link without the page:\n%s", text)
	}
}
