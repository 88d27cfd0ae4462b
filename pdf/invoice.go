package pdf

import (
	"strings"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
)

// Business is the sender of every document: us.
type Business struct {
	Name    string `json:"name"`
	Address string `json:"address"` // several lines separated by "\n"
	Email   string `json:"email"`
	TaxID   string `json:"tax_id"`
}

// Party is the client a document is addressed to.
type Party struct {
	Name        string `json:"name"`
	ContactName string `json:"contact_name"` // their one point of contact
	Email       string `json:"email"`
	Address     string `json:"address"` // several lines separated by "\n"
	TaxID       string `json:"tax_id"`
}

// InvoiceLine is one line of an invoice. Amounts are in minor units of the
// invoice's currency; Amount is before tax.
type InvoiceLine struct {
	Description string `json:"description"`
	Quantity    string `json:"quantity"` // decimal string, "1.5"
	UnitAmount  int64  `json:"unit_amount"`
	TaxRate     string `json:"tax_rate"` // percent, "20"; empty for none
	Amount      int64  `json:"amount"`
	Tax         int64  `json:"tax"`
}

// ChargeLine is a charge posted on an invoice: a late fee, a month's
// interest, or the fixed compensation. The document names the kind in its
// language (pdf.charge.<kind>); Description follows it, already in that
// language (i18n's ChargeDetail).
type ChargeLine struct {
	Kind        string      `json:"kind"` // late_fee, interest, compensation, fees_and_compensation
	Description string      `json:"description"`
	PostedOn    domain.Date `json:"posted_on"`
	Amount      int64       `json:"amount"`
	Waived      bool        `json:"waived"`
}

// PaymentLine is a payment received against an invoice.
type PaymentLine struct {
	PaidOn domain.Date `json:"paid_on"`
	// Method is a payment method (bank_transfer, card, ...) or refund,
	// refunded, credit or credit_note; the document names it in its
	// language (pdf.method.<method>), or prints it as given.
	Method    string `json:"method"`
	Reference string `json:"reference"`
	Amount    int64  `json:"amount"`
}

// CreditNoteLine is a credit note that corrects the invoice.
type CreditNoteLine struct {
	Number    string      `json:"number"`
	IssueDate domain.Date `json:"issue_date"`
	Reason    string      `json:"reason"`
	Amount    int64       `json:"amount"`
}

// Invoice is everything an invoice PDF shows. The api layer builds it from
// domain values; amounts are minor units of Currency, and the figures are
// printed as given, never recomputed.
type Invoice struct {
	// Locale is the client's language: every word, figure and date of the
	// document follows it. Nil means English.
	Locale         *i18n.Locale `json:"-"`
	Business       Business     `json:"business"`
	Client         Party        `json:"client"`
	AccountManager string       `json:"account_manager"` // ours
	Number         string       `json:"number"`          // empty on a draft
	Status         string       `json:"status"`          // draft, open, paid, void, uncollectible
	Currency       string       `json:"currency"`
	IssueDate      domain.Date  `json:"issue_date"`
	DueDate        domain.Date  `json:"due_date"`
	Memo           string       `json:"memo"` // the invoice's note to the client, printed above the lines
	// SupplyFrom..SupplyTo is the date or period of supply, shown when it
	// differs from the issue date (SupplyTo zero for a single date).
	SupplyFrom domain.Date `json:"supply_from"`
	SupplyTo   domain.Date `json:"supply_to"`
	// ReverseCharge prints the legal note that the recipient owes the VAT
	// (the catalogue's reverse_charge, the wording the law asks for).
	ReverseCharge bool          `json:"reverse_charge"`
	Lines         []InvoiceLine `json:"lines"`
	Subtotal      int64         `json:"subtotal"`
	Tax           int64         `json:"tax"`
	Total         int64         `json:"total"`
	ChargesTotal  int64         `json:"charges_total"` // charges not waived
	AmountPaid    int64         `json:"amount_paid"`
	CreditApplied int64         `json:"credit_applied"`
	BalanceDue    int64         `json:"balance_due"`
	Charges       []ChargeLine  `json:"charges"`
	Payments      []PaymentLine `json:"payments"`
	// CreditNotes correct the invoice; Credited is the principal they took off.
	CreditNotes []CreditNoteLine `json:"credit_notes"`
	Credited    int64            `json:"credited"`
	// Terms are the payment and late-payment terms of the agreement version
	// stored on the invoice, one sentence each, in the client's language
	// (i18n's Terms).
	Terms []string `json:"terms"`
	// PayPageURL is the invoice's hosted page, which quotes the amount due
	// on the day it is opened, interest included, and takes the payment;
	// when set, the document links there instead of to CheckoutURL.
	PayPageURL string `json:"pay_page_url"`
	// AgreementFrom is when that agreement version took effect; zero leaves it out.
	AgreementFrom domain.Date `json:"agreement_from"`
	// DefaultTerms says the client has no agreement: Terms are the default
	// terms, and the document says so rather than "as agreed".
	DefaultTerms bool        `json:"default_terms"`
	CheckoutURL  string      `json:"checkout_url"`
	GeneratedOn  domain.Date `json:"generated_on"` // the PDF's creation date
}

