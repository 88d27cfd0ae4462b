package pdf_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
	"github.com/remit/remit/pdf"
)

// localBusiness is a sender whose own details contain no English words, so
// that any English in a document is a label the catalogues failed to give.
var localBusiness = pdf.Business{
	Name:    "Nordwind Studio GmbH",
	Address: "Hafenstraße 12\n20457 Hamburg",
	Email:   "konto@nordwind.example",
	TaxID:   "DE123456789",
}

var localClient = pdf.Party{
	Name: "ООО Ромашка", ContactName: "Елена Смирнова", Email: "konto@romashka.example",
	Address: "ул. Ленина, 5\nМосква 101000", TaxID: "RU7701234567",
}

// localized are the documents of one language: an invoice with every part,
// a statement, each kind of notice, a credit note and accepted terms.
func localized(l *i18n.Locale, currency string) map[string]any {
	line := func(qty string, amount int64) pdf.InvoiceLine {
		return pdf.InvoiceLine{Description: "Webdesign", Quantity: qty, UnitAmount: 40000, TaxRate: "19",
			Amount: amount, Tax: amount * 19 / 100}
	}
	inv := pdf.Invoice{
		Locale: l, Business: localBusiness, Client: localClient, AccountManager: "Σοφία Παπαδοπούλου",
		Number: "INV-2026-0042", Status: "paid", Currency: currency,
		IssueDate: day("2026-01-01"), DueDate: day("2026-01-31"), GeneratedOn: day("2026-03-02"),
		SupplyFrom: day("2025-12-01"), SupplyTo: day("2025-12-31"), ReverseCharge: true, Memo: "—",
		Lines:    []pdf.InvoiceLine{line("2.5", 100000)},
		Subtotal: 100000, Tax: 19000, Total: 119000, ChargesTotal: 4921,
		AmountPaid: 20467, CreditApplied: 100, Credited: 900, BalanceDue: 7029622,
		Charges: []pdf.ChargeLine{
			{Kind: "compensation", PostedOn: day("2026-02-01"), Amount: 4000},
			{Kind: "late_fee", PostedOn: day("2026-02-01"), Amount: 2500, Waived: true},
			{Kind: "interest", PostedOn: day("2026-03-01"), Amount: 921},
		},
		Payments: []pdf.PaymentLine{
			{PaidOn: day("2026-02-10"), Method: "bank_transfer", Reference: "SEPA-778812", Amount: 40000},
			{PaidOn: day("2026-02-12"), Method: "refund", Reference: "R-1", Amount: -19533},
		},
		CreditNotes: []pdf.CreditNoteLine{
			{Number: "CN-2026-0001", IssueDate: day("2026-02-15"), Reason: "—", Amount: 900},
		},
		Terms:         []string{"§ 1", "§ 2"},
		AgreementFrom: day("2025-12-01"),
		CheckoutURL:   "https://checkout.example/cs_42",
	}
	overdue := []pdf.StatementInvoice{{
		Number: "INV-2026-0042", IssueDate: day("2026-01-01"), DueDate: day("2026-01-31"), DaysOverdue: 31,
		Total: 119000, Paid: 40000, Charges: 4921, Balance: 83921,
		ChargeLines: []pdf.ChargeLine{{Kind: "fees_and_compensation", PostedOn: day("2026-03-02"), Amount: 4000}},
		Payments: []pdf.PaymentLine{
			{PaidOn: day("2026-02-10"), Method: "credit_note", Reference: "CN-2026-0001", Amount: 900},
			{PaidOn: day("2026-02-11"), Method: "credit", Amount: 100},
			{Method: "refunded", Reference: "R-1", Amount: -100},
		},
		Interest: []pdf.InterestPeriod{
			{From: day("2026-02-01"), To: day("2026-02-28"), Days: 28, Base: 119000, Rate: "10.15", Amount: 921},
			{From: day("2026-03-01"), To: day("2026-03-02"), Days: 2, Base: 119000, Rate: "0.05", Daily: true,
				Amount: 119},
		},
		LegalBasis: "§ 288 BGB",
	}}
	notice := func(kind string) pdf.Notice {
		return pdf.Notice{Locale: l, Kind: kind, Business: localBusiness, Client: localClient, Currency: currency,
			Date: day("2026-03-02"), EffectiveOn: day("2026-04-01"), Invoices: overdue}
	}
	change := notice(pdf.NoticePolicyChange)
	change.Invoices, change.Changes = nil, []string{"§ 1", "§ 2"}
	accepted := notice(pdf.NoticeTermsAccepted)
	accepted.Invoices, accepted.Paragraphs = nil, []string{"§ 1", "§ 2"}
	return map[string]any{
		"invoice": inv,
		"statement": pdf.Statement{Locale: l, Business: localBusiness, Client: localClient, Currency: currency,
			AsOf: day("2026-03-02"), Invoices: overdue, TotalDue: 83921},
		"policy change":      change,
		"suspension warning": notice(pdf.NoticeSuspensionWarning),
		"suspension":         notice(pdf.NoticeSuspension),
		"terms accepted":     accepted,
		"credit note": pdf.CreditNote{Locale: l, Business: localBusiness, Client: localClient,
			Number: "CN-2026-0001", Currency: currency, IssueDate: day("2026-02-15"),
			InvoiceNumber: "INV-2026-0042", InvoiceIssueDate: day("2026-01-01"), Reason: "—",
			Lines: []pdf.InvoiceLine{line("0.5", 20000)}, Subtotal: 20000, Tax: 3800, Amount: 23800,
			AppliedToInvoice: 900, CreditCreated: 22900},
	}
}

