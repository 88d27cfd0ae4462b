package main

import (
	"strings"
	"testing"
)

// TestDocumentsFollowTheClientsLanguage: a client's PDFs are in the
// client's language, with its money and dates, and a change of language
// renders them anew (the PDF cache keys on the language, not only on the
// invoice, which has not changed).
func TestDocumentsFollowTheClientsLanguage(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"))
	cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
		"name": "ООО Ромашка", "email": "ap@romashka.example", "contact_name": "Ирина Петрова", "language": "ru",
		"address": "ул. Ленина, 5\nМосква", "timezone": "Europe/Moscow", "currency": "RUB"}})["id"].(string)
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
		"lines": []map[string]any{{"description": "Разработка сайта", "quantity": "0.5", "unit_amount": 14059244, "tax_rate": "0"}}}})
	id := inv["id"].(string)
	if inv["total"] != float64(7029622) {
		t.Fatalf("total %v, want 7029622", inv["total"])
	}
	invoicePDF := func(lang string) (string, string) {
		t.Helper()
		r := s.getPDF("/v1/invoices/"+id+"/pdf", nil)
		if r.Status != 200 {
			t.Fatalf("invoice PDF in %s: %d %s", lang, r.Status, r.Body)
		}
		return pdfText(t, r.Body), r.Header.Get("ETag")
	}
	mustLack := func(text string, words ...string) {
		t.Helper()
		for _, w := range words {
			if strings.Contains(text, w) {
				t.Errorf("PDF text has %q:\n%s", w, text)
			}
		}
	}

	ru, ruTag := invoicePDF("ru")
	// The Go fonts have no ₽: roubles are written out, the Russian way.
	mustContain(t, ru, "СЧЁТ", "№ INV-2026-0001", "ПЛАТЕЛЬЩИК", "Контактное лицо: Ирина Петрова",
		"Дата выставления 1 января 2026 г.", "Срок оплаты", "Разработка сайта 0,5 140 592,44", "К оплате 70 296,22 руб.",
		"Итого 70 296,22 руб.", "Стр. 1 из 1")
	mustLack(ru, "INVOICE", "Balance due", "Issue date", "RECHNUNG", "₽")

	s.must(200, request{Method: "PATCH", Path: "/v1/clients/" + cli, Body: map[string]any{"language": "de"}})
	de, deTag := invoicePDF("de")
	mustContain(t, de, "RECHNUNG", "Nr. INV-2026-0001", "z. Hd. Ирина Петрова", "Ausstellungsdatum 1. Januar 2026",
		"Offener Betrag 70.296,22 RUB", "0,5 140.592,44", "Seite 1 von 1")
	mustLack(de, "СЧЁТ", "INVOICE", "Balance due")
	if deTag == ruTag {
		t.Errorf("the German PDF has the Russian one's ETag %s", deTag)
	}

	s.must(200, request{Method: "PATCH", Path: "/v1/clients/" + cli, Body: map[string]any{"language": "ru"}})
	if again, tag := invoicePDF("ru"); again != ru || tag != ruTag {
		t.Errorf("back in Russian, the PDF differs from the first Russian one (ETag %s, was %s)", tag, ruTag)
	}

	// The statement and a credit note speak Russian too.
	st := s.getPDF("/v1/clients/"+cli+"/statement.pdf", nil)
	if st.Status != 200 {
		t.Fatalf("statement PDF: %d %s", st.Status, st.Body)
	}
	statement := pdfText(t, st.Body)
	mustContain(t, statement, "ВЫПИСКА", "Выписка по расчётам и требование об оплате", "КОМУ", "Дата 1 января 2026 г.",
		"Валюта RUB", "С уважением,")
	mustLack(statement, "STATEMENT", "Total due", "Yours")

	cn := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/credit_notes", Body: map[string]any{
		"reason": "Скидка за задержку", "amount": 29622}})
	r := s.getPDF("/v1/credit_notes/"+cn["id"].(string)+"/pdf", nil)
	if r.Status != 200 {
		t.Fatalf("credit note PDF: %d %s", r.Status, r.Body)
	}
	note := pdfText(t, r.Body)
	mustContain(t, note, "КОРРЕКТИРОВОЧНЫЙ СЧЁТ", "Корректирует счёт INV-2026-0001", "Сумма корректировки 296,22 руб.",
		"Основание Скидка за задержку")
	mustLack(note, "CREDIT NOTE", "Amount credited")
}
