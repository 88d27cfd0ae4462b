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

	mail "github.com/wneessen/go-mail"

	"github.com/remit/remit/domain"
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
	msg, err := n.mailer.compose(j, at)
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
func (m *mailer) compose(j domain.EmailJob, at time.Time) (*mail.Msg, error) {
	subject, body := noticeText(m.fromName, j.Message)
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
	msg.SetGenHeader(mail.Header(HeaderEventID), j.Message.EventID)
	msg.SetGenHeader(mail.Header(HeaderEventType), j.Message.Type)
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
// plain words, from the event JSON.
func noticeText(business string, m domain.OutboxMessage) (subject, body string) {
	var env struct {
		ID   string         `json:"id"`
		Data map[string]any `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(m.Payload))
	dec.UseNumber()
	_ = dec.Decode(&env) // an unreadable payload still gets a generic mail
	d := eventData(env.Data)
	invoice := "your invoice"
	if n := d.text("number"); n != "" {
		invoice = "invoice " + n
	}
	var lead string
	switch m.Type {
	case domain.EventInvoiceIssued:
		subject, lead = "New "+invoice, "Please find the details of "+invoice+" below."
	case domain.EventInvoiceReminder:
		subject, lead = "Payment reminder: "+invoice, "This is a friendly reminder about "+invoice+"."
	case domain.EventInvoiceOverdue:
		subject, lead = capitalize(invoice)+" is overdue", capitalize(invoice)+" is past its due date. Please arrange payment."
	case domain.EventInvoicePaid:
		subject, lead = capitalize(invoice)+" is paid", "Thank you: "+invoice+" is paid in full."
	case domain.EventChargePosted:
		subject, lead = "A charge was added to "+invoice, "Under the agreed payment terms, a charge was added to "+invoice+"."
	case domain.EventChargeAdjusted:
		subject, lead = "A charge on "+invoice+" was corrected", "A payment or refund dated earlier than when we recorded it changed what "+
			invoice+" owes under the agreed payment terms; the charge was corrected."
	case domain.EventClientSuspensionWarning:
		subject, lead = "Service will be suspended", "Service will be suspended unless the overdue invoices are paid."
	case domain.EventClientSuspended:
		subject, lead = "Service suspended", "Service is suspended because invoices are overdue. Paying them in full restores it."
	case domain.EventClientReinstated:
		subject, lead = "Service restored", "Thank you for your payment: service is restored."
	case domain.EventAgreementNotice:
		subject, lead = "Notice of new payment terms", "The payment terms below will apply."
	case domain.EventMilestonePaid:
		subject, lead = "Milestone paid", "Thank you: the milestone is paid."
	case domain.EventMilestoneUnlocked:
		subject, lead = "Next milestone unlocked", "Work on the next milestone can start."
	case domain.EventClientOffboarded:
		subject, lead = "Our work together has ended", "Our engagement has ended. The details are below."
	case domain.EventPaymentUnapplied:
		subject = "A Stripe payment could not be applied"
		lead = "Stripe collected a payment (" + d.text("payment_intent_id") + ") that Remit could not apply to an invoice (" +
			d.text("reason") + ", invoice " + d.text("invoice_id") + "). It is kept as unapplied payment " + d.text("id") +
			": apply it to an invoice of its currency (POST /v1/unapplied_payments/" + d.text("id") + "/apply) or refund it (.../refund)."
	case domain.EventInvoiceAutoChargeFailed:
		subject = "Automatic payment of " + invoice + " failed"
		lead = "We could not charge your saved card for " + invoice + " (" + d.text("reason") + "). Please pay it here: " +
			d.text("pay_url") + " . Late payment terms apply as agreed."
		if next := d.text("next_attempt_on"); next != "" {
			lead += " Otherwise we will try the card again on " + next + "."
		}
	default:
		subject, lead = "Notice: "+m.Type, "There is news about your account."
	}
	if business != "" {
		subject += " (" + business + ")"
	}
	var b strings.Builder
	b.WriteString("Hello,\n\n" + lead + "\n")
	if facts := d.facts(); len(facts) > 0 {
		b.WriteString("\n" + strings.Join(facts, "\n") + "\n")
	}
	if terms := d.list("terms"); len(terms) > 0 {
		b.WriteString("\nTerms:\n")
		for _, t := range terms {
			b.WriteString("  - " + t + "\n")
		}
	}
	b.WriteString("\nKind regards,\n" + business + "\n\n-- \nReference: " + env.ID + "\n")
	return subject, b.String()
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

// facts returns "Label: value" lines for the fields people care about;
// amounts only when the currency is known, so minor units are never shown raw.
func (d eventData) facts() []string {
	var out []string
	currency := d.text("currency")
	for _, f := range []struct{ key, label string }{
		{"number", "Invoice"}, {"description", "Charge"}, {"issue_date", "Issued"}, {"due_date", "Due"},
		{"total", "Total"}, {"amount", "Amount"}, {"charges_total", "Charges"}, {"amount_paid", "Paid"},
		{"balance_due", "Balance due"}, {"paid_on", "Paid on"}, {"effective_from", "Effective from"},
	} {
		v := d.text(f.key)
		if v == "" {
			continue
		}
		switch f.key {
		case "total", "amount", "charges_total", "amount_paid", "balance_due":
			minor, err := strconv.ParseInt(v, 10, 64)
			if err != nil || !domain.ValidCurrency(currency) {
				continue
			}
			v = domain.FormatMoney(minor, currency)
		case "issue_date", "due_date", "paid_on", "effective_from":
			if day, err := domain.ParseDate(v); err == nil {
				v = day.LongString()
			}
		}
		out = append(out, f.label+": "+v)
	}
	return out
}

// capitalize upper-cases the first letter of an ASCII phrase.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
