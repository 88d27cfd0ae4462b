package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// mailTo returns the one mail of type typ whose body names who.
func mailTo(t *testing.T, mails map[string][]string, typ, who string) string {
	t.Helper()
	var found []string
	for _, m := range mails[typ] {
		if strings.Contains(m, who) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s mails to %s in %v", len(found), typ, who, mails)
	}
	return found[0]
}

// mustNotContain fails when text has any of the English phrases.
func mustNotContain(tb testing.TB, text string, english ...string) {
	tb.Helper()
	for _, w := range english {
		if strings.Contains(text, w) {
			tb.Errorf("English %q in:\n%s", w, text)
		}
	}
}

// englishTerms are phrases of the English terms, charges and basis that
// must not reach a client who reads another language.
var englishTerms = []string{"Payment is due", "Late fee", "late fee", "interest", "Basis:", "Statutory", "principal", "days", "Charge:",
	"German Civil Code", "Civil Code of the Russian Federation", "assessed", "percentage points"}

// TestEmailsInTheClientsLanguage: a Russian and a German client read their
// terms, the legal basis and what each charge is in their own language,
// worded from the agreement and the ledger when the mail is sent.
func TestEmailsInTheClientsLanguage(t *testing.T) {
	sink, addr := startSMTPSink(t)
	s := MustRunMain(t, pinned("2026-01-01"), withHostedPages, func(c *Config) {
		c.SMTPURL, c.SMTPFrom = "smtp://"+addr, "billing@studio.example"
	})
	s.putRates("DE_BASE", [2]string{"2025-07-01", "1.27"})
	s.putRates("CBR_KEY", [2]string{"2025-10-27", "16.50"})
	client := func(name, contact, currency, lang string, agreement map[string]any) string {
		id := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{"name": name, "email": "ap@" + lang + ".example",
			"contact_name": contact, "currency": currency, "timezone": "UTC", "language": lang}})["id"].(string)
		agreement["effective_from"] = "2026-01-01"
		s.must(201, request{Method: "POST", Path: "/v1/clients/" + id + "/agreements", Body: agreement})
		return s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": id, "issue": true,
			"lines": []map[string]any{{"description": "Services", "unit_amount": 100000}}}})["id"].(string)
	}
	ruInvoice := client("ООО Ромашка", "Иван Петров", "RUB", "ru", map[string]any{"payment_terms": "net_30",
		"late_fee": map[string]any{"flat": 100000}, "interest": map[string]any{"preset": "ru_civil_code_395"}})
	client("Muster GmbH", "Erika Mustermann", "EUR", "de", map[string]any{"payment_terms": "net_14",
		"interest": map[string]any{"preset": "de_bgb_288"}})

	mails := s.sentMails(t, sink)
	ru := mailTo(t, mails, "agreement.notice", "Иван Петров")
	mustContain(t, ru, "Условия:", "  - Оплата производится в течение 30 дней с даты выставления счёта.",
		"  - Штраф за просрочку составляет 1\u00a0000,00\u00a0₽.",
		"основание — ст. 395 ГК РФ: ключевая ставка Банка России, действующая в каждый день просрочки.",
		"  - Платежи зачисляются сначала в счёт основного долга, затем — в счёт компенсации, штрафов и процентов.")
	de := mailTo(t, mails, "agreement.notice", "Erika Mustermann")
	mustContain(t, de, "  - Die Zahlung ist innerhalb von 14 Tagen ab Rechnungsdatum fällig.",
		"  - Es ist eine Pauschale von 40,00\u00a0€ zu zahlen (§ 288 Abs. 5 BGB).",
		"Grundlage: § 288 BGB: Basiszinssatz der Bundesbank + 9 Prozentpunkte (Schuldner ist kein Verbraucher)")
	ruIssued := mailTo(t, mails, "invoice.issued", "Иван Петров")
	mustContain(t, ruIssued, "Основание: ст. 395 ГК РФ: ключевая ставка Банка России, действующая в каждый день просрочки.")
	deIssued := mailTo(t, mails, "invoice.issued", "Erika Mustermann")
	mustContain(t, deIssued, "Grundlage: § 288 BGB: Basiszinssatz der Bundesbank + 9 Prozentpunkte (Schuldner ist kein Verbraucher), "+
		"für jedes Halbjahr festgelegt nach dem Stand am 1. Januar und am 1. Juli.")
	for _, m := range []string{ru, de, ruIssued, deIssued} {
		mustNotContain(t, m, englishTerms...)
	}

	// The German invoice is overdue from 16 January, the Russian one from
	// 1 February: compensation, January's interest and a late fee.
	s.setDay("2026-02-01")
	s.sweep()
	late := s.sentMails(t, sink)
	ruFee := mailTo(t, late, "charge.posted", "Иван Петров")
	mustContain(t, ruFee, "Штраф за просрочку, № 1, 1\u00a0000,00\u00a0₽ (начислено 1 февраля 2026 г.)",
		"Основание: ст. 395 ГК РФ")
	var deCharges []string
	for _, m := range late["charge.posted"] {
		if strings.Contains(m, "Erika Mustermann") {
			deCharges = append(deCharges, m)
		}
	}
	all := strings.Join(deCharges, "\n")
	mustContain(t, all, "Pauschale für Beitreibungskosten, nach § 288 BGB (gebucht am 16. Januar 2026)",
		"Verzugszinsen, 16. Januar 2026 bis 31. Januar 2026, 16 Tage, 10,27 % pro Jahr (act/365) auf 1.000,00\u00a0€ (gebucht am 1. Februar 2026)",
		"Grundlage: § 288 BGB")
	if len(deCharges) != 2 {
		t.Fatalf("German charge mails: %q", deCharges)
	}
	for _, m := range append(deCharges, ruFee) {
		mustNotContain(t, m, englishTerms...)
	}

	// A payment recorded late, dated before the due date: the fee is
	// reversed, and the Russian client is told so in Russian.
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + ruInvoice + "/payments", Body: map[string]any{
		"amount": 100000, "paid_on": "2026-01-20", "method": "bank_transfer", "reference": "п/п 17"}})
	adjusted := mailTo(t, s.sentMails(t, sink), "charge.adjusted", "Иван Петров")
	mustContain(t, adjusted, "Штраф за просрочку, сторнировано после платежей или возвратов, учтённых задним числом (начислено 1 февраля 2026 г.)")
	mustNotContain(t, adjusted, englishTerms...)
}

