package pdf

import (
	"fmt"
	"strconv"

	"github.com/remit/remit/domain"
)

// InterestPeriod is a stretch of days on which the same base and rate gave
// interest: From and To are both counted, Days of them.
type InterestPeriod struct {
	From   domain.Date `json:"from"`
	To     domain.Date `json:"to"`
	Days   int         `json:"days"`
	Base   int64       `json:"base"` // minor units the rate applied to
	Rate   string      `json:"rate"` // annual percent, "10.15"
	Amount int64       `json:"amount"`
}

// StatementInvoice is one open invoice on a statement or notice, with what
// was charged and paid on it. Amounts are minor units.
type StatementInvoice struct {
	Number      string           `json:"number"`
	IssueDate   domain.Date      `json:"issue_date"`
	DueDate     domain.Date      `json:"due_date"`
	Total       int64            `json:"total"`
	Paid        int64            `json:"paid"`    // payments and credits
	Charges     int64            `json:"charges"` // fees, interest and compensation not waived
	Balance     int64            `json:"balance"`
	DaysOverdue int              `json:"days_overdue"`
	ChargeLines []ChargeLine     `json:"charge_lines"`
	Payments    []PaymentLine    `json:"payments"`
	Interest    []InterestPeriod `json:"interest"`
	// LegalBasis names the law or agreement the interest and compensation
	// rest on; LegalBasis(preset) gives it for the statutory presets.
	LegalBasis string `json:"legal_basis"`
}

// Statement is a statement of account: every open invoice of a client with
// its charges, payments and interest, and the total due on AsOf. It reads
// as a demand letter.
type Statement struct {
	Business Business           `json:"business"`
	Client   Party              `json:"client"`
	Currency string             `json:"currency"`
	AsOf     domain.Date        `json:"as_of"` // the letter's date
	Invoices []StatementInvoice `json:"invoices"`
	TotalDue int64              `json:"total_due"`
	// PayBy is the date by which payment is demanded; zero leaves it out.
	PayBy domain.Date `json:"pay_by"`
	// Demand replaces the standard demand paragraph when not empty.
	Demand string `json:"demand"`
}

var (
	statementCols = []column{
		{title: "Invoice", width: 24, align: "L", flex: true},
		{title: "Issued", width: 21, align: "L"},
		{title: "Due", width: 21, align: "L"},
		{title: "Days late", width: 16, align: "R"},
		{title: "Total", width: 23, align: "R"},
		{title: "Paid", width: 21, align: "R"},
		{title: "Charges", width: 20, align: "R"},
		{title: "Balance", width: 24, align: "R"},
	}
	interestCols = []column{
		{title: "From", width: 24, align: "L"},
		{title: "To", width: 24, align: "L"},
		{title: "Days", width: 12, align: "R", flex: true},
		{title: "Base", width: 36, align: "R"},
		{title: "Rate a year", width: 28, align: "R"},
		{title: "Interest", width: 32, align: "R"},
	}
)

func renderStatement(s Statement) ([]byte, error) {
	if err := validCurrency(s.Currency); err != nil {
		return nil, err
	}
	d := newDocument(documentInfo{
		kind: "Statement of account", title: "STATEMENT", number: "as of " + longDate(s.AsOf),
		business: s.Business, currency: s.Currency, date: s.AsOf,
	})
	d.letterhead(s.Client, [][2]string{
		{"Date", longDate(s.AsOf)},
		{"Currency", s.Currency},
		{"Open invoices", strconv.Itoa(len(s.Invoices))},
	})

	d.title("Statement of account and demand for payment")
	demand := s.Demand
	if demand == "" {
		demand = defaultDemand(d, s)
	}
	d.paragraph(demand, regular, sizeBody+0.5, lineBody+0.4, colourInk)
	d.f.SetY(d.f.GetY() + 1)
	d.ensure(12)
	y := d.highlight("Total due on "+longDate(s.AsOf), d.money(s.TotalDue), marginX, d.f.GetY(), contentW)
	d.f.SetY(y + 2)

	d.heading("Open invoices", headRowH+lineBody+2*rowPad)
	rows := make([][]string, len(s.Invoices))
	for i, inv := range s.Invoices {
		rows[i] = []string{inv.Number, date(inv.IssueDate), date(inv.DueDate), strconv.Itoa(inv.DaysOverdue),
			d.amount(inv.Total), d.amount(inv.Paid), d.amount(inv.Charges), d.amount(inv.Balance)}
	}
	t := d.table(statementCols, rows, d.money(s.TotalDue))
	for _, r := range rows {
		t.row(r...)
	}
	if len(s.Invoices) == 0 {
		d.keepWithNext(d.signatureHeight())
	}
	t.total("Total due", d.money(s.TotalDue))

	for i, inv := range s.Invoices {
		d.invoiceDetail(inv, i == len(s.Invoices)-1)
	}
	d.signature("Yours faithfully,")
	return d.finish()
}

