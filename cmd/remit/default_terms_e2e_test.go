package main

import (
	"reflect"
	"strings"
	"testing"
)

// TestDefaultTermsAreNotAnAgreement: an invoice of a client with no
// agreement carries no placeholder agreement (empty id, version 0, a zero
// timestamp) but agreement null, terms_source "default" and the default
// terms, and its PDF says "Default terms"; a client with an agreement gets
// it and no default terms; a draft has neither yet.
func TestDefaultTermsAreNotAnAgreement(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-02"))
	lines := []map[string]any{{"description": "Work", "unit_amount": 100000}}

	none := s.mustClient("No Paper Ltd", "EUR", "UTC")
	draft := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": none, "lines": lines}})
	if draft["agreement"] != nil || draft["terms_source"] != nil || draft["default_terms"] != nil {
		t.Fatalf("draft: agreement %v, terms_source %v, default_terms %v", draft["agreement"], draft["terms_source"], draft["default_terms"])
	}
	inv := s.must(200, request{Method: "POST", Path: "/v1/invoices/" + draft["id"].(string) + "/issue"})
	want := map[string]any{
		"payment_terms": "net_30", "grace_days": 0.0, "late_fee": nil, "interest": nil, "fixed_compensation": 0.0,
		"reminder_offsets": []any{-3.0, 0.0, 7.0, 14.0, 30.0}, "suspension": nil, "allocation": "charges_first", "milestones": nil,
	}
	if inv["agreement"] != nil || inv["terms_source"] != "default" || !reflect.DeepEqual(inv["default_terms"], want) || inv["due_date"] != "2026-04-01" {
		t.Fatalf("issued without an agreement: agreement %v, terms_source %v, default_terms %v, due %v",
			inv["agreement"], inv["terms_source"], inv["default_terms"], inv["due_date"])
	}
	again := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv["id"].(string)})
	if again["agreement"] != nil || again["terms_source"] != "default" || !reflect.DeepEqual(again["default_terms"], want) {
		t.Fatalf("read back: %v %v %v", again["agreement"], again["terms_source"], again["default_terms"])
	}
	doc := s.getPDF("/v1/invoices/"+inv["id"].(string)+"/pdf", nil)
	if doc.Status != 200 {
		t.Fatalf("PDF: %d %s", doc.Status, doc.Body)
	}
	text := pdfText(t, doc.Body)
	mustContain(t, text, "Default terms", "No agreement is on file for this client, so our default terms apply:",
		"Payment is due within 30 days of the issue date")
	if containsAny(text, "As agreed", "Payment terms") {
		t.Fatalf("the PDF of default terms speaks of an agreement:\n%s", text)
	}

	st := s.must(200, request{Method: "GET", Path: "/v1/clients/" + none + "/statement"})
	if basis := st["invoices"].([]any)[0].(map[string]any)["legal_basis"]; basis != "our default terms, as printed on the invoice (no agreement was on file)" {
		t.Fatalf("statement legal basis %q", basis)
	}

	with := s.mustClient("Paper Trail GmbH", "EUR", "UTC")
	ag := s.must(201, request{Method: "POST", Path: "/v1/clients/" + with + "/agreements", Body: map[string]any{
		"effective_from": "2026-03-01", "payment_terms": "net_15"}})
	agreed := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": with, "issue": true, "lines": lines}})
	got, _ := agreed["agreement"].(map[string]any)
	if got["id"] != ag["id"] || got["version"] != 1.0 || agreed["terms_source"] != "agreement" || agreed["default_terms"] != nil {
		t.Fatalf("issued under an agreement: agreement %v, terms_source %v, default_terms %v", got, agreed["terms_source"], agreed["default_terms"])
	}
	doc = s.getPDF("/v1/invoices/"+agreed["id"].(string)+"/pdf", nil)
	mustContain(t, pdfText(t, doc.Body), "Payment terms", "As agreed in our terms in force from 1 March 2026:")
}

// containsAny reports whether text holds one of subs.
func containsAny(text string, subs ...string) bool {
	for _, s := range subs {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}
