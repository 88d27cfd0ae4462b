package pdf

import (
	"github.com/remit/remit/domain"
)

// CreditNote is everything a credit note PDF shows: the invoice it
// corrects (number and issue date), why, and what it credits, as lines or
// one amount. Amounts are minor units of Currency, printed as given.
type CreditNote struct {
	Business         Business      `json:"business"`
	Client           Party         `json:"client"`
	Number           string        `json:"number"`
	Currency         string        `json:"currency"`
	IssueDate        domain.Date   `json:"issue_date"`
	InvoiceNumber    string        `json:"invoice_number"`
	InvoiceIssueDate domain.Date   `json:"invoice_issue_date"`
	Reason           string        `json:"reason"`
	Lines            []InvoiceLine `json:"lines"`
	Subtotal         int64         `json:"subtotal"`
	Tax              int64         `json:"tax"`
	Amount           int64         `json:"amount"`
	AppliedToInvoice int64         `json:"applied_to_invoice"`
	CreditCreated    int64         `json:"credit_created"`
}

// CreditNote returns the credit note as a PDF. It fails with EINVALID when
// the currency is not an ISO 4217 code.
func (r *Renderer) CreditNote(doc CreditNote) ([]byte, error) {
	return r.render("credit_note", doc, func() ([]byte, error) { return renderCreditNote(doc) })
}

func renderCreditNote(cn CreditNote) ([]byte, error) {
	if err := validCurrency(cn.Currency); err != nil {
		return nil, err
	}
	d := newDocument(documentInfo{
		kind: "Credit note", title: "CREDIT NOTE", number: "No. " + cn.Number, business: cn.Business,
		currency: cn.Currency, date: cn.IssueDate,
	})
	f := d.f
	colW := contentW*0.5 - 6
	rightX := rightEdge - colW
	leftY := d.party("CREDIT TO", cn.Client, marginX, bodyTop, colW)
	y := d.keyValues([][2]string{
		{"Credit note number", orDash(cn.Number)},
		{"Issue date", longDate(cn.IssueDate)},
		{"Corrects invoice", orDash(cn.InvoiceNumber)},
		{"Invoice issued", longDate(cn.InvoiceIssueDate)},
		{"Currency", cn.Currency},
	}, rightX, bodyTop, colW)
	y = d.highlight("Amount credited", d.money(cn.Amount), rightX, y+2, colW)
	f.SetXY(marginX, max(leftY, y)+8)

	d.heading("Correction", lineBody)
	d.paragraph("This credit note corrects invoice "+clean(cn.InvoiceNumber)+" of "+longDate(cn.InvoiceIssueDate)+
		", which stays on record; it reduces what that invoice owes from "+longDate(cn.IssueDate)+".", regular, sizeBody, lineBody, colourInk)
	d.heading("Reason", lineBody)
	d.paragraph(cn.Reason, regular, sizeBody, lineBody, colourInk)
	f.SetY(f.GetY() + 2)

	if len(cn.Lines) > 0 {
		rows := make([][]string, len(cn.Lines))
		for i, l := range cn.Lines {
			rows[i] = []string{l.Description, quantity(l.Quantity), d.amount(l.UnitAmount), percent(l.TaxRate), d.amount(l.Tax), d.amount(l.Amount)}
		}
		t := d.table(invoiceLineCols, rows, "")
		for _, r := range rows {
			t.row(r...)
		}
	}
	pairs := [][2]string{{"Subtotal", d.money(cn.Subtotal)}, {"Tax", d.money(cn.Tax)}, {"Amount credited", d.money(cn.Amount)}}
	if cn.AppliedToInvoice != cn.Amount {
		pairs = append(pairs, [2]string{"Taken off the invoice", d.money(cn.AppliedToInvoice)},
			[2]string{"Added to your credit", d.money(cn.CreditCreated)})
	}
	f.SetY(f.GetY() + 4)
	d.keyValues(pairs, rightX, f.GetY(), colW)
	return d.finish()
}
