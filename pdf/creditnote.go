package pdf

import (
	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
)

// CreditNote is everything a credit note PDF shows: the invoice it
// corrects (number and issue date), why, and what it credits, as lines or
// one amount. Amounts are minor units of Currency, printed as given.
type CreditNote struct {
	// Locale is the client's language; nil means English.
	Locale           *i18n.Locale  `json:"-"`
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
	return r.render("credit_note", doc.Locale, doc, func() ([]byte, error) { return renderCreditNote(doc) })
}

// What a credit note is called (pdf.credit_note.*): in German a
// «Rechnungskorrektur», the supplier's correction of its own invoice; a
// «Gutschrift» is, under § 14 (2) UStG, an invoice the recipient issues
// (self-billing), and a German reader would take it for that. In Russian a
// «Корректировочный счёт», the correction of the «Счёт» it names; in
// Bulgarian a «Кредитно известие», the term of the VAT Act (ЗДДС, чл. 115).
func renderCreditNote(cn CreditNote) ([]byte, error) {
	if err := validCurrency(cn.Currency); err != nil {
		return nil, err
	}
	l := orEnglish(cn.Locale)
	d := newDocument(documentInfo{
		loc: l, kind: l.T("pdf.credit_note.kind"), title: l.T("pdf.credit_note.title"),
		number: l.T("pdf.number", "number", cn.Number), business: cn.Business, currency: cn.Currency,
		date: cn.IssueDate,
	})
	f := d.f
	colW := contentW*0.5 - 6
	rightX := rightEdge - colW
	leftY := d.party(d.t("pdf.credit_to"), cn.Client, marginX, bodyTop, colW)
	y := d.keyValues([][2]string{
		{d.t("pdf.fact.credit_note_number"), orDash(cn.Number)},
		{d.t("pdf.fact.issue_date"), d.date(cn.IssueDate)},
		{d.t("pdf.fact.corrects_invoice"), orDash(cn.InvoiceNumber)},
		{d.t("pdf.fact.invoice_issued"), d.date(cn.InvoiceIssueDate)},
		{d.t("pdf.fact.currency"), cn.Currency},
	}, rightX, bodyTop, colW)
	y = d.highlight(d.t("pdf.amount_credited"), d.money(cn.Amount), rightX, y+2, colW)
	f.SetXY(marginX, max(leftY, y)+8)

	d.heading(d.t("pdf.correction"), lineBody)
	correction := d.t("pdf.correction.text", "number", clean(cn.InvoiceNumber),
		"invoice_date", d.date(cn.InvoiceIssueDate), "date", d.date(cn.IssueDate))
	d.paragraph(correction, regular, sizeBody, lineBody, colourInk)
	d.heading(d.t("pdf.reason"), lineBody)
	d.paragraph(cn.Reason, regular, sizeBody, lineBody, colourInk)
	f.SetY(f.GetY() + 2)

	d.lineTable(cn.Lines)
	pairs := [][2]string{{d.t("pdf.subtotal"), d.money(cn.Subtotal)}, {d.t("pdf.tax"), d.money(cn.Tax)},
		{d.t("pdf.amount_credited"), d.money(cn.Amount)}}
	if cn.AppliedToInvoice != cn.Amount {
		pairs = append(pairs, [2]string{d.t("pdf.taken_off_invoice"), d.money(cn.AppliedToInvoice)},
			[2]string{d.t("pdf.added_to_credit"), d.money(cn.CreditCreated)})
	}
	f.SetY(f.GetY() + 4)
	d.keyValues(pairs, rightX, f.GetY(), colW)
	return d.finish()
}
