package api

// The one place that turns domain values into the pdf package's input.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/pdf"
)

func pdfBusiness(b domain.Business) pdf.Business {
	return pdf.Business{Name: b.Name, Address: b.Address, Email: b.Email, TaxID: b.TaxID}
}

func pdfParty(c domain.Client) pdf.Party {
	return pdf.Party{Name: c.Name, ContactName: c.ContactName, Email: c.Email, Address: c.Address, TaxID: c.TaxID}
}

// invoicePDF maps an invoice document; checkoutURL is "" without Stripe.
func invoicePDF(b domain.Business, doc *domain.InvoiceDocument, checkoutURL string) pdf.Invoice {
	inv := doc.Invoice
	out := pdf.Invoice{
		Business: pdfBusiness(b), Client: pdfParty(doc.Client), AccountManager: doc.Client.AccountManager,
		Memo:   inv.Memo,
		Number: inv.Number, Status: inv.Status, Currency: inv.Currency, IssueDate: inv.IssueDate, DueDate: inv.DueDate,
		Subtotal: inv.Subtotal, Tax: inv.Tax, Total: inv.Total, ChargesTotal: inv.ChargesTotal, AmountPaid: inv.AmountPaid,
		CreditApplied: inv.CreditApplied, BalanceDue: inv.BalanceDue, Credited: inv.Credited,
		SupplyFrom: inv.SupplyDate, SupplyTo: inv.SupplyEndDate, ReverseCharge: inv.ReverseCharge,
		Terms:         domain.DescribeTermsFor(doc.Agreement, inv.Currency, doc.Client.Kind, inv.DueDate),
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
		out.Charges = append(out.Charges, chargeLine(c, inv.Currency))
	}
	out.Payments = paymentLines(doc.Payments, doc.Refunds)
	return out
}

// chargeLine names a charge the way a client reads it: which late fee and
// how it was worked out, which month of interest at what rate, under which
// law the compensation is due.
func chargeLine(c domain.Charge, currency string) pdf.ChargeLine {
	l := pdf.ChargeLine{Kind: string(c.Kind), PostedOn: c.PostedOn, Amount: c.Amount, Waived: c.Waived}
	if domain.AdjustedKey(c.Key) != c.Key {
		// A correction after a late-recorded fact says what it corrects, in
		// the words it was posted with (up to the charge it restates).
		l.Description, _, _ = strings.Cut(c.Description, ": ")
		return l
	}
	switch c.Kind {
	case domain.ChargeLateFee:
		seq := strings.TrimPrefix(c.Key, "late_fee:")
		l.Description = "no. " + seq
		if _, how, ok := strings.Cut(c.Description, ": "); ok {
			l.Description += ", " + how
		}
	case domain.ChargeInterest:
		l.Description = interestText(c, currency)
	case domain.ChargeCompensation:
		rest := strings.TrimSpace(strings.TrimPrefix(c.Description, "Fixed compensation for recovery costs"))
		if law, ok := strings.CutPrefix(rest, "("); ok {
			l.Description = "under " + strings.TrimSuffix(law, ")")
		}
	default:
		l.Description = c.Description
	}
	return l
}

