package pdf_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/pdf"
)

func TestInvoiceShowsFiguresNamesAndTerms(t *testing.T) {
	doc, err := pdf.NewRenderer(0).Invoice(sampleInvoice(10))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, text(t, doc),
		// Parties, in Cyrillic, Greek and accented Latin.
		"Northwind Studio Ltd", "billing@northwind.example",
		"ООО Ромашка", "Attn: Елена Смирнова", "ул. Ленина, 5", "Москва 101000", "Tax ID: RU7701234567",
		"Account manager Σοφία Παπαδοπούλου", "café menu",
		// Number and dates.
		"INVOICE", "No. INV-2026-0042", "Issue date 1 January 2026", "Due date 31 January 2026",
		// A line: quantity, unit price, tax rate, tax, amount.
		"Design sprint 1: wireframes, café menu layout 2.5 40.00 20 % 20.00 100.00",
		// Totals.
		"Subtotal 1,000.00 EUR", "Tax 200.00 EUR", "Total 1,200.00 EUR", "Late-payment charges 49.21 EUR",
		"Amount paid −400.00 EUR", "Balance due 849.21 EUR",
		// Charges and payments.
		"1 February 2026 Fixed compensation for recovery costs 40.00",
		"1 February 2026 Late fee: first late fee (waived) 25.00",
		"1 March 2026 Interest: February 2026, 28 days 9.21",
		"10 February 2026 bank transfer SEPA-778812 400.00",
		// Terms of the agreement version, and the checkout link.
		"Payment terms As agreed in our terms in force from 1 December 2025:",
		"• Payment is due within 30 days of the issue date (by 31 January 2026).",
		"• A late fee of 25.00 EUR plus 1.5 % applies from 1 February 2026.",
		"• A fixed compensation of 40.00 EUR for recovery costs is due from 1 February 2026 (Directive 2011/7/EU, art. 6).",
		"under Directive 2011/7/EU: ECB main refinancing rate + 8 percentage points",
		"https://checkout.example/pay/cs_test_42",
	)
}

func TestInvoiceStatusMark(t *testing.T) {
	for _, tc := range []struct {
		status string
		mark   string // "" for none
	}{
		{"open", ""},
		{"draft", "DRAFT"},
		{"void", "VOID"},
		{"paid", "PAID"},
		{"uncollectible", "UNCOLLECTIBLE"},
	} {
		t.Run(tc.status, func(t *testing.T) {
			inv := sampleInvoice(3)
			inv.Status = tc.status
			doc, err := pdf.NewRenderer(0).Invoice(inv)
			if err != nil {
				t.Fatal(err)
			}
			// pdftotext -layout leaves out diagonal text; -raw keeps it but
			// may break a word, so compare without white space.
			raw := run(t, doc, "pdftotext", "-raw", "-enc", "UTF-8", "%s", "-")
			got := strings.Join(strings.Fields(raw), "")
			n := pages(t, doc)
			for _, mark := range []string{"DRAFT", "VOID", "PAID", "UNCOLLECTIBLE"} {
				// A mark is boxed beside the invoice's details and written
				// large across every page.
				want := 0
				if mark == tc.mark {
					want = 1 + n
				}
				if n := strings.Count(got, mark); n != want {
					t.Errorf("%q appears %d times, want %d", mark, n, want)
				}
			}
		})
	}
}

// TestInvoiceUsesTheCurrencysDecimals prints amounts with the currency's
// decimals and its code after them, the one money style of every document.
func TestInvoiceUsesTheCurrencysDecimals(t *testing.T) {
	for _, tc := range []struct {
		currency string
		minor    int64
		want     string // the balance due as printed
	}{
		{"EUR", 123456, "1,234.56 EUR"},
		{"GBP", 5000, "50.00 GBP"},
		{"JPY", 120000, "120,000 JPY"},
		{"KWD", 1234567, "1,234.567 KWD"},
		{"CHF", 99, "0.99 CHF"},
		{"RUB", 10000000, "100,000.00 RUB"},
	} {
		t.Run(tc.currency, func(t *testing.T) {
			inv := pdf.Invoice{
				Business: business, Client: pdf.Party{Name: "Фирма ЕООД"}, Number: "INV-1", Status: "open",
				Currency: tc.currency, IssueDate: day("2026-01-01"), DueDate: day("2026-01-31"),
				Lines:    []pdf.InvoiceLine{{Description: "Work", Quantity: "1", UnitAmount: tc.minor, Amount: tc.minor}},
				Subtotal: tc.minor, Total: tc.minor, BalanceDue: tc.minor,
			}
			doc, err := pdf.NewRenderer(0).Invoice(inv)
			if err != nil {
				t.Fatal(err)
			}
			mustContain(t, text(t, doc), "Фирма ЕООД", "Balance due "+tc.want, "Total "+tc.want,
				"Work 1 "+domain.FormatAmount(tc.minor, tc.currency))
		})
	}
}

