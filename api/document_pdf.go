package api

// The one place that turns domain values into the pdf package's input.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
	"github.com/remit/remit/pdf"
)

func pdfBusiness(b domain.Business) pdf.Business {
	return pdf.Business{Name: b.Name, Address: b.Address, Email: b.Email, TaxID: b.TaxID}
}

func pdfParty(c domain.Client) pdf.Party {
	return pdf.Party{Name: c.Name, ContactName: c.ContactName, Email: c.Email, Address: c.Address, TaxID: c.TaxID}
}

// invoicePDF maps an invoice document, in the client's language;
// checkoutURL is "" without Stripe.
func invoicePDF(b domain.Business, doc *domain.InvoiceDocument, checkoutURL string) pdf.Invoice {
	inv := doc.Invoice
	l := i18n.For(doc.Client.Language)
	out := pdf.Invoice{
		Locale: l, Business: pdfBusiness(b), Client: pdfParty(doc.Client), AccountManager: doc.Client.AccountManager,
		Memo:   inv.Memo,
		Number: inv.Number, Status: inv.Status, Currency: inv.Currency, IssueDate: inv.IssueDate, DueDate: inv.DueDate,
		Subtotal: inv.Subtotal, Tax: inv.Tax, Total: inv.Total, ChargesTotal: inv.ChargesTotal, AmountPaid: inv.AmountPaid,
		CreditApplied: inv.CreditApplied, BalanceDue: inv.BalanceDue, Credited: inv.Credited,
		SupplyFrom: inv.SupplyDate, SupplyTo: inv.SupplyEndDate, ReverseCharge: inv.ReverseCharge,
		Terms:         l.Terms(doc.Agreement, inv.Currency, doc.Client.Kind, inv.DueDate),
		AgreementFrom: doc.Agreement.EffectiveFrom,
		DefaultTerms:  doc.Agreement.IsDefault(),
		CheckoutURL:   checkoutURL,
	}
	if loc, err := domain.LoadZone(inv.Timezone); err == nil {
		// The date of the last change, not today: an unchanged invoice
		// renders to the same bytes (and the cache keeps serving it).
		out.GeneratedOn = domain.DateOf(inv.UpdatedAt, loc)
	}
	for _, l := range inv.Lines {
		tax := l.TaxRate
		if tax == "0" {
			tax = ""
		}
		out.Lines = append(out.Lines, pdf.InvoiceLine{Description: l.Description, Quantity: l.Quantity, UnitAmount: l.UnitAmount,
			TaxRate: tax, Amount: l.Amount, Tax: l.Tax})
	}
	for _, c := range doc.Charges {
		out.Charges = append(out.Charges, chargeLine(l, c, inv.Currency))
	}
	out.Payments = paymentLines(doc.Payments, doc.Refunds)
	return out
}

// chargeLine names a charge the way a client reads it, in l's language.
func chargeLine(l *i18n.Locale, c domain.Charge, currency string) pdf.ChargeLine {
	return pdf.ChargeLine{Kind: string(c.Kind), PostedOn: c.PostedOn, Amount: c.Amount, Waived: c.Waived,
		Description: l.ChargeDetail(c, currency)}
}

// paymentLines lists payments and, as negative lines, refunds, by date, so
// the lines add up to the amount paid. The document names the methods.
func paymentLines(payments []domain.Payment, refunds []domain.Refund) []pdf.PaymentLine {
	var out []pdf.PaymentLine
	for _, p := range payments {
		out = append(out, pdf.PaymentLine{PaidOn: p.PaidOn, Method: p.Method, Reference: p.Reference, Amount: p.Amount})
	}
	for _, r := range refunds {
		out = append(out, pdf.PaymentLine{PaidOn: r.RefundedOn, Method: "refund", Reference: r.Reason, Amount: -r.Amount})
	}
	// Refunds come after the payments they reverse; a stable sort by date keeps that.
	slices.SortStableFunc(out, func(a, b pdf.PaymentLine) int {
		switch {
		case a.PaidOn.Before(b.PaidOn):
			return -1
		case b.PaidOn.Before(a.PaidOn):
			return 1
		}
		return 0
	})
	return out
}

