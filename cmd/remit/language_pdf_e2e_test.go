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
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{
		"client_id": cli, "issue": true,
		"lines": []map[string]any{{"description": "Разработка сайта", "quantity": "0.5",
			"unit_amount": 14059244, "tax_rate": "0"}}}})
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
		"Дата выставления 1 января 2026 г.", "Срок оплаты", "Разработка сайта 0,5 140 592,44",
		"К оплате 70 296,22 руб.",
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
		"Валюта RUB", "Правовое основание: наши стандартные условия, указанные в счёте (договор не заключался).",
		"С уважением,")
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

// TestLettersFollowTheClientsLanguage: the notice letters and the accepted
// terms with their evidence, built by the api from events and acceptances,
// are in the client's language.
func TestLettersFollowTheClientsLanguage(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"), withHostedPages)
	c := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
		"name": "Acme GmbH", "email": "ap@acme.example", "contact_name": "Jana Novak", "currency": "EUR",
		"timezone": "Europe/Berlin", "language": "de"}})
	cli := c["id"].(string)
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
		"effective_from": "2026-03-01", "payment_terms": "net_30", "require_acceptance": true}})
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
		"effective_from": "2026-03-31", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500}}})
	var first, change string
	const notices = "SELECT MIN(id), MAX(id) FROM events WHERE type = 'agreement.notice' AND client_id = ?"
	if err := s.DB.SQL().QueryRow(notices, cli).Scan(&first, &change); err != nil || first == change {
		t.Fatal("want two agreement notices", err)
	}
	text := pdfText(t, s.getPDF("/v1/clients/"+cli+"/notices/"+first+".pdf", nil).Body)
	mustContain(t, text, "MITTEILUNG", "Ihre Zahlungsbedingungen", "Guten Tag Jana Novak,",
		"Dies sind die Zahlungsbedingungen unserer Vereinbarung, gültig ab dem 1. März 2026.",
		"Mit freundlichen Grüßen")
	text = pdfText(t, s.getPDF("/v1/clients/"+cli+"/notices/"+change+".pdf", nil).Body)
	mustContain(t, text, "MITTEILUNG", "Mitteilung über die Änderung Ihrer Zahlungsbedingungen",
		"Gültig ab 31. März 2026",
		"ab dem 31. März 2026 ändern", "Was sich ändert", "Diese Änderungen gelten ab dem 31. März 2026.")
	for _, english := range []string{"NOTICE", "Dear", "What changes", "Yours", "These are the payment terms"} {
		if strings.Contains(text, english) {
			t.Errorf("the German notice says %q:\n%s", english, text)
		}
	}

	link := c["portal_url"].(string)
	form := acceptForm(t, s.open("GET", link, nil).Body)
	form.Set("name", "Jana Novak")
	form.Set("agree", "yes")
	if r := s.open("POST", link+"/accept", form); r.Status != 303 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	r := s.getPDF("/v1/clients/"+cli+"/agreements/"+form.Get("agreement_id")+"/acceptance.pdf", nil)
	if r.Status != 200 {
		t.Fatalf("acceptance PDF: %d %s", r.Status, r.Body)
	}
	text = pdfText(t, r.Body)
	mustContain(t, text, "BESTÄTIGUNG", "Annahme der Zahlungsbedingungen", "Version 1 unserer Vereinbarung",
		"Nachweis der Annahme:", "Angenommen am: 1. März 2026, 13:00:00 CET (2026-03-01T12:00:00Z)",
		"Eingegebener Name: Jana Novak", "IP-Adresse: 127.0.0.1", "Browser: Go-http-client/1.1",
		"SHA-256 des angezeigten Textes: "+form.Get("terms_sha256")[:40])
	for _, english := range []string{"ACCEPTED", "Name typed", "Evidence", "IP address"} {
		if strings.Contains(text, english) {
			t.Errorf("the German acceptance says %q:\n%s", english, text)
		}
	}
}
