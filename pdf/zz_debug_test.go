package pdf_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/remit/remit/pdf"
)

func TestZZDebug(t *testing.T) {
	inv := sampleInvoice(0)
	for i, d := range []string{"Brand workshop and discovery sessions (two days, on site)", "Logo and visual identity — три варианта", "Website design: home, services, café menu pages"} {
		inv.Lines = append(inv.Lines, pdf.InvoiceLine{Description: d, Quantity: fmt.Sprint(i + 1), UnitAmount: 45000, TaxRate: "20", Amount: 45000 * int64(i+1), Tax: 9000 * int64(i+1)})
		inv.Subtotal += 45000 * int64(i+1)
		inv.Tax += 9000 * int64(i+1)
	}
	inv.Charges = append(inv.Charges[:1], inv.Charges[2])
	inv.Total = inv.Subtotal + inv.Tax
	inv.BalanceDue = inv.Total + inv.ChargesTotal - inv.AmountPaid
	doc, _ := pdf.NewRenderer(0).Invoice(inv)
	os.WriteFile("/tmp/out/sample.pdf", doc, 0o644)
	fmt.Println(pages(t, doc))
}
