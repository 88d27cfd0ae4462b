package pdf_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/remit/remit/pdf"
)

var writeSample = flag.Bool("sample", false, "write ../docs/sample-invoice.png from the sample invoice")

// showcaseInvoice fills one page with everything an invoice can show: three
// lines, late-payment charges, a part payment, the checkout link and terms.
func showcaseInvoice() pdf.Invoice {
	inv := sampleInvoice(0)
	inv.Lines = []pdf.InvoiceLine{
		{Description: "Brand workshop and discovery sessions (two days, on site)", Quantity: "1", UnitAmount: 45000, TaxRate: "20", Amount: 45000, Tax: 9000},
		{Description: "Logo and visual identity — три варианта", Quantity: "2", UnitAmount: 45000, TaxRate: "20", Amount: 90000, Tax: 18000},
		{Description: "Website design: home, services, café menu pages", Quantity: "3", UnitAmount: 45000, TaxRate: "20", Amount: 135000, Tax: 27000},
	}
	inv.Subtotal, inv.Tax, inv.Total = 270000, 54000, 324000
	inv.Charges = []pdf.ChargeLine{inv.Charges[0], inv.Charges[2]}
	inv.BalanceDue = inv.Total + inv.ChargesTotal - inv.AmountPaid
	return inv
}

// TestSampleInvoicePNG renders the showcase invoice on one page; with
// -sample it also writes the picture in docs/ (go test ./pdf -run Sample -sample).
func TestSampleInvoicePNG(t *testing.T) {
	doc, err := pdf.NewRenderer(0).Invoice(showcaseInvoice())
	if err != nil {
		t.Fatal(err)
	}
	if n := pages(t, doc); n != 1 {
		t.Fatalf("the showcase invoice has %d pages, want 1", n)
	}
	mustContain(t, text(t, doc), "Balance due 2,889.21 EUR", "Pay the balance of 2,889.21 EUR by card at:")
	if !*writeSample {
		return
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "sample.pdf")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join("..", "docs", "sample-invoice")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("pdftoppm", "-png", "-r", "60", "-singlefile", file, out).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, b)
	}
}
