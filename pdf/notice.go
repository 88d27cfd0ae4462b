package pdf

import (
	"fmt"
	"strconv"

	"github.com/remit/remit/domain"
)

// Kinds of notice letter.
const (
	NoticePolicyChange      = "policy_change"
	NoticeSuspensionWarning = "suspension_warning"
	NoticeSuspension        = "suspension"
	// NoticeTermsAccepted confirms the client's acceptance of a version of
	// the terms, with the evidence; its Paragraphs are the whole body.
	NoticeTermsAccepted = "terms_accepted"
)

// Notice is a letter to a client: a change to their terms, a warning that
// their service will be suspended, or the suspension itself.
type Notice struct {
	Kind     string      `json:"kind"` // one of the Notice* constants
	Business Business    `json:"business"`
	Client   Party       `json:"client"`
	Currency string      `json:"currency"` // of Invoices; may be empty when there are none
	Date     domain.Date `json:"date"`     // the letter's date
	// EffectiveOn is when the change or suspension takes effect.
	EffectiveOn domain.Date `json:"effective_on"`
	Subject     string      `json:"subject"` // empty: a standard subject for the kind
	// Paragraphs are the body; empty gives a standard one for the kind.
	Paragraphs []string `json:"paragraphs"`
	// Changes lists what changes, for a policy-change notice.
	Changes []string `json:"changes"`
	// Invoices are the overdue invoices behind a warning or a suspension.
	Invoices []StatementInvoice `json:"invoices"`
}

// noticeTitles gives each kind its header title and standard subject.
var noticeTitles = map[string][2]string{
	NoticePolicyChange:      {"NOTICE", "Notice of a change to your payment terms"},
	NoticeSuspensionWarning: {"WARNING", "Warning: your service will be suspended"},
	NoticeSuspension:        {"NOTICE", "Notice of suspension of service"},
	NoticeTermsAccepted:     {"ACCEPTED", "Payment terms accepted"},
}

var noticeInvoiceCols = []column{
	{title: "Invoice", width: 24, align: "L", flex: true},
	{title: "Issued", width: 24, align: "L"},
	{title: "Due", width: 24, align: "L"},
	{title: "Days late", width: 22, align: "R"},
	{title: "Balance", width: 36, align: "R"},
}

func renderNotice(n Notice) ([]byte, error) {
	titles, ok := noticeTitles[n.Kind]
	if !ok {
		return nil, domain.Errorf(domain.EINVALID, "pdf: unknown notice kind %q", n.Kind)
	}
	if len(n.Invoices) > 0 || n.Currency != "" {
		if err := validCurrency(n.Currency); err != nil {
			return nil, err
		}
	}
	d := newDocument(documentInfo{
		kind: "Notice", title: titles[0],
		business: n.Business, currency: n.Currency, date: n.Date,
	})
	facts := [][2]string{{"Date", longDate(n.Date)}}
	if !n.EffectiveOn.IsZero() {
		label := "Effective from"
		switch n.Kind {
		case NoticeSuspensionWarning:
			label = "Suspension on"
		case NoticeSuspension:
			label = "Suspended from"
		}
		facts = append(facts, [2]string{label, longDate(n.EffectiveOn)})
	}
	d.letterhead(n.Client, facts)

	subject := n.Subject
	if subject == "" {
		subject = titles[1]
	}
	d.title(subject)

	greeting := "Dear client,"
	if c := clean(n.Client.ContactName); c != "" {
		greeting = "Dear " + c + ","
	}
	d.paragraph(greeting, regular, sizeBody+0.5, lineBody+0.4, colourInk)
	paragraphs := n.Paragraphs
	if len(paragraphs) == 0 {
		paragraphs = defaultNotice(d, n)
	}
	// The last block before the sign-off keeps it on its page.
	sign := d.signatureHeight()
	effective := len(n.Changes) > 0 && !n.EffectiveOn.IsZero()
	for i, p := range paragraphs {
		if i == len(paragraphs)-1 && len(n.Changes) == 0 && len(n.Invoices) == 0 {
			d.keepWithNext(sign)
		}
		d.paragraph(p, regular, sizeBody+0.5, lineBody+0.4, colourInk)
	}

	if len(n.Changes) > 0 {
		d.heading("What changes", 2*lineBody)
		keep := 0.0
		if !effective && len(n.Invoices) == 0 {
			keep = sign
		}
		d.bullets(n.Changes, sizeBody+0.5, lineBody+0.4, keep)
		if effective {
			if len(n.Invoices) == 0 {
				d.keepWithNext(sign)
			}
			d.paragraph(fmt.Sprintf("These changes take effect on %s. They do not apply to invoices issued before that date.",
				longDate(n.EffectiveOn)), bold, sizeBody+0.5, lineBody+0.4, colourInk)
		}
	}

	if len(n.Invoices) > 0 {
		d.heading("Overdue invoices", headRowH+lineBody+2*rowPad)
		rows := make([][]string, len(n.Invoices))
		var total int64
		for i, inv := range n.Invoices {
			rows[i] = []string{inv.Number, date(inv.IssueDate), date(inv.DueDate), strconv.Itoa(inv.DaysOverdue), d.amount(inv.Balance)}
			total += inv.Balance
		}
		t := d.table(noticeInvoiceCols, rows, d.money(total))
		for _, r := range rows {
			t.row(r...)
		}
		d.keepWithNext(sign)
		t.total("Total due", d.money(total))
	}
	d.signature("Yours sincerely,")
	return d.finish()
}

// defaultNotice is the standard body of each kind of notice.
func defaultNotice(d *document, n Notice) []string {
	on := longDate(n.EffectiveOn)
	var total int64
	for _, inv := range n.Invoices {
		total += inv.Balance
	}
	switch n.Kind {
	case NoticePolicyChange:
		return []string{fmt.Sprintf("We are writing to give you notice that the payment terms of our agreement will change from %s. "+
			"The changes are listed below. Invoices issued before that date keep the terms printed on them.", on)}
	case NoticeSuspensionWarning:
		return []string{fmt.Sprintf("The invoices listed below are overdue, with %s outstanding. "+
			"Unless they are paid in full, we will suspend our services to you on %s. "+
			"Paying the balance before then stops the suspension; services resume as soon as every overdue invoice is paid.",
			d.money(total), on)}
	default:
		return []string{fmt.Sprintf("As the invoices listed below remain unpaid, with %s outstanding, "+
			"we have suspended our services to you as of %s, as warned. "+
			"Services resume as soon as every overdue invoice is paid in full.", d.money(total), on)}
	}
}