func TestLongInvoiceFlowsOntoNumberedPages(t *testing.T) {
	inv := sampleInvoice(0)
	inv.Charges, inv.Payments, inv.Terms, inv.CheckoutURL = nil, nil, nil, ""
	for i := 1; i <= 120; i++ {
		inv.Lines = append(inv.Lines, pdf.InvoiceLine{
			Description: fmt.Sprintf("Support hour %03d", i), Quantity: "1", UnitAmount: 5000, Amount: 5000,
		})
	}
	inv.Subtotal, inv.Total, inv.ChargesTotal, inv.AmountPaid, inv.BalanceDue = 600000, 600000, 0, 0, 600000
	doc, err := pdf.NewRenderer(0).Invoice(inv)
	if err != nil {
		t.Fatal(err)
	}
	// One-line rows are 7.1 mm high: 27 fit under the details on page 1 and
	// 33 on each later page, so the rows go 27+33+33+27 onto 4 pages, and
	// the totals fit under the last one.
	const want = 4
	if n := pages(t, doc); n != want {
		t.Fatalf("pdfinfo counts %d pages, want %d", n, want)
	}
	got := text(t, doc)
	sheets := strings.Split(strings.TrimSuffix(got, "\f"), "\f")
	if len(sheets) != want {
		t.Fatalf("the text has %d pages, want %d", len(sheets), want)
	}
	for i, sheet := range sheets {
		flat := squash(sheet)
		for _, repeated := range []string{"Northwind Studio Ltd", "INVOICE", "No. INV-2026-0042", "Description Qty Unit price Tax rate Tax Amount"} {
			if !strings.Contains(flat, repeated) {
				t.Errorf("page %d lacks the repeated %q", i+1, repeated)
			}
		}
	}
	// pdftotext -layout may close up the spaces of a short right-aligned
	// string; the raw text keeps them.
	raw := run(t, doc, "pdftotext", "-raw", "-enc", "UTF-8", "%s", "-")
	for i, sheet := range strings.Split(strings.TrimSuffix(raw, "\f"), "\f") {
		if num := fmt.Sprintf("%d / %d", i+1, want); !strings.Contains(sheet, num) {
			t.Errorf("page %d lacks its number %q", i+1, num)
		}
	}
	for i := 1; i <= 120; i++ {
		if n := strings.Count(got, fmt.Sprintf("Support hour %03d ", i)); n != 1 {
			t.Errorf("line %d appears %d times", i, n)
		}
	}
	mustContain(t, sheets[want-1], "Total 6,000.00 EUR", "Balance due 6,000.00 EUR")
}

func TestInvoiceIsDeterministic(t *testing.T) {
	inv := sampleInvoice(12)
	inv.Status = "draft"
	first, err := pdf.NewRenderer(0).Invoice(inv)
	if err != nil {
		t.Fatal(err)
	}
	second, err := pdf.NewRenderer(0).Invoice(inv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Fatal("two renders of the same invoice differ")
	}
	// The file's dates come from the input, not the clock.
	info := run(t, first, "pdfinfo", "-isodates", "%s")
	mustContain(t, info, "CreationDate: 2026-03-02T00:00:00", "ModDate: 2026-03-02T00:00:00")
}

func TestInvoiceRefusesAnUnknownCurrency(t *testing.T) {
	inv := sampleInvoice(1)
	inv.Currency = "EURO"
	_, err := pdf.NewRenderer(0).Invoice(inv)
	if code := domain.ErrorCode(err); code != domain.EINVALID {
		t.Fatalf("error %v has code %q, want %q", err, code, domain.EINVALID)
	}
}

func TestInvoiceSurvivesAwkwardText(t *testing.T) {
	inv := sampleInvoice(1)
	inv.Client.Name = "Emoji 😀 Ltd\twith a tab"
	inv.Lines[0].Description = strings.Repeat("unbreakable", 40)
	inv.Number = ""
	inv.IssueDate, inv.DueDate = domain.Date{}, domain.Date{}
	doc, err := pdf.NewRenderer(0).Invoice(inv)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, text(t, doc), "Emoji \uFFFD Ltd with a tab", "Invoice number —", "unbreakable")
}