// interestText says which days a month's interest covers and, when one
// base and rate cover them all, on what and at what rate.
func interestText(c domain.Charge, currency string) string {
	from, to := c.PeriodFrom, c.PeriodTo
	var text string
	switch {
	case from.IsZero() || to.IsZero():
		return c.Description
	case from.Day() == 1 && to == from.LastOfMonth():
		text = fmt.Sprintf("%s %d, %s", from.Month(), from.Year(), days(c.Days))
	default:
		text = fmt.Sprintf("%s to %s, %s", from.LongString(), to.LongString(), days(c.Days))
	}
	if len(c.Breakdown) == 1 {
		s := c.Breakdown[0]
		if s.DailyRate != "" {
			text += fmt.Sprintf(" at %s %% a day on %s", s.DailyRate, domain.FormatMoney(s.Base, currency))
		} else {
			text += fmt.Sprintf(" at %s %% a year (%s) on %s", s.AnnualRate, s.DayCount, domain.FormatMoney(s.Base, currency))
		}
	} else if len(c.Breakdown) > 1 {
		text += fmt.Sprintf(", %d periods of base and rate", len(c.Breakdown))
	}
	return text
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// paymentLines lists payments and, as negative lines, refunds, by date, so
// the lines add up to the amount paid.
func paymentLines(payments []domain.Payment, refunds []domain.Refund) []pdf.PaymentLine {
	var out []pdf.PaymentLine
	for _, p := range payments {
		out = append(out, pdf.PaymentLine{PaidOn: p.PaidOn, Method: strings.ReplaceAll(p.Method, "_", " "), Reference: p.Reference, Amount: p.Amount})
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
	out := pdf.Statement{Business: pdfBusiness(b), Client: pdfParty(st.Client), Currency: st.Currency, AsOf: st.AsOf, TotalDue: st.TotalDue}
	for _, si := range st.Invoices {
		line := pdf.StatementInvoice{
			Number: si.Number, IssueDate: si.IssueDate, DueDate: si.DueDate, DaysOverdue: si.DaysOverdue,
			Total: si.Total, Paid: si.AmountPaid + si.CreditApplied + si.Credited,
			Charges: si.ChargesTotal + si.ChargesUnposted + si.InterestAccruedUnposted,
			Balance: si.AmountDue, LegalBasis: si.LegalBasis,
		}
		for _, c := range si.Charges {
			line.ChargeLines = append(line.ChargeLines, chargeLine(c, st.Currency))
		}
		if si.ChargesUnposted != 0 {
			line.ChargeLines = append(line.ChargeLines, pdf.ChargeLine{Kind: "Fees_and_compensation",
				Description: "due by " + st.AsOf.LongString() + ", not yet posted", Amount: si.ChargesUnposted})
		}
		if si.InterestAccruedUnposted != 0 {
			line.ChargeLines = append(line.ChargeLines, pdf.ChargeLine{Kind: string(domain.ChargeInterest),
				Description: "accrued to " + st.AsOf.LongString() + ", not yet posted", Amount: si.InterestAccruedUnposted})
		}
		// The lines add up to the Paid column: payments, refunds, credit.
		if si.CreditApplied != 0 {
			line.Payments = append(line.Payments, pdf.PaymentLine{PaidOn: si.IssueDate, Method: "credit", Reference: "client credit applied", Amount: si.CreditApplied})
		}
		for _, n := range si.CreditNotes {
			if n.AppliedToInvoice != 0 {
				line.Payments = append(line.Payments, pdf.PaymentLine{PaidOn: n.IssueDate, Method: "credit note",
					Reference: n.Number + ", taken off the principal", Amount: n.AppliedToInvoice})
			}
		}
		for _, p := range si.Payments {
			line.Payments = append(line.Payments, pdf.PaymentLine{PaidOn: p.PaidOn, Method: strings.ReplaceAll(p.Method, "_", " "), Reference: p.Reference, Amount: p.Amount})
			if p.Refunded != 0 {
				line.Payments = append(line.Payments, pdf.PaymentLine{Method: "refunded", Reference: p.Reference, Amount: -p.Refunded})
			}
		}
		for _, p := range si.InterestPeriods {
			rate := p.Rate
			if p.DailyRate != "" {
				rate = p.DailyRate + "/day" // the column is per year; say so

			}
			line.Interest = append(line.Interest, pdf.InterestPeriod{From: p.From, To: p.To, Days: p.Days, Base: p.Base, Rate: rate, Amount: p.Amount})
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
}

// noticePDF maps a notice event to its letter.
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
	n := pdf.Notice{Kind: kind, Business: pdfBusiness(b), Client: pdfParty(doc.Client), Currency: doc.Client.Currency, Date: doc.Date}
	switch kind {
	case pdf.NoticePolicyChange:
		n.EffectiveOn = data.EffectiveFrom
		switch {
		case data.Agreement != nil && data.Previous != nil:
			n.Changes = domain.TermChanges(*data.Previous, *data.Agreement, doc.Client.Currency)
		case data.Agreement != nil:
			n.Changes = domain.DescribeTerms(*data.Agreement, doc.Client.Currency, domain.Date{})
		default:
			n.Changes = data.Terms
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
