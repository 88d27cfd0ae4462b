package pdf

import (
	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
)

// InterestPeriod is a stretch of days on which the same base and rate gave
// interest: From and To are both counted, Days of them.
type InterestPeriod struct {
	From domain.Date `json:"from"`
	To   domain.Date `json:"to"`
	Days int         `json:"days"`
	Base int64       `json:"base"` // minor units the rate applied to
	Rate string      `json:"rate"` // annual percent, "10.15"
	// Daily says Rate is a percent a day, not a year.
	Daily  bool  `json:"daily"`
	Amount int64 `json:"amount"`
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
	// rest on, in the document's language (i18n's LegalBasis).
	LegalBasis string `json:"legal_basis"`
}

// Statement is a statement of account: every open invoice of a client with
// its charges, payments and interest, and the total due on AsOf. It reads
// as a demand letter.
type Statement struct {
	// Locale is the client's language; nil means English.
	Locale   *i18n.Locale       `json:"-"`
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
		{title: "pdf.col.invoice", width: 24, align: "L", flex: true},
		{title: "pdf.col.issued", width: 21, align: "L"},
		{title: "pdf.col.due", width: 21, align: "L"},
		{title: "pdf.col.days_late", width: 16, align: "R"},
		{title: "pdf.col.total", width: 23, align: "R"},
		{title: "pdf.col.paid", width: 21, align: "R"},
		{title: "pdf.col.charges", width: 20, align: "R"},
		{title: "pdf.col.balance", width: 24, align: "R"},
	}
	interestCols = []column{
		{title: "pdf.col.from", width: 24, align: "L"},
		{title: "pdf.col.to", width: 24, align: "L"},
		{title: "pdf.col.days", width: 12, align: "R", flex: true},
		{title: "pdf.col.base", width: 36, align: "R"},
		{title: "pdf.col.rate", width: 28, align: "R"},
		{title: "pdf.col.interest", width: 32, align: "R"},
	}
)

// What a statement is called in each language (pdf.statement.*): the
// letter lists the client's open invoices, what was charged and paid on
// them, and demands the total. In Russian it is a «Выписка по расчётам»,
// not an «Акт сверки»: an акт сверки is a reconciliation both parties sign
// over every transaction of a period, and this is our one-sided list of
// what is open. In German it is the «Offene-Posten-Liste» with a
// Zahlungsaufforderung, not a «Kontoauszug», which a German reader takes
// for a bank's. In Bulgarian «Извлечение по сметка» with a «покана за
// плащане», the usual words for both.
func renderStatement(s Statement) ([]byte, error) {
	if err := validCurrency(s.Currency); err != nil {
		return nil, err
	}
	l := orEnglish(s.Locale)
	d := newDocument(documentInfo{
		loc: l, kind: l.T("pdf.statement.kind"), title: l.T("pdf.statement.title"),
		number:   l.T("pdf.statement.as_of", "date", l.Date(s.AsOf)),
		business: s.Business, currency: s.Currency, date: s.AsOf,
	})
	d.letterhead(s.Client, [][2]string{
		{d.t("pdf.fact.date"), d.date(s.AsOf)},
		{d.t("pdf.fact.currency"), s.Currency},
		{d.t("pdf.open_invoices"), d.number(len(s.Invoices))},
	})

	d.title(d.t("pdf.statement.heading"))
	demand := s.Demand
	if demand == "" {
		demand = defaultDemand(d, s)
	}
	d.paragraph(demand, regular, sizeBody+0.5, lineBody+0.4, colourInk)
	d.f.SetY(d.f.GetY() + 1)
	d.ensure(12)
	dueOn := d.t("pdf.total_due_on", "date", d.date(s.AsOf))
	y := d.highlight(dueOn, d.money(s.TotalDue), marginX, d.f.GetY(), contentW)
	d.f.SetY(y + 2)

	d.heading(d.t("pdf.open_invoices"), headRowH+lineBody+2*rowPad)
	rows := make([][]string, len(s.Invoices))
	for i, inv := range s.Invoices {
		rows[i] = []string{inv.Number, d.cellDate(inv.IssueDate), d.cellDate(inv.DueDate), d.number(inv.DaysOverdue),
			d.amount(inv.Total), d.amount(inv.Paid), d.amount(inv.Charges), d.amount(inv.Balance)}
	}
	t := d.table(statementCols, rows, d.money(s.TotalDue))
	for _, r := range rows {
		t.row(r...)
	}
	if len(s.Invoices) == 0 {
		d.keepWithNext(d.signatureHeight())
	}
	t.total(d.t("pdf.total_due"), d.money(s.TotalDue))

	for i, inv := range s.Invoices {
		d.invoiceDetail(inv, i == len(s.Invoices)-1)
	}
	d.signature(d.t("pdf.statement.closing"))
	return d.finish()
}