func render(t *testing.T, doc any) []byte {
	t.Helper()
	r := pdf.NewRenderer(0)
	var b []byte
	var err error
	switch d := doc.(type) {
	case pdf.Invoice:
		b, err = r.Invoice(d)
	case pdf.Statement:
		b, err = r.Statement(d)
	case pdf.Notice:
		b, err = r.Notice(d)
	case pdf.CreditNote:
		b, err = r.CreditNote(d)
	}
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("REMIT_PDF_DUMP"); dir != "" {
		name := fmt.Sprintf("%s-%s.pdf", strings.ReplaceAll(t.Name(), "/", "-"), fmt.Sprint(len(b)))
		_ = os.WriteFile(filepath.Join(dir, name), b, 0o600)
	}
	return b
}

// englishLabels are words of the English documents that no other language's
// document may show: labels, headings, column heads, status and payment
// words, the lines of the letters.
var englishLabels = []string{
	"INVOICE", "Invoice", "BILL TO", "TO", "Issue date", "Due date", "Supplied", "Supply date", "Account manager",
	"Currency", "Balance due", "Balance", "Memo", "Description", "Qty", "Unit price", "Tax", "Amount", "Subtotal",
	"Total", "Late-payment charges", "Amount paid", "Credit applied", "Credit notes", "Credit note", "CREDIT NOTE",
	"Pay online", "by card", "Reverse charge", "VAT", "Charges for late payment", "Posted", "Charge",
	"Payments received",
	"Received", "Method", "Reference", "Issued", "Payment terms", "As agreed", "Late fee", "Interest",
	"Fixed compensation",
	"Fees and compensation", "waived", "bank transfer", "refund", "refunded", "credit", "PAID", "No.", "Attn", "Tax ID",
	"STATEMENT", "Statement", "as of", "Date", "Open invoices", "Days late", "Due", "Paid", "Charges", "From", "To",
	"Days",
	"Base", "Rate a year", "a day", "Legal basis", "days", "day", "overdue", "Yours", "Dear", "NOTICE", "Notice",
	"WARNING", "Warning", "ACCEPTED", "accepted", "What changes", "Overdue invoices", "Effective from", "Suspension on",
	"Suspended from", "Correction", "Reason", "Corrects invoice", "Amount credited", "Taken off",
	"Added to your credit",
	"not yet posted", "demand", "Page",
}

// leaks returns the English labels that text shows as whole words.
func leaks(text string) []string {
	var out []string
	for _, w := range englishLabels {
		if regexp.MustCompile(`(^|[^\pL])` + regexp.QuoteMeta(w) + `($|[^\pL])`).MatchString(text) {
			out = append(out, w)
		}
	}
	return out
}

