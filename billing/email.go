package billing

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	mail "github.com/wneessen/go-mail"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
)

// smtpTimeout bounds one e-mail attempt.
const smtpTimeout = 30 * time.Second

// SMTPConfig is how e-mail notices are sent.
type SMTPConfig struct {
	// URL is smtp://[user:pass@]host[:port] (port 587 by default; STARTTLS
	// when the server offers it, and credentials are sent only over TLS or
	// to a loopback server) or smtps://[user:pass@]host[:port] (TLS from
	// the first byte, port 465 by default).
	URL string
	// From is the sender address.
	From string
	// FromName is shown with the sender address and signs the mail (the business name).
	FromName string
	// TLSConfig replaces the default TLS settings (tests trust their own CA).
	TLSConfig *tls.Config
}

// mailer sends e-mail through one SMTP server.
type mailer struct {
	host     string
	opts     []mail.Option
	from     string
	fromName string
	idDomain string // the right side of Message-IDs
}

// newMailer checks the settings and returns a mailer.
func newMailer(c SMTPConfig) (*mailer, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("SMTP URL must be smtp://[user:pass@]host[:port] or smtps://...")
	}
	from, err := netmail.ParseAddress(c.From)
	if err != nil || from.Address != c.From {
		return nil, fmt.Errorf("e-mail sender %q must be a plain address such as billing@example.com", c.From)
	}
	port := 587
	opts := []mail.Option{mail.WithTimeout(smtpTimeout)}
	if u.Scheme == "smtps" {
		port = 465
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SMTP URL port %q is not a number", p)
		}
	}
	opts = append(opts, mail.WithPort(port))
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(u.User.Username()), mail.WithPassword(pass))
	}
	if c.TLSConfig != nil {
		tc := c.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = u.Hostname()
		}
		opts = append(opts, mail.WithTLSConfig(tc))
	}
	_, idDomain, _ := strings.Cut(c.From, "@")
	m := &mailer{host: u.Hostname(), opts: opts, from: c.From, fromName: c.FromName, idDomain: idDomain}
	// Catch bad options at start rather than at the first notice.
	if _, err := mail.NewClient(m.host, m.opts...); err != nil {
		return nil, fmt.Errorf("SMTP settings: %w", err)
	}
	return m, nil
}

// sendEmail makes one attempt at an e-mail delivery and returns its result.
// A permanent refusal (an SMTP 5xx reply) is not retried.
func (n *Notifier) sendEmail(ctx context.Context, j domain.EmailJob) domain.DeliveryAttempt {
	at := n.now()
	a := domain.DeliveryAttempt{At: at}
	var ec *domain.EmailContext
	if n.Context != nil {
		ec = n.Context(ctx, j.Message)
	}
	msg, err := n.mailer.compose(j, at, ec)
	if err == nil && n.Attach != nil {
		if name, pdf, ok := n.Attach(ctx, j.Message); ok {
			err = msg.AttachReader(name, bytes.NewReader(pdf), mail.WithFileContentType(mail.ContentType("application/pdf")))
		}
	}
	if err == nil {
		err = n.mailer.send(ctx, msg)
	}
	if err == nil {
		a.Delivered, a.StatusCode = true, 250
		n.logger.Info("e-mail delivered", "delivery_id", j.Delivery.ID, "event_id", j.Message.EventID,
			"type", j.Message.Type, "attempt", j.Delivery.Attempts+1)
		return a
	}
	a.Error = err.Error()
	var se *mail.SendError
	if errors.As(err, &se) {
		a.StatusCode = se.ErrorCode()
	}
	a = n.failed(j.Delivery.FirstAttemptAt, j.Delivery.Attempts, a, "e-mail", j.Delivery.ID)
	if a.StatusCode >= 500 && a.StatusCode <= 599 {
		// The server refused for good (no such mailbox, ...): retrying
		// would only be refused again.
		a.NextAttemptAt = time.Time{}
	}
	return a
}

