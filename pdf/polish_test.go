package pdf_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/remit/remit/pdf"
)

// dumpDir, when set (REMIT_PDF_DUMP=/tmp/x), receives the PDFs these tests
// render, to look at them (pdftoppm -png -r 70 file.pdf out).
func dump(t *testing.T, name string, doc []byte) {
	if dir := os.Getenv("REMIT_PDF_DUMP"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// rubStatement is a statement in roubles whose total needs a wide cell.
func rubStatement() pdf.Statement {
	s := sampleStatement()
	s.Currency = "RUB"
	s.Invoices[0].Total, s.Invoices[0].Charges, s.Invoices[0].Balance = 6500000, 478932, 6978932
	s.Invoices[1].Total, s.Invoices[1].Paid, s.Invoices[1].Charges, s.Invoices[1].Balance = 100000, 20000, 1505, 81505
	s.TotalDue = 6978932 + 81505 // 70,604.37 RUB
	return s
}

// TestStatementTotalDueIsWhole: every figure of the statement's tables is
// printed whole, the 70,604.37 RUB total due too, never cut with "…".
func TestStatementTotalDueIsWhole(t *testing.T) {
	doc, err := pdf.NewRenderer(0).Statement(rubStatement())
	if err != nil {
		t.Fatal(err)
	}
	dump(t, "statement-rub.pdf", doc)
	got := text(t, doc)
	mustContain(t, got, "Total due 70,604.37 RUB", "Total due on 1 August 2026 70,604.37 RUB",
		"INV-2026-0001 1 March 2026 31 March 2026 123 65,000.00 0.00 4,789.32 69,789.32",
		"INV-2026-0007 1 June 2026 30 June 2026 32 1,000.00 200.00 15.05 815.05")
	if strings.Contains(got, "…") {
		t.Errorf("a cell was cut:\n%s", got)
	}
}

// TestInvoicePrintsItsMemo: the memo appears, above the lines.
func TestInvoicePrintsItsMemo(t *testing.T) {
	inv := sampleInvoice(2)
	inv.Memo = "PO 4471 — please quote it on your remittance.\nThanks for the quick turnaround."
	doc, err := pdf.NewRenderer(0).Invoice(inv)
	if err != nil {
		t.Fatal(err)
	}
	dump(t, "invoice-memo.pdf", doc)
	got := squash(text(t, doc))
	mustContain(t, got, "Memo PO 4471 — please quote it on your remittance. Thanks for the quick turnaround.")
	if m, l := strings.Index(got, "PO 4471"), strings.Index(got, "Description Qty"); m < 0 || l < 0 || m > l {
		t.Errorf("the memo is not above the lines:\n%s", got)
	}
}

// TestOneDateAndMoneyStyle: each document writes every date as
// "1 February 2026" and every amount as "1,234.56" (with " EUR" where it
// stands alone): never an ISO date, never a currency symbol.
func TestOneDateAndMoneyStyle(t *testing.T) {
	r := pdf.NewRenderer(0)
	inv, err := r.Invoice(sampleInvoice(4))
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Statement(sampleStatement())
	if err != nil {
		t.Fatal(err)
	}
	no, err := r.Notice(sampleNotice())
	if err != nil {
		t.Fatal(err)
	}
	iso := regexp.MustCompile(`\b20\d\d-\d\d-\d\d\b`)
	symbol := regexp.MustCompile(`[€£¥$₽]`)
	for name, doc := range map[string][]byte{"invoice": inv, "statement": st, "notice": no} {
		got := text(t, doc)
		if m := iso.FindString(got); m != "" {
			t.Errorf("%s prints the ISO date %s:\n%s", name, m, got)
		}
		if m := symbol.FindString(got); m != "" {
			t.Errorf("%s prints the symbol %s:\n%s", name, m, got)
		}
	}
	mustContain(t, text(t, inv), "Balance due 129.21 EUR", "1 February 2026 Fixed compensation for recovery costs 40.00",
		"A late fee of 25.00 EUR plus 1.5 % applies from 1 February 2026.")
}

// sheets splits pdftotext output into pages, without the header band (the
// first lines, down to the document's number) and the footer (the last).
func sheets(t *testing.T, doc []byte) []string {
	t.Helper()
	var out []string
	for _, page := range strings.Split(strings.TrimSuffix(text(t, doc), "\f"), "\f") {
		var body []string
		for _, l := range strings.Split(page, "\n") {
			l = strings.TrimSpace(l)
			if l == "" || regexp.MustCompile(`\d+ / \d+$`).MatchString(l) ||
				strings.HasPrefix(l, business.Name) || strings.HasPrefix(l, "12 Harbour Street") {
				continue
			}
			body = append(body, l)
		}
		out = append(out, strings.Join(body, "\n"))
	}
	return out
}

// TestLastTermAndSignOffNeverAlone renders invoices and statements of every
// length over two page breaks, so that a break falls in every
// place once: no page holds only the last terms bullet, and no page holds
// only the sign-off.
func TestLastTermAndSignOffNeverAlone(t *testing.T) {
	r := pdf.NewRenderer(0)
	breaks := 0
	for n := 1; n <= 45; n++ {
		inv := sampleInvoice(n)
		doc, err := r.Invoice(inv)
		if err != nil {
			t.Fatal(err)
		}
		ps := sheets(t, doc)
		last := inv.Terms[len(inv.Terms)-1]
		for i, p := range ps[1:] {
			if strings.HasPrefix(squash(p), "• "+squash(last)[:30]) {
				dump(t, fmt.Sprintf("invoice-%d.pdf", n), doc)
				t.Errorf("invoice with %d lines: page %d holds only the last terms bullet:\n%s", n, i+2, p)
			}
			if strings.HasPrefix(squash(p), "• "+squash(inv.Terms[len(inv.Terms)-2])[:30]) {
				breaks++ // the bullet before the last moved with it
			}
		}
	}
	for n := 0; n <= 25; n++ {
		s := sampleStatement()
		for i := 0; i < n; i++ {
			s.Invoices[0].ChargeLines = append(s.Invoices[0].ChargeLines, pdf.ChargeLine{Kind: "late_fee",
				Description: fmt.Sprintf("no. %d", i+2), PostedOn: day("2026-05-01"), Amount: 100})
		}
		doc, err := r.Statement(s)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range sheets(t, doc) {
			body := squash(p)
			if k := strings.Index(body, "Yours faithfully,"); k >= 0 {
				before := strings.TrimSpace(body[:k])
				before = strings.TrimPrefix(before, "STATEMENT as of 1 August 2026")
				if strings.TrimSpace(before) == "" {
					dump(t, fmt.Sprintf("statement-%d.pdf", n), doc)
					t.Errorf("statement with %d more charges: page %d holds only the sign-off:\n%s", n, i+1, p)
				}
			}
		}
	}
	if breaks == 0 {
		t.Error("no length made the last two terms bullets move to a new page: the test no longer covers the break")
	}
	for n := 1; n <= 25; n++ {
		no := sampleNotice()
		for i := 0; i < n; i++ {
			no.Invoices = append(no.Invoices, no.Invoices[0])
		}
		doc, err := r.Notice(no)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range sheets(t, doc) {
			body := squash(p)
			if k := strings.Index(body, "Yours sincerely,"); k >= 0 && strings.TrimSpace(strings.TrimPrefix(body[:k], "WARNING")) == "" {
				dump(t, fmt.Sprintf("notice-%d.pdf", n), doc)
				t.Errorf("notice with %d invoices: page %d holds only the sign-off:\n%s", n, i+1, p)
			}
		}
	}
}

// sampleNotice is a suspension warning over two overdue invoices.
func sampleNotice() pdf.Notice {
	return pdf.Notice{
		Kind: pdf.NoticeSuspensionWarning, Business: business, Currency: "EUR",
		Client: pdf.Party{Name: "ООО Ромашка", ContactName: "Елена Смирнова"},
		Date:   day("2026-03-02"), EffectiveOn: day("2026-03-16"),
		Invoices: []pdf.StatementInvoice{
			{Number: "INV-2026-0042", IssueDate: day("2026-01-01"), DueDate: day("2026-01-31"), Balance: 84921, DaysOverdue: 30},
			{Number: "INV-2026-0050", IssueDate: day("2026-02-01"), DueDate: day("2026-02-15"), Balance: 15079, DaysOverdue: 15},
		},
	}
}