// TestDocumentsSpeakTheClientsLanguage renders every document in each
// language and reads it back: the title, headings, money, dates and numbers
// are the language's, and no English label is left (English itself is the
// control: its documents show the labels the check looks for).
func TestDocumentsSpeakTheClientsLanguage(t *testing.T) {
	type want map[string][]string // document -> texts
	for _, tc := range []struct {
		lang string
		want want
	}{
		{"en", want{
			"invoice": {"INVOICE", "No. INV-2026-0042", "Issue date 1 January 2026", "Balance due 70,296.22 EUR",
				"Payments received", "10 February 2026 bank transfer SEPA-778812 400.00", "refund R-1 −195.33",
				"Reverse charge: VAT is due from the recipient", "Webdesign 2.5 400.00 19 % 190.00 1,000.00",
				"Late fee (waived)", "PAID", "Tax ID: RU7701234567", "VAT ID DE123456789"},
			"statement": {"STATEMENT", "Statement of account and demand for payment",
				"Total due on 2 March 2026 839.21 EUR",
				"31 days overdue", "10.15 %", "0.05 % a day", "Fees and compensation", "credit note CN-2026-0001"},
			"policy change":      {"NOTICE", "Notice of a change to your payment terms", "Effective from 1 April 2026"},
			"suspension warning": {"WARNING", "with 839.21 EUR outstanding"},
			"suspension":         {"Notice of suspension of service"},
			"terms accepted":     {"ACCEPTED", "Payment terms accepted"},
			"credit note": {"CREDIT NOTE", "Corrects invoice INV-2026-0042", "Amount credited 238.00 EUR",
				"0.5"},
		}},
		{"de", want{
			"invoice": {"RECHNUNG", "Nr. INV-2026-0042", "Ausstellungsdatum 1. Januar 2026",
				"Offener Betrag 70.296,22 €",
				"Zahlungseingänge", "Zahlen Sie den offenen Betrag von 70.296,22 € per", "Karte unter:",
				"10.02.2026 Überweisung SEPA-778812 400,00", "Erstattung R-1 −195,33",
				"Hinweis zur Umsatzsteuer Steuerschuldnerschaft des Leistungsempfängers",
				"Webdesign 2,5 400,00 19 % 190,00 1.000,00",
				"Mahngebühr (erlassen)", "Leistungszeitraum von 1. Dezember 2025", "Seite 1 von", "BEZAHLT",
				"USt-IdNr.: RU7701234567", "USt-IdNr. DE123456789", "Gesamtbetrag 1.190,00 €", "z. Hd. Елена Смирнова"},
			"statement": {"OFFENE POSTEN", "Offene Posten und Zahlungsaufforderung", "Fällig zum 2. März 2026 839,21 €",
				"31 Tage im Verzug", "INV-2026-0042 01.01.2026 31.01.2026 31 1.190,00 400,00 49,21 839,21", "10,15 %",
				"0,05 % pro Tag", "Gebühren und Pauschale", "Rechnungskorrektur CN-2026-0001",
				"Rechtsgrundlage: § 288 BGB.", "Mit freundlichen Grüßen"},
			"policy change": {"MITTEILUNG", "Mitteilung über die Änderung Ihrer Zahlungsbedingungen",
				"Gültig ab 1. April 2026"},
			"suspension warning": {"ANKÜNDIGUNG", "offen sind 839,21 €", "Überfällige Rechnungen"},
			"suspension":         {"Mitteilung über die Aussetzung unserer Leistungen", "Ausgesetzt ab 1. April 2026"},
			"terms accepted":     {"BESTÄTIGUNG", "Annahme der Zahlungsbedingungen"},
			"credit note": {"RECHNUNGSKORREKTUR", "Korrigiert Rechnung INV-2026-0042",
				"Korrekturbetrag 238,00 €", "0,5"},
		}},
		{"ru", want{
			"invoice": {"СЧЁТ", "№ INV-2026-0042", "Дата выставления 1 января 2026 г.", "К оплате 70 296,22 €",
				"Полученные платежи", "10.02.2026 банковский перевод SEPA-778812 400,00", "возврат R-1 −195,33",
				"Обратное начисление: НДС уплачивает получатель", "Webdesign 2,5 400,00 19 % 190,00 1 000,00",
				"Штраф за просрочку (списано)",
				"Стр. 1 из", "ОПЛАЧЕН", "Итого 1 190,00 €"},
			"statement": {"ВЫПИСКА", "Выписка по расчётам и требование об оплате",
				"К оплате на 2 марта 2026 г. 839,21 €",
				"просрочка 31 день", "INV-2026-0042 01.01.2026 31.01.2026 31 1 190,00 400,00 49,21 839,21", "10,15 %",
				"0,05 % в день", "Штрафы и компенсация", "корректировочный счёт CN-2026-0001"},
			"policy change": {"УВЕДОМЛЕНИЕ", "Уведомление об изменении условий оплаты",
				"Действует с 1 апреля 2026 г."},
			"suspension warning": {"ПРЕДУПРЕЖДЕНИЕ", "задолженность составляет 839,21 €", "Просроченные счета"},
			"suspension":         {"Уведомление о приостановке обслуживания"},
			"terms accepted":     {"ПОДТВЕРЖДЕНИЕ", "Условия оплаты приняты"},
			"credit note": {"КОРРЕКТИРОВОЧНЫЙ СЧЁТ", "Корректирует счёт INV-2026-0042",
				"Сумма корректировки 238,00 €"},
		}},
		{"bg", want{
			"invoice": {"ФАКТУРА", "№ INV-2026-0042", "Дата на издаване 1 януари 2026 г.", "Дължима сума 70 296,22 €",
				"Получени плащания", "10.02.2026 банков превод SEPA-778812 400,00", "възстановяване R-1 −195,33",
				"Обратно начисляване: ДДС се дължи от получателя", "Webdesign 2,5 400,00 19 % 190,00 1 000,00",
				"Неустойка за забава (опростено)", "Стр. 1 от", "ПЛАТЕНА", "Данъчна основа 1 000,00 €"},
			"statement": {"ИЗВЛЕЧЕНИЕ", "Извлечение по сметка и покана за плащане",
				"Дължимо към 2 март 2026 г. 839,21 €",
				"забава 31 дни", "INV-2026-0042 01.01.2026 31.01.2026 31 1 190,00 400,00 49,21 839,21", "10,15 %",
				"0,05 % на ден", "Неустойки и обезщетение", "кредитно известие CN-2026-0001"},
			"policy change": {"УВЕДОМЛЕНИЕ", "Уведомление за промяна в условията за плащане",
				"В сила от 1 април 2026 г."},
			"suspension warning": {"ПРЕДУПРЕЖДЕНИЕ", "ИН по ДДС DE123456789", "дължимата сума е 839,21 €", "Просрочени фактури"},
			"suspension":         {"Уведомление за спиране на услугите"},
			"terms accepted":     {"ПОТВЪРЖДЕНИЕ", "Приети условия за плащане"},
			"credit note":        {"КРЕДИТНО ИЗВЕСТИЕ", "Към фактура INV-2026-0042", "Сума на известието 238,00 €"},
		}},
	} {
		docs := localized(i18n.For(tc.lang), "EUR")
		for name, doc := range docs {
			t.Run(tc.lang+"/"+name, func(t *testing.T) {
				got := text(t, render(t, doc))
				want := tc.want[name]
				if len(want) == 0 {
					t.Fatalf("no expectations for %s", name)
				}
				mustContain(t, got, want...)
				found := leaks(squash(got))
				if tc.lang == "en" {
					if len(found) < 3 {
						t.Errorf("the English %s shows only %q of the labels the check looks for", name, found)
					}
					return
				}
				if len(found) > 0 {
					t.Errorf("English left in the %s %s: %q\n%s", tc.lang, name, found, got)
				}
			})
		}
	}
}