// compose builds the plain-text mail of a notice.
func (m *mailer) compose(j domain.EmailJob, at time.Time, ec *domain.EmailContext) (*mail.Msg, error) {
	subject, body := noticeText(m.fromName, j.Message, ec)
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(m.fromName, m.from); err != nil {
		return nil, err
	}
	if err := msg.To(j.Delivery.Recipient); err != nil {
		return nil, err
	}
	msg.Subject(subject)
	msg.SetDateWithValue(at)
	// The same Message-ID on every attempt lets a receiver drop a duplicate
	// when an attempt was delivered but its reply was lost.
	msg.SetMessageIDWithValue(j.Delivery.ID + "@" + m.idDomain)
	msg.SetGenHeader(mail.Header(HeaderEventType), j.Message.Type)
	// Sent by a program: auto-responders stay quiet (RFC 3834).
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(mail.TypeTextPlain, body)
	return msg, nil
}

// send dials the server and sends msg.
func (m *mailer) send(ctx context.Context, msg *mail.Msg) error {
	c, err := mail.NewClient(m.host, m.opts...)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, smtpTimeout)
	defer cancel()
	return c.DialAndSendWithContext(ctx, msg)
}

// noticeText returns the subject and body of the e-mail for an event, in
// plain words of the client's language (i18n catalogues), from the event
// JSON and, for a client, what ec adds: the amount due today, the date to
// pay by, how to pay and the basis. It never shows Remit's internal ids.
func noticeText(business string, m domain.OutboxMessage, ec *domain.EmailContext) (subject, body string) {
	var env struct {
		Data map[string]any `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(m.Payload))
	dec.UseNumber()
	_ = dec.Decode(&env) // an unreadable payload still gets a generic mail
	d := eventData(env.Data)
	if ec == nil {
		ec = &domain.EmailContext{}
	}
	l := i18n.For(ec.Language)
	currency := d.text("currency")
	if currency == "" {
		currency = ec.Currency
	}
	money := func(key string) string {
		minor, err := strconv.ParseInt(d.text(key), 10, 64)
		if err != nil || !domain.ValidCurrency(currency) {
			return ""
		}
		return l.Money(minor, currency)
	}
	number := d.text("number")
	if number == "" {
		number = ec.InvoiceNumber
	}
	invoice := l.T("mail.your_invoice")
	if number != "" {
		invoice = l.T("mail.invoice", "number", number)
	}
	args := []string{"invoice", invoice, "Invoice", capitalize(invoice), "amount", money("amount")}
	key, payable := "", true // payable: the mail says what is due and how to pay
	switch m.Type {
	case domain.EventInvoiceIssued:
		key = "mail.issued"
	case domain.EventInvoiceReminder:
		key = "mail.reminder"
	case domain.EventInvoiceOverdue:
		key = "mail.overdue"
	case domain.EventInvoicePaid:
		key, payable = "mail.paid", false
	case domain.EventPaymentReceived:
		key = "mail.received"
	case domain.EventChargePosted:
		key = "mail.charge"
	case domain.EventChargeAdjusted:
		key = "mail.adjusted"
	case domain.EventClientSuspensionWarning:
		key = "mail.warning"
		if on, err := domain.ParseDate(d.text("suspend_on")); err == nil {
			args = append(args, "date", l.Date(on))
		}
	case domain.EventClientSuspended:
		key = "mail.suspended"
	case domain.EventClientReinstated:
		key, payable = "mail.reinstated", false
	case domain.EventAgreementNotice:
		key, payable = "mail.change", false
		if d["first"] == true {
			key = "mail.terms"
		}
	case domain.EventMilestonePaid:
		key, payable = "mail.milestone_paid", false
	case domain.EventMilestoneUnlocked:
		key, payable = "mail.unlocked", false
	case domain.EventClientOffboarded:
		key = "mail.offboarded"
	}
	var lead string
	switch {
	case m.Type == domain.EventPaymentUnapplied:
		// To the business, in English: it is an instruction for the admin.
		payable = false
		subject = "A Stripe payment could not be applied"
		lead = "Stripe collected a payment (" + d.text("payment_intent_id") + ") that Remit could not apply to an invoice (" +
			d.text("reason") + ", invoice " + d.text("invoice_id") + "). It is kept as unapplied payment " + d.text("id") +
			": apply it to an invoice of its currency (POST /v1/unapplied_payments/" + d.text("id") + "/apply) or refund it (.../refund)."
	case m.Type == domain.EventInvoiceAutoChargeFailed:
		reason := l.T("mail.auto_failed.reason.other")
		switch r := d.text("reason"); r {
		case "card_declined", "requires_action", "no_saved_card":
			reason = l.T("mail.auto_failed.reason." + r)
		}
		subject = l.T("mail.auto_failed.subject", args...)
		// The invoice's page quotes the day's payoff when it is opened; the
		// Checkout link made at the attempt charges that day's balance.
		u := ec.PayURL
		if u == "" {
			u = d.text("pay_url")
		}
		if u != "" {
			lead = l.T("mail.auto_failed.lead", append(args, "reason", reason, "url", u)...)
		} else {
			// The link was revoked: the ways to pay come below.
			lead = l.T("mail.auto_failed.lead_nolink", append(args, "reason", reason)...)
		}
		if next, err := domain.ParseDate(d.text("next_attempt_on")); err == nil {
			lead += " " + l.T("mail.auto_failed.retry", "date", l.Date(next))
		}
	case key == "":
		subject, lead, payable = "Notice: "+m.Type, l.T("mail.other.lead"), false
	default:
		subject, lead = l.T(key+".subject", args...), l.T(key+".lead", args...)
	}
	if business != "" {
		subject += " (" + business + ")"
	}
	var b strings.Builder
	if ec.Greeting != "" {
		b.WriteString(l.T("mail.dear", "name", ec.Greeting) + "\n\n" + lead + "\n")
	} else {
		b.WriteString(l.T("mail.hello") + "\n\n" + lead + "\n")
	}
	if facts := d.facts(l, currency, number, chargeWords(l, m.Type, d, ec)); len(facts) > 0 {
		b.WriteString("\n" + strings.Join(facts, "\n") + "\n")
	}
	if terms := d.terms(l, ec); len(terms) > 0 {
		b.WriteString("\n" + l.T("mail.terms") + "\n")
		for _, t := range terms {
			b.WriteString("  - " + t + "\n")
		}
	}
	if ec.AcceptURL != "" && m.Type == domain.EventAgreementNotice {
		b.WriteString("\n" + l.T("mail.accept") + "\n" + ec.AcceptURL + "\n")
	}
	if payable && ec.Owed && domain.ValidCurrency(ec.Currency) {
		b.WriteString("\n" + l.T("mail.due_today", "date", l.Date(ec.AsOf), "amount", l.Money(ec.AmountDueToday, ec.Currency)) + "\n")
		switch {
		case !ec.PayBy.IsZero():
			b.WriteString(l.T("mail.pay_by", "date", l.Date(ec.PayBy)) + "\n")
		case ec.Overdue:
			b.WriteString(l.T("mail.pay_now") + "\n")
		}
		b.WriteString(howToPay(l, ec, invoice))
	}
	if ec.Basis != "" && payable {
		b.WriteString("\n" + l.T("mail.basis", "basis", ec.Basis) + "\n")
	}
	b.WriteString("\n" + l.T("mail.regards") + "\n" + business + "\n")
	return subject, b.String()
}

// howToPay lists the ways to pay: the hosted page, and the bank details
// with the reference to quote; without either (no hosted pages, or the
// link revoked, and no bank details), it asks the client to get in touch.
func howToPay(l *i18n.Locale, ec *domain.EmailContext, invoice string) string {
	var ways []string
	if ec.PayURL != "" {
		ways = append(ways, l.T("mail.online", "url", ec.PayURL))
	}
	if bk := ec.Bank; bk.IBAN != "" || bk.AccountNumber != "" {
		var parts []string
		for _, p := range [][2]string{{"", bk.AccountHolder}, {"", bk.BankName}, {"IBAN ", bk.IBAN}, {"BIC ", bk.BIC},
			{"", bk.AccountNumber}, {"", bk.SortCode}} {
			if p[1] != "" {
				parts = append(parts, p[0]+p[1])
			}
		}
		if ec.Reference != "" {
			parts = append(parts, l.T("mail.reference", "reference", ec.Reference))
		}
		ways = append(ways, l.T("mail.bank", "details", strings.Join(parts, ", ")))
	}
	if len(ways) == 0 {
		return l.T("mail.contact", "invoice", invoice) + "\n"
	}
	return l.T("mail.how") + "\n  - " + strings.Join(ways, "\n  - ") + "\n"
}

// eventData reads the fields of an event's data for people.
type eventData map[string]any

// text returns a string or number field as text, or "".
func (d eventData) text(key string) string {
	switch v := d[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// list returns a field that is a list of strings.
func (d eventData) list(key string) []string {
	items, _ := d[key].([]any)
	var out []string
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// terms returns the sentences of the terms an agreement notice carries, in
// the client's language, worded from the agreement itself (the event's
// English "terms" are for webhook consumers); those English sentences
// only when the agreement cannot be read.
func (d eventData) terms(l *i18n.Locale, ec *domain.EmailContext) []string {
	if raw, ok := d["agreement"]; ok {
		var a domain.Agreement
		if b, err := json.Marshal(raw); err == nil && json.Unmarshal(b, &a) == nil && ec.Currency != "" {
			return l.Terms(a, ec.Currency, ec.Kind, domain.Date{})
		}
	}
	return d.list("terms")
}

// chargeWords says what the charge of a charge mail is, in the client's
// language: what the context worked out, else its kind's label. In
// English the words it was posted with say it as they always have.
func chargeWords(l *i18n.Locale, eventType string, d eventData, ec *domain.EmailContext) string {
	switch {
	case eventType != domain.EventChargePosted && eventType != domain.EventChargeAdjusted:
		return ""
	case l.Lang == i18n.Languages[0] && d.text("description") != "":
		return d.text("description")
	case ec.Charge != "":
		return ec.Charge
	case d.text("kind") != "":
		return l.T("charge." + d.text("kind"))
	}
	return ""
}

// facts returns "Label: value" lines for the fields people care about, in
// the client's language; amounts only when the currency is known, so minor
// units are never shown raw. A charge is told as charge says (its English
// description is for webhook consumers).
func (d eventData) facts(l *i18n.Locale, currency, number, charge string) []string {
	var out []string
	for _, key := range []string{"number", "description", "issue_date", "due_date", "total", "amount", "charges_total",
		"amount_paid", "balance_due", "paid_on", "effective_from"} {
		v := d.text(key)
		switch key {
		case "number":
			v = number
		case "description":
			if charge != "" {
				v = charge
			}
		}
		if v == "" {
			continue
		}
		switch key {
		case "total", "amount", "charges_total", "amount_paid", "balance_due":
			minor, err := strconv.ParseInt(v, 10, 64)
			if err != nil || !domain.ValidCurrency(currency) {
				continue
			}
			v = l.Money(minor, currency)
		case "issue_date", "due_date", "paid_on", "effective_from":
			if day, err := domain.ParseDate(v); err == nil {
				v = l.Date(day)
			}
		}
		out = append(out, l.T("mail.fact."+key)+": "+v)
	}
	return out
}

// capitalize upper-cases the first letter of an ASCII phrase.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