func defaultDemand(d *document, s Statement) string {
	when := "within 7 days of the date of this letter"
	if !s.PayBy.IsZero() {
		when = "by " + s.PayBy.LongString()
	}
	return fmt.Sprintf("According to our records, the invoices listed below are past due. "+
		"Including the late-payment charges and interest set out for each invoice, and their "+
		"legal basis, %s is due as of %s. We ask you to pay this amount %s. "+
		"If you have paid in the meantime, please disregard this letter and send us the payment details.",
		d.money(s.TotalDue), longDate(s.AsOf), when)
}

// invoiceDetail writes one invoice's charges, payments and interest periods;
// the last one keeps its closing lines with the sign-off that follows.
func (d *document) invoiceDetail(inv StatementInvoice, last bool) {
	d.heading(fmt.Sprintf("Invoice %s: balance %s", inv.Number, d.money(inv.Balance)), 2*lineBody)
	d.paragraph(fmt.Sprintf("Issued %s, due %s, %s overdue. Total %s, paid %s, charges %s.",
		longDate(inv.IssueDate), longDate(inv.DueDate), plural(inv.DaysOverdue, "day"),
		d.money(inv.Total), d.money(inv.Paid), d.money(inv.Charges)), regular, sizeBody, lineBody, colourInk)
	if len(inv.Interest) > 0 {
		rows := make([][]string, len(inv.Interest))
		var sum int64
		for i, p := range inv.Interest {
			rows[i] = []string{date(p.From), date(p.To), strconv.Itoa(p.Days), d.amount(p.Base), percent(p.Rate), d.amount(p.Amount)}
			sum += p.Amount
		}
		t := d.table(interestCols, rows, d.money(sum))
		for _, r := range rows {
			t.row(r...)
		}
		t.total("Interest", d.money(sum))
	}
	if len(inv.ChargeLines) > 0 {
		d.f.SetY(d.f.GetY() + 2)
		d.chargeTable(inv.ChargeLines, "Charges posted")
	}
	if len(inv.Payments) > 0 {
		d.f.SetY(d.f.GetY() + 2)
		d.paymentTable(inv.Payments, "Paid")
	}
	basis := inv.LegalBasis
	if basis == "" {
		basis = "the late-payment terms of our agreement, as printed on the invoice"
	}
	d.f.SetY(d.f.GetY() + 1.5)
	if last {
		d.keepWithNext(d.signatureHeight())
	}
	d.paragraph("Legal basis: "+basis+".", regular, sizeSmall+0.5, lineSmall+0.3, colourMuted)
}

// letterhead writes the addressee on the left and the letter's facts on the right.
func (d *document) letterhead(to Party, facts [][2]string) {
	colW := contentW*0.5 - 6
	leftY := d.party("TO", to, marginX, bodyTop, colW)
	rightY := d.keyValues(facts, rightEdge-colW, bodyTop, colW)
	d.f.SetXY(marginX, max(leftY, rightY)+8)
}

// title writes the large heading of a letter.
func (d *document) title(text string) {
	d.ensure(12)
	d.font(bold, 15, colourInk)
	d.f.SetX(marginX)
	for _, l := range d.wrap(text, contentW) {
		d.f.CellFormat(contentW, 7, l, "", 1, "L", false, 0, "")
	}
	d.f.SetY(d.f.GetY() + 2)
}

// plural writes "1 day" or "30 days".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