// TestRoublesPrintWithoutAMissingGlyph: the Go fonts have no ₽, so roubles
// are written out where the language's symbol is ₽, in the document's own
// figures and in the terms i18n words with the symbol; other symbols print.
func TestRoublesPrintWithoutAMissingGlyph(t *testing.T) {
	for _, tc := range []struct {
		lang, currency, balance, fee string
	}{
		{"ru", "RUB", "К оплате 70 296,22 руб.", "25,00 руб."},
		{"bg", "RUB", "Дължима сума 70 296,22 руб.", "25,00 руб."},
		{"de", "RUB", "Offener Betrag 70.296,22 RUB", "25,00 RUB"},
		{"en", "RUB", "Balance due 70,296.22 RUB", "25.00 RUB"},
		{"bg", "USD", "Дължима сума 70 296,22 щ.д.", "25,00 щ.д."},
		{"ru", "EUR", "К оплате 70 296,22 €", "25,00 €"},
	} {
		t.Run(tc.lang+"/"+tc.currency, func(t *testing.T) {
			l := i18n.For(tc.lang)
			inv := localized(l, tc.currency)["invoice"].(pdf.Invoice)
			inv.Terms = l.Terms(domain.Agreement{EffectiveFrom: day("2025-12-01"), PaymentTerms: domain.TermsNet30,
				LateFee: &domain.LateFee{Flat: 2500}}, tc.currency, domain.ClientBusiness, inv.DueDate)
			if tc.currency == "RUB" && tc.lang != "en" && !strings.Contains(strings.Join(inv.Terms, " "), "₽") {
				t.Fatalf("the %s terms give no ₽ to write out: %q", tc.lang, inv.Terms)
			}
			got := text(t, render(t, inv))
			mustContain(t, got, tc.balance, tc.fee)
			if strings.ContainsAny(got, "₽\uFFFD") {
				t.Errorf("the text has a sign the fonts cannot draw:\n%s", got)
			}
		})
	}
}

// TestRendererKeysOnTheLanguage: the same document in another language is
// rendered anew, not served from the cache.
func TestRendererKeysOnTheLanguage(t *testing.T) {
	r := pdf.NewRenderer(8)
	inv := localized(i18n.For("ru"), "EUR")["invoice"].(pdf.Invoice)
	ru, err := r.Invoice(inv)
	if err != nil {
		t.Fatal(err)
	}
	inv.Locale = i18n.For("de")
	de, err := r.Invoice(inv)
	if err != nil {
		t.Fatal(err)
	}
	if r.Len() != 2 {
		t.Errorf("cache holds %d documents, want 2", r.Len())
	}
	mustContain(t, text(t, ru), "СЧЁТ")
	mustContain(t, text(t, de), "RECHNUNG")
}