func defaultDemand(d *document, s Statement) string {
	when := d.t("pdf.statement.within_7_days")
	if !s.PayBy.IsZero() {
		when = d.t("pdf.statement.pay_by", "date", d.date(s.PayBy))
	}
	return d.t("pdf.statement.demand", "amount", d.money(s.TotalDue), "date", d.date(s.AsOf), "when", when)
}

// invoiceDetail writes one invoice's charges, payments and interest periods;
// the last one keeps its closing lines with the sign-off that follows.
func (d *document) invoiceDetail(inv StatementInvoice, last bool) {
	d.heading(d.t("pdf.statement.invoice", "number", inv.Number, "balance", d.money(inv.Balance)), 2*lineBody)
	d.paragraph(d.t("pdf.statement.invoice_facts", "issued", d.date(inv.IssueDate), "due", d.date(inv.DueDate),
		"days", d.loc.Count("unit.day", inv.DaysOverdue), "total", d.money(inv.Total), "paid", d.money(inv.Paid),
		"charges", d.money(inv.Charges)), regular, sizeBody, lineBody, colourInk)
	if len(inv.Interest) > 0 {
		rows := make([][]string, len(inv.Interest))
		var sum int64
		for i, p := range inv.Interest {
			rate := d.percent(p.Rate)
			if p.Daily {
				rate = d.t("pdf.percent_a_day", "rate", d.decimal(p.Rate))
			}
			rows[i] = []string{d.cellDate(p.From), d.cellDate(p.To), d.number(p.Days), d.amount(p.Base), rate,
				d.amount(p.Amount)}
			sum += p.Amount
		}
		t := d.table(interestCols, rows, d.money(sum))
		for _, r := range rows {
			t.row(r...)
		}
		t.total(d.t("pdf.col.interest"), d.money(sum))
	}
	if len(inv.ChargeLines) > 0 {
		d.f.SetY(d.f.GetY() + 2)
		d.chargeTable(inv.ChargeLines, "pdf.col.charges_posted")
	}
	if len(inv.Payments) > 0 {
		d.f.SetY(d.f.GetY() + 2)
		d.paymentTable(inv.Payments, "pdf.col.paid")
	}
	basis := inv.LegalBasis
	if basis == "" {
		basis = d.t("basis.agreement")
	}
	d.f.SetY(d.f.GetY() + 1.5)
	if last {
		d.keepWithNext(d.signatureHeight())
	}
	d.paragraph(d.t("pdf.legal_basis", "basis", basis), regular, sizeSmall+0.5, lineSmall+0.3, colourMuted)
}

// letterhead writes the addressee on the left and the letter's facts on the right.
func (d *document) letterhead(to Party, facts [][2]string) {
	colW := contentW*0.5 - 6
	leftY := d.party(d.t("pdf.to"), to, marginX, bodyTop, colW)
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

// number writes a count with the language's digit grouping.
func (d *document) number(n int) string { return d.loc.Number(int64(n)) }