// TestHostedTermsInTheClientsLanguage: a Bulgarian client's invoice page
// states the terms in Bulgarian; a Russian client accepts the Russian text
// the page shows, and that text with its SHA-256 is what is recorded.
func TestHostedTermsInTheClientsLanguage(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"), withHostedPages)
	bg := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{"name": "Фирма ЕООД", "email": "ap@bg.example",
		"currency": "EUR", "timezone": "Europe/Sofia", "language": "bg"}})
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + bg["id"].(string) + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500, "percent": "2"},
		"interest": map[string]any{"preset": "eu_late_payment"}}})
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": bg["id"], "issue": true,
		"lines": []map[string]any{{"description": "Услуги", "unit_amount": 100000}}}})
	p := s.open("GET", inv["hosted_invoice_url"].(string), nil)
	mustContain(t, p.Body, "Плащането е дължимо в срок от 30 дни от датата на издаване (не по-късно от 31 януари 2026 г.).",
		"От 1 февруари 2026 г. се дължи неустойка за забава в размер на 25,00\u00a0€ плюс 2 %.",
		"(чл. 6 от Директива 2011/7/ЕС)", "основание: Директива 2011/7/ЕС: лихвеният процент на ЕЦБ по основните операции по рефинансиране &#43; 8 процентни пункта")
	mustNotContain(t, p.Body, englishTerms...)

	ru := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{"name": "ООО Ромашка", "email": "ap@ru.example",
		"currency": "RUB", "timezone": "Europe/Moscow", "language": "ru"}})
	id := ru["id"].(string)
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + id + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "payment_terms": "net_10", "late_fee": map[string]any{"flat": 50000, "repeat_every_days": 30, "max_count": 2},
		"require_acceptance": true}})
	link := ru["portal_url"].(string)
	page := s.open("GET", link, nil)
	shown := "Условия оплаты, редакция 1, действуют с 1 января 2026 г.\n" +
		"Оплата производится в течение 10 дней с даты выставления счёта.\n" +
		"Штраф за просрочку составляет 500,00\u00a0₽.\n" +
		"Штраф начисляется повторно каждые 30 дней, пока основной долг не погашен, всего не более 2 раз.\n" +
		"Платежи зачисляются сначала в счёт компенсации, штрафов и процентов, затем — в счёт основного долга."
	mustContain(t, page.Body, strings.Split(shown, "\n")...)
	form := acceptForm(t, page.Body)
	sum := sha256.Sum256([]byte(shown))
	if form.Get("terms_sha256") != hex.EncodeToString(sum[:]) {
		t.Fatalf("the form's SHA-256 %s is not that of the text shown", form.Get("terms_sha256"))
	}
	form.Set("name", "Иван Петров")
	form.Set("agree", "yes")
	if r := s.open("POST", link+"/accept", form); r.Status != 303 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	acc := s.must(200, request{Method: "GET", Path: "/v1/clients/" + id + "/agreements"})["data"].([]any)[0].(map[string]any)["acceptance"].(map[string]any)
	if acc["terms_text"] != shown || acc["terms_sha256"] != hex.EncodeToString(sum[:]) || acc["name"] != "Иван Петров" {
		t.Fatalf("acceptance %v", acc)
	}
}

// TestRecurringPeriodInTheClientsLanguage: {period} on a Russian client's
// recurring invoice is the month as a Russian reader writes it.
func TestRecurringPeriodInTheClientsLanguage(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"))
	for _, c := range []struct{ lang, line, memo string }{
		{"ru", "Хостинг, март 2026 г.", "Период 1: с 2026-03-01 по 2026-03-31."},
		{"de", "Hosting, März 2026", "Zeitraum 1: 2026-03-01 bis 2026-03-31."},
		{"en", "Hosting, March 2026", "Period 1: 2026-03-01 to 2026-03-31."},
	} {
		cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{"name": "Client " + c.lang, "email": "ap@x.example",
			"currency": "EUR", "timezone": "UTC", "language": c.lang}})["id"].(string)
		s.must(201, request{Method: "POST", Path: "/v1/recurring_invoices", Body: map[string]any{
			"client_id": cli, "lines": []any{map[string]any{"description": strings.SplitN(c.line, ",", 2)[0] + ", {period}", "unit_amount": 1000}},
			"interval": "monthly", "start_date": "2026-03-01", "count": 1}})
		s.sweep()
		list := s.must(200, request{Method: "GET", Path: "/v1/invoices?client_id=" + cli})["data"].([]any)
		if len(list) != 1 {
			t.Fatalf("%s: %d invoices", c.lang, len(list))
		}
		inv := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + list[0].(map[string]any)["id"].(string)})
		line := inv["lines"].([]any)[0].(map[string]any)["description"]
		if line != c.line || !strings.HasPrefix(inv["memo"].(string), c.memo) {
			t.Errorf("%s: line %q, memo %q", c.lang, line, inv["memo"])
		}
	}
}