// statementPDF maps a statement. Each invoice's balance is its amount due
// on the statement date, so its charges include what is due and not yet
// posted, and the columns add up: total + charges - paid = balance.
func statementPDF(b domain.Business, st *domain.Statement) pdf.Statement {
	l := i18n.For(st.Client.Language)
	out := pdf.Statement{Locale: l, Business: pdfBusiness(b), Client: pdfParty(st.Client), Currency: st.Currency,
		AsOf: st.AsOf, TotalDue: st.TotalDue}
	for _, si := range st.Invoices {
		line := pdf.StatementInvoice{
			Number: si.Number, IssueDate: si.IssueDate, DueDate: si.DueDate, DaysOverdue: si.DaysOverdue,
			Total: si.Total, Paid: si.AmountPaid + si.CreditApplied + si.Credited,
			Charges: si.ChargesTotal + si.ChargesUnposted + si.InterestAccruedUnposted,
			Balance: si.AmountDue, LegalBasis: l.LegalBasis(si.Agreement, st.Client.Kind),
		}
		for _, c := range si.Charges {
			line.ChargeLines = append(line.ChargeLines, chargeLine(l, c, st.Currency))
		}
		if si.ChargesUnposted != 0 {
			line.ChargeLines = append(line.ChargeLines, pdf.ChargeLine{Kind: "fees_and_compensation",
				Description: l.T("pdf.unposted.fees", "date", l.Date(st.AsOf)), Amount: si.ChargesUnposted})
		}
		if si.InterestAccruedUnposted != 0 {
			line.ChargeLines = append(line.ChargeLines, pdf.ChargeLine{Kind: string(domain.ChargeInterest),
				Description: l.T("pdf.unposted.interest", "date", l.Date(st.AsOf)), Amount: si.InterestAccruedUnposted})
		}
		// The lines add up to the Paid column: payments, refunds, credit.
		if si.CreditApplied != 0 {
			line.Payments = append(line.Payments, pdf.PaymentLine{PaidOn: si.IssueDate, Method: "credit",
				Reference: l.T("pdf.ref.credit_applied"), Amount: si.CreditApplied})
		}
		for _, n := range si.CreditNotes {
			if n.AppliedToInvoice != 0 {
				line.Payments = append(line.Payments, pdf.PaymentLine{PaidOn: n.IssueDate, Method: "credit_note",
					Reference: l.T("pdf.ref.credit_note", "number", n.Number), Amount: n.AppliedToInvoice})
			}
		}
		for _, p := range si.Payments {
			line.Payments = append(line.Payments, pdf.PaymentLine{PaidOn: p.PaidOn, Method: p.Method, Reference: p.Reference,
				Amount: p.Amount})
			if p.Refunded != 0 {
				line.Payments = append(line.Payments, pdf.PaymentLine{Method: "refunded", Reference: p.Reference, Amount: -p.Refunded})
			}
		}
		for _, p := range si.InterestPeriods {
			period := pdf.InterestPeriod{From: p.From, To: p.To, Days: p.Days, Base: p.Base, Rate: p.Rate,
				Amount: p.Amount}
			if p.DailyRate != "" {
				period.Rate, period.Daily = p.DailyRate, true // the column is per year; the document says "a day"
			}
			line.Interest = append(line.Interest, period)
		}
		out.Invoices = append(out.Invoices, line)
	}
	return out
}

// noticeKinds maps the notice events to the kinds of letter.
var noticeKinds = map[string]string{
	domain.EventAgreementNotice:         pdf.NoticePolicyChange,
	domain.EventClientSuspensionWarning: pdf.NoticeSuspensionWarning,
	domain.EventClientSuspended:         pdf.NoticeSuspension,
}

// noticeData is what the notice events record that their letters use.
type noticeData struct {
	Agreement     *domain.Agreement `json:"agreement"`
	Previous      *domain.Agreement `json:"previous"`
	EffectiveFrom domain.Date       `json:"effective_from"`
	Terms         []string          `json:"terms"`
	SuspendOn     domain.Date       `json:"suspend_on"`
	// First marks the client's first agreement: its terms, not a change.
	First bool `json:"first"`
}

