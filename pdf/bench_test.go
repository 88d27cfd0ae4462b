package pdf_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jung-kurt/gofpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/pdf"
)

// benchInvoice is a one-page invoice with 10 lines, its terms and a checkout link.
func benchInvoice() pdf.Invoice {
	inv := sampleInvoice(0)
	inv.Charges, inv.Payments = nil, nil
	for i := 1; i <= 10; i++ {
		inv.Lines = append(inv.Lines, pdf.InvoiceLine{
			Description: fmt.Sprintf("Design sprint %d: wireframes and review", i),
			Quantity:    "2.5", UnitAmount: 4000, TaxRate: "20", Amount: 10000, Tax: 2000,
		})
	}
	inv.Subtotal, inv.Tax, inv.Total = 100000, 20000, 120000
	inv.ChargesTotal, inv.AmountPaid, inv.BalanceDue = 0, 0, 120000
	return inv
}

func TestBenchmarkInvoiceIsOnePage(t *testing.T) {
	doc, err := pdf.NewRenderer(0).Invoice(benchInvoice())
	if err != nil {
		t.Fatal(err)
	}
	if n := pages(t, doc); n != 1 {
		t.Fatalf("the benchmark invoice has %d pages, want 1", n)
	}
}

// BenchmarkInvoicePDF renders the invoice every time (no cache).
func BenchmarkInvoicePDF(b *testing.B) {
	r := pdf.NewRenderer(0)
	inv := benchInvoice()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Invoice(inv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInvoicePDFCached asks again for an invoice already rendered: the
// cost of hashing its content and copying the cached bytes.
func BenchmarkInvoicePDFCached(b *testing.B) {
	r := pdf.NewRenderer(16)
	inv := benchInvoice()
	if _, err := r.Invoice(inv); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Invoice(inv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareGofpdf is the floor: the same text on one page with the same
// two UTF-8 faces, written with plain gofpdf calls and no layout logic.
func BenchmarkBareGofpdf(b *testing.B) {
	inv := benchInvoice()
	money := func(minor int64) string { return domain.FormatMoney(minor, inv.Currency) }
	b.ReportAllocs()
	for b.Loop() {
		f := gofpdf.New("P", "mm", "A4", "")
		f.SetCreationDate(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
		f.SetModificationDate(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
		f.SetCatalogSort(true)
		f.AddUTF8FontFromBytes("go", "", goregular.TTF)
		f.AddUTF8FontFromBytes("go", "B", gobold.TTF)
		f.SetMargins(18, 14, 18)
		f.AddPage()

		f.SetFont("go", "B", 14)
		f.CellFormat(104, 6, inv.Business.Name, "", 0, "L", false, 0, "")
		f.SetFont("go", "B", 16)
		f.CellFormat(70, 6, "INVOICE", "", 1, "R", false, 0, "")
		f.SetFont("go", "", 7.5)
		f.CellFormat(104, 4, strings.ReplaceAll(inv.Business.Address, "\n", " · ")+" · "+inv.Business.Email, "", 0, "L", false, 0, "")
		f.SetFont("go", "", 9)
		f.CellFormat(70, 4, "No. "+inv.Number, "", 1, "R", false, 0, "")
		f.Ln(8)

		f.SetFont("go", "B", 10.5)
		f.CellFormat(0, 5, inv.Client.Name, "", 1, "L", false, 0, "")
		f.SetFont("go", "", 9)
		for _, l := range []string{"Attn: " + inv.Client.ContactName, inv.Client.Address, inv.Client.Email, "Tax ID: " + inv.Client.TaxID} {
			f.MultiCell(80, 4.3, l, "", "L", false)
		}
		for _, kv := range [][2]string{
			{"Invoice number", inv.Number}, {"Issue date", inv.IssueDate.LongString()}, {"Due date", inv.DueDate.LongString()},
			{"Account manager", inv.AccountManager}, {"Currency", inv.Currency}, {"Balance due", money(inv.BalanceDue)},
		} {
			f.CellFormat(120, 4.9, kv[0], "", 0, "R", false, 0, "")
			f.CellFormat(54, 4.9, kv[1], "", 1, "R", false, 0, "")
		}
		f.Ln(6)

		f.SetFont("go", "B", 8)
		for i, h := range []string{"Description", "Qty", "Unit price", "Tax rate", "Tax", "Amount"} {
			w, align := 18.0, "R"
			if i == 0 {
				w, align = 84, "L"
			}
			f.CellFormat(w, 6.5, h, "", 0, align, true, 0, "")
		}
		f.Ln(6.5)
		f.SetFont("go", "", 9)
		for _, l := range inv.Lines {
			f.CellFormat(84, 7.1, l.Description, "B", 0, "L", false, 0, "")
			f.CellFormat(18, 7.1, l.Quantity, "B", 0, "R", false, 0, "")
			f.CellFormat(18, 7.1, domain.FormatAmount(l.UnitAmount, inv.Currency), "B", 0, "R", false, 0, "")
			f.CellFormat(18, 7.1, l.TaxRate+" %", "B", 0, "R", false, 0, "")
			f.CellFormat(18, 7.1, domain.FormatAmount(l.Tax, inv.Currency), "B", 0, "R", false, 0, "")
			f.CellFormat(18, 7.1, domain.FormatAmount(l.Amount, inv.Currency), "B", 1, "R", false, 0, "")
		}
		f.Ln(3)
		for _, kv := range [][2]string{
			{"Subtotal", money(inv.Subtotal)}, {"Tax", money(inv.Tax)}, {"Total", money(inv.Total)}, {"Balance due", money(inv.BalanceDue)},
		} {
			f.CellFormat(130, 5.9, kv[0], "", 0, "R", false, 0, "")
			f.CellFormat(44, 5.9, kv[1], "", 1, "R", false, 0, "")
		}
		f.Ln(4)
		f.CellFormat(0, 4.3, "Pay the balance of "+money(inv.BalanceDue)+" by card at:", "", 1, "L", false, 0, "")
		f.CellFormat(0, 4.3, inv.CheckoutURL, "", 1, "L", false, 0, inv.CheckoutURL)
		f.SetFont("go", "B", 10.5)
		f.CellFormat(0, 6, "Payment terms", "", 1, "L", false, 0, "")
		f.SetFont("go", "", 9)
		for _, term := range inv.Terms {
			f.MultiCell(0, 4.3, "• "+term, "", "L", false)
		}
		f.SetY(-13)
		f.SetFont("go", "", 7.5)
		f.CellFormat(144, 3.6, inv.Business.Name+" · Invoice No. "+inv.Number, "", 0, "L", false, 0, "")
		f.CellFormat(30, 3.6, "1 / 1", "", 0, "R", false, 0, "")

		var buf bytes.Buffer
		if err := f.Output(&buf); err != nil {
			b.Fatal(err)
		}
	}
}