var (
	invoiceLineCols = []column{
		{title: "pdf.col.description", align: "L", wrap: true, flex: true},
		{title: "pdf.col.qty", width: 14, align: "R"},
		{title: "pdf.col.unit_price", width: 24, align: "R"},
		{title: "pdf.col.tax_rate", width: 16, align: "R"},
		{title: "pdf.col.tax", width: 22, align: "R"},
		{title: "pdf.col.amount", width: 25, align: "R"},
	}
	chargeCols = []column{
		{title: "pdf.col.posted", width: 24, align: "L"},
		{title: "pdf.col.charge", align: "L", wrap: true, flex: true},
		{title: "pdf.col.amount", width: 32, align: "R"},
	}
	paymentCols = []column{
		{title: "pdf.col.received", width: 24, align: "L"},
		{title: "pdf.col.method", width: 40, align: "L"},
		{title: "pdf.col.reference", align: "L", flex: true},
		{title: "pdf.col.amount", width: 32, align: "R"},
	}
)

// word returns the catalogue's message prefix+code, or the code itself
// (underscores as spaces) when the catalogue has no such message.
func (d *document) word(prefix, code string) string {
	if s, ok := d.loc.Keys()[prefix+strings.ReplaceAll(code, " ", "_")]; ok {
		return s
	}
	return strings.ReplaceAll(code, "_", " ")
}

// chargeText names a charge: its kind, what it is, and whether it was waived.
func (d *document) chargeText(c ChargeLine) string {
	kind := d.word("pdf.charge.", strings.ToLower(c.Kind))
	text := kind
	if c.Description != "" && c.Description != kind {
		text = d.t("pdf.charge.detail", "kind", kind, "detail", c.Description)
	}
	if c.Waived {
		text += " (" + d.t("pdf.charge.waived") + ")"
	}
	return text
}

func (d *document) quantity(q string) string {
	if q == "" {
		return "1"
	}
	return d.decimal(q)
}

func (d *document) percent(rate string) string {
	if rate == "" {
		return "—"
	}
	return d.t("percent", "rate", d.decimal(rate))
}

func validCurrency(code string) error {
	if !domain.ValidCurrency(code) {
		return domain.Errorf(domain.EINVALID, "pdf: currency %q is not an ISO 4217 code Remit invoices in", code)
	}
	return nil
}

