package pdf

import (
	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
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
	// Locale is the client's language; nil means English.
	Locale   *i18n.Locale `json:"-"`
	Kind     string       `json:"kind"` // one of the Notice* constants
	Business Business     `json:"business"`
	Client   Party        `json:"client"`
	Currency string       `json:"currency"` // of Invoices; may be empty when there are none
	Date     domain.Date  `json:"date"`     // the letter's date
	// EffectiveOn is when the change or suspension takes effect.
	EffectiveOn domain.Date `json:"effective_on"`
	Subject     string      `json:"subject"` // empty: a standard subject for the kind
	// Paragraphs are the body, in the client's language; empty gives a
	// standard one for the kind.
	Paragraphs []string `json:"paragraphs"`
	// Changes lists what changes, for a policy-change notice.
	Changes []string `json:"changes"`
	// Invoices are the overdue invoices behind a warning or a suspension.
	Invoices []StatementInvoice `json:"invoices"`
}

// noticeKinds are the kinds a Notice may have; each has its header title
// and standard subject in the catalogues (pdf.notice.<kind>.title, .subject).
var noticeKinds = map[string]bool{
	NoticePolicyChange: true, NoticeSuspensionWarning: true, NoticeSuspension: true, NoticeTermsAccepted: true,
}

var noticeInvoiceCols = []column{
	{title: "pdf.col.invoice", width: 24, align: "L", flex: true},
	{title: "pdf.col.issued", width: 24, align: "L"},
	{title: "pdf.col.due", width: 24, align: "L"},
	{title: "pdf.col.days_late", width: 22, align: "R"},
	{title: "pdf.col.balance", width: 36, align: "R"},
}

func renderNotice(n Notice) ([]byte, error) {
	if !noticeKinds[n.Kind] {
		return nil, domain.Errorf(domain.EINVALID, "pdf: unknown notice kind %q", n.Kind)
	}
	if len(n.Invoices) > 0 || n.Currency != "" {
		if err := validCurrency(n.Currency); err != nil {
			return nil, err
		}
	}
	l := orEnglish(n.Locale)
	d := newDocument(documentInfo{
		loc: l, kind: l.T("pdf.notice.kind"), title: l.T("pdf.notice." + n.Kind + ".title"),
		business: n.Business, currency: n.Currency, date: n.Date,
	})
	facts := [][2]string{{d.t("pdf.fact.date"), d.date(n.Date)}}
	if !n.EffectiveOn.IsZero() {
		label := d.t("pdf.fact.effective_from")
		switch n.Kind {
		case NoticeSuspensionWarning:
			label = d.t("pdf.fact.suspension_on")
		case NoticeSuspension:
			label = d.t("pdf.fact.suspended_from")
		}
		facts = append(facts, [2]string{label, d.date(n.EffectiveOn)})
	}
	d.letterhead(n.Client, facts)

	subject := n.Subject
	if subject == "" {
		subject = d.t("pdf.notice." + n.Kind + ".subject")
	}
	d.title(subject)

	greeting := d.t("pdf.dear_client")
	if c := clean(n.Client.ContactName); c != "" {
		greeting = d.t("pdf.dear", "name", c)
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
		d.heading(d.t("pdf.notice.what_changes"), 2*lineBody)
		keep := 0.0
		if !effective && len(n.Invoices) == 0 {
			keep = sign
		}
		d.bullets(n.Changes, sizeBody+0.5, lineBody+0.4, keep)
		if effective {
			if len(n.Invoices) == 0 {
				d.keepWithNext(sign)
			}
			d.paragraph(d.t("pdf.notice.changes_take_effect", "date", d.date(n.EffectiveOn)),
				bold, sizeBody+0.5, lineBody+0.4, colourInk)
		}
	}

	if len(n.Invoices) > 0 {
		d.heading(d.t("pdf.notice.overdue_invoices"), headRowH+lineBody+2*rowPad)
		rows := make([][]string, len(n.Invoices))
		var total int64
		for i, inv := range n.Invoices {
			rows[i] = []string{inv.Number, d.cellDate(inv.IssueDate), d.cellDate(inv.DueDate),
				d.number(inv.DaysOverdue), d.amount(inv.Balance)}
			total += inv.Balance
		}
		t := d.table(noticeInvoiceCols, rows, d.money(total))
		for _, r := range rows {
			t.row(r...)
		}
		d.keepWithNext(sign)
		t.total(d.t("pdf.total_due"), d.money(total))
	}
	d.signature(d.t("pdf.notice.closing"))
	return d.finish()
}

// defaultNotice is the standard body of each kind of notice.
func defaultNotice(d *document, n Notice) []string {
	on := d.date(n.EffectiveOn)
	var total int64
	for _, inv := range n.Invoices {
		total += inv.Balance
	}
	switch n.Kind {
	case NoticePolicyChange:
		return []string{d.t("pdf.notice.policy_change.body", "date", on)}
	case NoticeSuspensionWarning:
		return []string{d.t("pdf.notice.suspension_warning.body", "amount", d.money(total), "date", on)}
	default:
		return []string{d.t("pdf.notice.suspension.body", "amount", d.money(total), "date", on)}
	}
}