// noticePDF maps a notice event to its letter, in the client's language.
func noticePDF(b domain.Business, doc *domain.NoticeDocument) (pdf.Notice, error) {
	kind, ok := noticeKinds[doc.Event.Type]
	if !ok {
		return pdf.Notice{}, domain.Errorf(domain.ENOTFOUND, "event %s of type %s has no letter", doc.Event.ID, doc.Event.Type)
	}
	var data noticeData
	if len(doc.Event.Data) > 0 {
		if err := json.Unmarshal(doc.Event.Data, &data); err != nil {
			return pdf.Notice{}, fmt.Errorf("notice %s: read event data: %w", doc.Event.ID, err)
		}
	}
	l := i18n.For(doc.Client.Language)
	n := pdf.Notice{Locale: l, Kind: kind, Business: pdfBusiness(b), Client: pdfParty(doc.Client),
		Currency: doc.Client.Currency, Date: doc.Date}
	switch kind {
	case pdf.NoticePolicyChange:
		n.EffectiveOn = data.EffectiveFrom
		switch {
		case data.Agreement != nil && data.Previous != nil:
			n.Changes = l.TermChanges(*data.Previous, *data.Agreement, doc.Client.Currency, doc.Client.Kind)
		case data.Agreement != nil:
			n.Changes = l.Terms(*data.Agreement, doc.Client.Currency, doc.Client.Kind, domain.Date{})
		default:
			n.Changes = data.Terms
		}
		if data.First {
			// The first agreement is no change: the letter gives its terms.
			n.Subject = l.T("notice.agreement.first")
			intro := l.T("pdf.notice.first.body", "date", l.Date(data.EffectiveFrom))
			n.Paragraphs = append([]string{intro}, n.Changes...)
			n.Changes, n.EffectiveOn = nil, domain.Date{}
		}
	case pdf.NoticeSuspensionWarning:
		n.EffectiveOn = data.SuspendOn
	case pdf.NoticeSuspension:
		n.EffectiveOn = doc.Date
	}
	for _, si := range doc.Invoices {
		n.Invoices = append(n.Invoices, pdf.StatementInvoice{Number: si.Number, IssueDate: si.IssueDate, DueDate: si.DueDate,
			DaysOverdue: si.DaysOverdue, Total: si.Total, Paid: si.AmountPaid + si.CreditApplied + si.Credited, Charges: si.ChargesTotal,
			Balance: si.AmountDue})
	}
	return n, nil
}

// acceptancePDF is the letter confirming a version accepted by the client:
// the exact text accepted and the evidence, around it in the client's
// language. The text stays as accepted: it is the evidence.
func acceptancePDF(b domain.Business, cl *domain.Client, a domain.Agreement) pdf.Notice {
	acc := a.Acceptance
	l := i18n.For(cl.Language)
	loc := cl.Location()
	at := acc.AcceptedAt.In(loc)
	paras := []string{l.T("pdf.accepted.intro", "version", strconv.Itoa(a.Version))}
	paras = append(paras, strings.Split(acc.TermsText, "\n")...)
	paras = append(paras,
		l.T("pdf.accepted.evidence"),
		l.T("pdf.accepted.at", "time", l.Date(domain.DateOf(acc.AcceptedAt, loc))+", "+at.Format("15:04:05 MST"),
			"utc", acc.AcceptedAt.UTC().Format("2006-01-02T15:04:05Z")),
		l.T("pdf.accepted.name", "name", acc.Name),
		l.T("pdf.accepted.ip", "ip", acc.IPAddress),
		l.T("pdf.accepted.browser", "agent", acc.UserAgent),
		l.T("pdf.accepted.sha", "sha", acc.TermsSHA256))
	return pdf.Notice{Locale: l, Kind: pdf.NoticeTermsAccepted, Business: pdfBusiness(b), Client: pdfParty(*cl),
		Date: domain.DateOf(acc.AcceptedAt, loc), EffectiveOn: a.EffectiveFrom, Paragraphs: paras}
}