func renderInvoice(inv Invoice) ([]byte, error) {
	if err := validCurrency(inv.Currency); err != nil {
		return nil, err
	}
	l := orEnglish(inv.Locale)
	st := stampFor(inv.Status, l)
	number := inv.Number
	if number != "" {
		number = l.T("pdf.number", "number", number)
	}
	d := newDocument(documentInfo{
		loc: l, kind: l.T("pdf.invoice.kind"), title: l.T("pdf.invoice.title"), number: number, business: inv.Business,
		currency: inv.Currency, date: inv.GeneratedOn, stamp: st,
	})
	f := d.f

	// Who and when: the client on the left, the invoice's facts on the right.
	colW := contentW*0.5 - 6
	rightX := rightEdge - colW
	leftY := d.party(d.t("pdf.bill_to"), inv.Client, marginX, bodyTop, colW)

	y := bodyTop
	if st != nil {
		d.badge(st, rightEdge, y)
		y += 9
	}
	facts := [][2]string{
		{d.t("pdf.fact.invoice_number"), orDash(inv.Number)},
		{d.t("pdf.fact.issue_date"), d.date(inv.IssueDate)},
		{d.t("pdf.fact.due_date"), d.date(inv.DueDate)},
	}
	switch {
	case !inv.SupplyTo.IsZero() && inv.SupplyTo != inv.SupplyFrom:
		facts = append(facts, [2]string{d.t("pdf.fact.supplied_from"), d.date(inv.SupplyFrom)},
			[2]string{d.t("pdf.fact.supplied_to"), d.date(inv.SupplyTo)})
	case !inv.SupplyFrom.IsZero() && inv.SupplyFrom != inv.IssueDate:
		facts = append(facts, [2]string{d.t("pdf.fact.supply_date"), d.date(inv.SupplyFrom)})
	}
	if inv.AccountManager != "" {
		facts = append(facts, [2]string{d.t("pdf.fact.account_manager"), clean(inv.AccountManager)})
	}
	facts = append(facts, [2]string{d.t("pdf.fact.currency"), inv.Currency})
	y = d.keyValues(facts, rightX, y, colW)
	y = d.highlight(d.t("pdf.balance_due"), d.money(inv.BalanceDue), rightX, y+2, colW)
	f.SetXY(marginX, max(leftY, y)+8)

	if memo := strings.TrimSpace(inv.Memo); memo != "" {
		d.heading(d.t("pdf.memo"), lineBody)
		d.paragraph(memo, regular, sizeBody, lineBody, colourInk)
		f.SetY(f.GetY() + 2)
	}

	// The lines.
	d.lineTable(inv.Lines)

	d.totals(inv)
	if inv.ReverseCharge {
		d.heading(d.t("pdf.reverse_charge"), lineBody)
		d.paragraph(d.t("reverse_charge"), regular, sizeBody, lineBody, colourInk)
	}

	if len(inv.Charges) > 0 {
		d.heading(d.t("pdf.charges.heading"), headRowH+lineBody+2*rowPad)
		d.chargeTable(inv.Charges, "")
	}
	if len(inv.Payments) > 0 {
		d.heading(d.t("pdf.payments.heading"), headRowH+lineBody+2*rowPad)
		d.paymentTable(inv.Payments, "")
	}
	if len(inv.CreditNotes) > 0 {
		d.heading(d.t("pdf.credit_notes"), headRowH+lineBody+2*rowPad)
		rows := make([][]string, len(inv.CreditNotes))
		for i, n := range inv.CreditNotes {
			note := d.t("pdf.number", "number", n.Number) + ": " + n.Reason
			rows[i] = []string{d.cellDate(n.IssueDate), note, d.amount(n.Amount)}
		}
		t := d.table(chargeCols, rows, "", "pdf.col.issued", "pdf.col.credit_note")
		for _, r := range rows {
			t.row(r...)
		}
	}
	if len(inv.Terms) > 0 {
		switch {
		case inv.DefaultTerms:
			d.heading(d.t("pdf.terms.default"), 2*lineBody)
			d.paragraph(d.t("pdf.terms.default_intro"), regular, sizeBody, lineBody, colourMuted)
		case !inv.AgreementFrom.IsZero():
			d.heading(d.t("pdf.terms.heading"), 2*lineBody)
			agreed := d.t("pdf.terms.as_agreed", "date", d.date(inv.AgreementFrom))
			d.paragraph(agreed, regular, sizeBody, lineBody, colourMuted)
		default:
			d.heading(d.t("pdf.terms.heading"), 2*lineBody)
		}
		d.bullets(inv.Terms, sizeBody, lineBody, 0)
	}
	return d.finish()
}

// orEnglish is l, or English when l is nil.
func orEnglish(l *i18n.Locale) *i18n.Locale {
	if l == nil {
		return i18n.For("")
	}
	return l
}

// lineTable writes the lines of an invoice or credit note.
func (d *document) lineTable(lines []InvoiceLine) {
	if len(lines) == 0 {
		return
	}
	rows := make([][]string, len(lines))
	for i, l := range lines {
		rows[i] = []string{l.Description, d.quantity(l.Quantity), d.amount(l.UnitAmount), d.percent(l.TaxRate),
			d.amount(l.Tax), d.amount(l.Amount)}
	}
	t := d.table(invoiceLineCols, rows, "")
	for _, r := range rows {
		t.row(r...)
	}
}

// chargeTable writes the charges posted on an invoice; title, a catalogue
// key, when not empty, replaces the charge column's title.
func (d *document) chargeTable(charges []ChargeLine, title string) {
	rows := make([][]string, len(charges))
	for i, c := range charges {
		rows[i] = []string{d.cellDate(c.PostedOn), d.chargeText(c), d.amount(c.Amount)}
	}
	t := d.table(chargeCols, rows, "", "", title)
	for i, c := range charges {
		t.styled(rowStyle{muted: c.Waived}, rows[i]...)
	}
}

