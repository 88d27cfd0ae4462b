package pdf_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/pdf"
)

// day parses a YYYY-MM-DD date for fixtures.
func day(s string) domain.Date { return domain.MustParseDate(s) }

var business = pdf.Business{
	Name:    "Northwind Studio Ltd",
	Address: "12 Harbour Street\nBristol BS1 4QA\nUnited Kingdom",
	Email:   "billing@northwind.example",
}

// sampleInvoice is an open EUR invoice with n lines, late-payment charges,
// a part payment and the terms of an EU-preset agreement.
func sampleInvoice(n int) pdf.Invoice {
	inv := pdf.Invoice{
		Business: business,
		Client: pdf.Party{
			Name:        "ООО Ромашка",
			ContactName: "Елена Смирнова",
			Email:       "accounts@romashka.example",
			Address:     "ул. Ленина, 5\nМосква 101000\nРоссия",
			TaxID:       "RU7701234567",
		},
		AccountManager: "Σοφία Παπαδοπούλου",
		Number:         "INV-2026-0042",
		Status:         "open",
		Currency:       "EUR",
		IssueDate:      day("2026-01-01"),
		DueDate:        day("2026-01-31"),
		GeneratedOn:    day("2026-03-02"),
		CheckoutURL:    "https://checkout.example/pay/cs_test_42",
	}
	for i := 1; i <= n; i++ {
		desc := fmt.Sprintf("Design sprint %d: wireframes, café menu layout and review", i)
		if i%7 == 3 {
			desc += " — including a longer note that wraps onto a second line of the description column"
		}
		inv.Lines = append(inv.Lines, pdf.InvoiceLine{
			Description: desc, Quantity: "2.5", UnitAmount: 4000, TaxRate: "20", Amount: 10000, Tax: 2000,
		})
		inv.Subtotal += 10000
		inv.Tax += 2000
	}
	inv.Total = inv.Subtotal + inv.Tax
	inv.Charges = []pdf.ChargeLine{
		{Kind: "compensation", PostedOn: day("2026-02-01"), Amount: 4000},
		{Kind: "late_fee", Description: "first late fee", PostedOn: day("2026-02-01"), Amount: 2500, Waived: true},
		{Kind: "interest", Description: "February 2026, 28 days", PostedOn: day("2026-03-01"), Amount: 921},
	}
	inv.ChargesTotal = 4000 + 921
	inv.Payments = []pdf.PaymentLine{{PaidOn: day("2026-02-10"), Method: "bank transfer", Reference: "SEPA-778812", Amount: 40000}}
	inv.AmountPaid = 40000
	inv.BalanceDue = inv.Total + inv.ChargesTotal - inv.AmountPaid
	inv.AgreementFrom = day("2025-12-01")
	inv.Terms = domain.DescribeTerms(domain.Agreement{
		EffectiveFrom:     day("2025-12-01"),
		PaymentTerms:      domain.TermsNet30,
		LateFee:           &domain.LateFee{Flat: 2500, Percent: "1.5"},
		Interest:          &domain.InterestTerms{Preset: domain.PresetEULatePayment},
		FixedCompensation: 4000,
	}, "EUR", inv.DueDate)
	return inv
}

// text extracts the PDF's text with pdftotext, keeping the layout and the
// form feed between pages.
func text(tb testing.TB, doc []byte) string {
	tb.Helper()
	return run(tb, doc, "pdftotext", "-layout", "-enc", "UTF-8", "%s", "-")
}

// pages asks pdfinfo how many pages the PDF has.
func pages(tb testing.TB, doc []byte) int {
	tb.Helper()
	out := run(tb, doc, "pdfinfo", "%s")
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("pdfinfo: no page count in %q", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// run writes doc to a file and runs a poppler tool on it ("%s" is the file).
func run(tb testing.TB, doc []byte, tool string, args ...string) string {
	tb.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		tb.Skipf("%s is not installed (apt-get install -y poppler-utils); skipping the text checks", tool)
	}
	file := filepath.Join(tb.TempDir(), "doc.pdf")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		tb.Fatal(err)
	}
	for i, a := range args {
		if a == "%s" {
			args[i] = file
		}
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s: %v: %s", tool, err, stderr.String())
	}
	return stdout.String()
}

// squash collapses white space, line breaks included, so that assertions
// depend neither on column gaps nor on where prose wraps.
func squash(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// mustContain fails for every want that the text lacks.
func mustContain(t *testing.T, got string, want ...string) {
	t.Helper()
	flat := squash(got)
	for _, w := range want {
		if !strings.Contains(flat, w) {
			t.Errorf("text lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("extracted text:\n%s", got)
	}
}