// paymentTable writes the payments received on an invoice; title, a
// catalogue key, when not empty, replaces the amount column's title.
func (d *document) paymentTable(payments []PaymentLine, title string) {
	rows := make([][]string, len(payments))
	for i, p := range payments {
		rows[i] = []string{d.cellDate(p.PaidOn), d.word("pdf.method.", p.Method), p.Reference, d.amount(p.Amount)}
	}
	t := d.table(paymentCols, rows, "", "", "", "", title)
	for _, r := range rows {
		t.row(r...)
	}
}

func orDash(s string) string {
	if s = clean(s); s == "" {
		return "—"
	}
	return s
}

// totals writes the summary block under the lines, right-aligned, with
// the checkout link, if any, beside it on the left; the two stay on one page.
func (d *document) totals(inv Invoice) {
	f := d.f
	total := d.t("pdf.total")
	rows := [][2]string{
		{d.t("pdf.subtotal"), d.money(inv.Subtotal)},
		{d.t("pdf.tax"), d.money(inv.Tax)},
		{total, d.money(inv.Total)},
	}
	if inv.ChargesTotal != 0 {
		rows = append(rows, [2]string{d.t("pdf.late_charges"), d.money(inv.ChargesTotal)})
	}
	if inv.AmountPaid != 0 {
		rows = append(rows, [2]string{d.t("pdf.amount_paid"), d.money(-inv.AmountPaid)})
	}
	if inv.CreditApplied != 0 {
		rows = append(rows, [2]string{d.t("pdf.credit_applied"), d.money(-inv.CreditApplied)})
	}
	if inv.Credited != 0 {
		rows = append(rows, [2]string{d.t("pdf.credit_notes"), d.money(-inv.Credited)})
	}
	const (
		rowH = lineBody + 1.6
		w    = 86.0
		x    = rightEdge - w
		payW = contentW - w - 10
	)
	var url, pay []string
	link := inv.CheckoutURL
	switch {
	case inv.PayPageURL != "":
		link = inv.PayPageURL
		d.font(regular, sizeBody, colourLink)
		url = d.wrap(link, payW)
		d.font(regular, sizeBody, colourInk)
		pay = d.wrap(d.t("pdf.pay_page"), payW)
	case link != "":
		d.font(regular, sizeBody, colourLink)
		url = d.wrap(link, payW)
		d.font(regular, sizeBody, colourInk)
		pay = d.wrap(d.t("pdf.pay_by_card", "amount", d.money(inv.BalanceDue)), payW)
	}
	h := max(float64(len(rows))*rowH+11.5, 6+float64(len(pay)+len(url))*lineBody+lineBody)
	f.SetY(f.GetY() + 4)
	d.ensure(h)
	top := f.GetY()

	y := top
	for i, r := range rows {
		style := regular
		if r[0] == total {
			style = bold
		}
		d.font(style, sizeBody, colourInk)
		f.SetXY(x, y)
		f.CellFormat(w*0.5, rowH, r[0], "", 0, "L", false, 0, "")
		f.SetXY(x+w*0.5, y)
		f.CellFormat(w*0.5, rowH, r[1], "", 0, "R", false, 0, "")
		y += rowH
		if i < len(rows)-1 {
			f.SetDrawColor(colourRule.r, colourRule.g, colourRule.b)
			f.SetLineWidth(0.2)
			f.Line(x, y, rightEdge, y)
		}
	}
	y = d.highlight(d.t("pdf.balance_due"), d.money(inv.BalanceDue), x, y+1.5, w)

	if len(url) > 0 {
		d.font(bold, 10.5, colourAccent)
		f.SetXY(marginX, top)
		f.CellFormat(payW, 6, d.t("pdf.pay_online"), "", 0, "L", false, 0, "")
		d.font(regular, sizeBody, colourInk)
		for i, l := range pay {
			f.SetXY(marginX, top+6+float64(i)*lineBody)
			f.CellFormat(payW, lineBody, l, "", 0, "L", false, 0, "")
		}
		d.font(regular, sizeBody, colourLink)
		linkY := top + 6 + float64(len(pay))*lineBody
		for i, l := range url {
			f.SetXY(marginX, linkY+float64(i)*lineBody)
			f.CellFormat(payW, lineBody, l, "", 0, "L", false, 0, "")
		}
		f.LinkString(marginX, linkY, payW, float64(len(url))*lineBody, link)
		y = max(y, linkY+float64(len(url))*lineBody)
	}
	f.SetXY(marginX, y)
}
