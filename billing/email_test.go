package billing_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/remit/remit/billing"
	"github.com/remit/remit/domain"
)

// mailbox is a real SMTP server (go-smtp) that offers STARTTLS with its own
// certificate, takes PLAIN logins of one user, refuses mail to
// gone@example.com for good, and keeps every message it accepts.
type mailbox struct {
	addr     string
	roots    *x509.CertPool
	mu       sync.Mutex
	messages []received
}

type received struct {
	from string
	to   []string
	data []byte
	tls  bool
}

func newMailbox(t *testing.T) *mailbox {
	t.Helper()
	cert, roots := selfSigned(t)
	mb := &mailbox{roots: roots}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		// After STARTTLS the client greets again and gets a new session.
		_, isTLS := c.TLSConnectionState()
		return &session{mb: mb, tls: isTLS}, nil
	}))
	srv.Domain = "mail.test"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return mb
}

func (mb *mailbox) received() []received {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]received(nil), mb.messages...)
}

// session is one SMTP connection to the mailbox.
type session struct {
	mb     *mailbox
	tls    bool
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "remit" || pass != "s3cret" {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if to == "gone@example.com" {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	defer s.mb.mu.Unlock()
	s.mb.messages = append(s.mb.messages, received{from: s.from, to: s.to, data: b, tls: s.tls})
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

// part is one MIME part of a received message, decoded.
type part struct {
	contentType string
	filename    string
	body        []byte
}

// parse reads a received message into its headers and decoded parts.
func parse(t *testing.T, raw []byte) (mail.Header, []part) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var parts []part
	var walk func(h map[string][]string, body io.Reader)
	walk = func(h map[string][]string, body io.Reader) {
		get := func(k string) string {
			if v := h[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		mt, params, err := mime.ParseMediaType(get("Content-Type"))
		if err != nil {
			t.Fatalf("content type %q: %v", get("Content-Type"), err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header, p)
			}
		}
		switch strings.ToLower(get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		_, dp, _ := mime.ParseMediaType(get("Content-Disposition"))
		parts = append(parts, part{contentType: mt, filename: dp["filename"], body: b})
	}
	walk(msg.Header, msg.Body)
	return msg.Header, parts
}

func TestEmailNoticesOverSMTP(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mb := newMailbox(t)
	client := &domain.Client{Name: "ООО Ромашка", Email: "ap@romashka.example", Timezone: "Europe/Moscow", Currency: "EUR",
		Relationship: domain.RelationshipStandard, Status: domain.ClientActive}
	if err := e.clients.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	gone := &domain.Client{Name: "Gone Ltd", Email: "gone@example.com", Timezone: "UTC", Currency: "EUR",
		Relationship: domain.RelationshipStandard, Status: domain.ClientActive}
	if err := e.clients.CreateClient(ctx, gone); err != nil {
		t.Fatal(err)
	}
	issued := e.enqueue(t, domain.EventInvoiceIssued, client.ID, "inv_1", map[string]any{
		"number": "INV-2026-0007", "issue_date": "2026-03-01", "due_date": "2026-03-31", "total": 123450, "currency": "EUR"})
	suspended := e.enqueue(t, domain.EventClientSuspended, client.ID, "", map[string]any{"reason": "overdue"})
	e.enqueue(t, domain.EventInvoiceIssued, gone.ID, "inv_2", map[string]any{"number": "INV-2026-0008"})

	n := e.notifier(t, &billing.SMTPConfig{
		URL: "smtp://remit:s3cret@" + mb.addr, From: "billing@acme.example", FromName: "Acme Studio",
		TLSConfig: &tls.Config{RootCAs: mb.roots},
	})
	n.Attach = func(_ context.Context, m domain.OutboxMessage) (string, []byte, bool) {
		if m.InvoiceID == "" {
			return "", nil, false
		}
		return m.InvoiceID + ".pdf", []byte("%PDF-1.4 invoice " + m.InvoiceID), true
	}
	if d, f, err := n.RunOnce(ctx); err != nil || d != 2 || f != 1 {
		t.Fatalf("run: delivered %d failed %d err %v", d, f, err)
	}

	got := mb.received()
	if len(got) != 2 {
		t.Fatalf("%d messages, want 2", len(got))
	}
	var invoiceMail, suspendMail received
	for _, m := range got {
		if bytes.Contains(m.data, []byte("Remit-Event-Type: invoice.issued")) {
			invoiceMail = m
		}
		if bytes.Contains(m.data, []byte("Remit-Event-Type: client.suspended")) {
			suspendMail = m
		}
		// Internal ids stay inside Remit.
		if bytes.Contains(m.data, []byte(issued.EventID)) || bytes.Contains(m.data, []byte(suspended.EventID)) {
			t.Errorf("a mail shows an event id:\n%s", m.data)
		}
	}
	if !invoiceMail.tls || invoiceMail.from != "billing@acme.example" || strings.Join(invoiceMail.to, ",") != "ap@romashka.example" {
		t.Fatalf("envelope %q -> %q", invoiceMail.from, invoiceMail.to)
	}
	h, parts := parse(t, invoiceMail.data)
	if h.Get("Subject") != "New invoice INV-2026-0007 (Acme Studio)" || h.Get("To") != "<ap@romashka.example>" ||
		h.Get("From") != `"Acme Studio" <billing@acme.example>` || h.Get("Auto-Submitted") != "auto-generated" ||
		h.Get("Remit-Event-Type") != "invoice.issued" || !strings.HasSuffix(h.Get("Message-Id"), "@acme.example>") {
		t.Fatalf("headers %v", h)
	}
	if len(parts) != 2 || parts[0].contentType != "text/plain" || parts[1].contentType != "application/pdf" ||
		parts[1].filename != "inv_1.pdf" || string(parts[1].body) != "%PDF-1.4 invoice inv_1" {
		t.Fatalf("parts %+v", parts)
	}
	wantBody := "Hello,\r\n\r\nPlease find the details of invoice INV-2026-0007 below.\r\n\r\n" +
		"Invoice: INV-2026-0007\r\nIssued: 1 March 2026\r\nDue: 31 March 2026\r\nTotal: €1,234.50\r\n\r\n" +
		"Kind regards,\r\nAcme Studio\r\n"
	if string(parts[0].body) != wantBody {
		t.Fatalf("body:\n%q\nwant\n%q", parts[0].body, wantBody)
	}
	h, parts = parse(t, suspendMail.data)
	if h.Get("Subject") != "Service suspended (Acme Studio)" || len(parts) != 1 ||
		!strings.Contains(string(parts[0].body), "Service is suspended because invoices are overdue.") {
		t.Fatalf("suspension mail %v %+v", h, parts)
	}

	// The mailbox refused gone@example.com for good (550): no retry.
	jobs, err := e.outbox.ClaimEmailJobs(ctx, 10, time.Minute)
	if err != nil || len(jobs) != 0 {
		t.Fatalf("left to send: %+v %v", jobs, err)
	}
	var status, lastErr string
	var code int
	if err := e.db.SQL().QueryRow("SELECT status, last_status_code, last_error FROM email_deliveries WHERE recipient = 'gone@example.com'").Scan(&status, &code, &lastErr); err != nil {
		t.Fatal(err)
	}
	if status != domain.DeliveryFailed || code != 550 || !strings.Contains(lastErr, "no such mailbox") {
		t.Fatalf("refused delivery: %s %d %s", status, code, lastErr)
	}
	// Running again sends nothing twice.
	if d, f, err := n.RunOnce(ctx); err != nil || d+f != 0 || len(mb.received()) != 2 {
		t.Fatalf("second run: %d %d %v, %d messages", d, f, err, len(mb.received()))
	}
}

func TestEmailWrongPasswordIsRetried(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mb := newMailbox(t)
	client := &domain.Client{Name: "Acme", Email: "ap@acme.example", Timezone: "UTC", Currency: "EUR",
		Relationship: domain.RelationshipStandard, Status: domain.ClientActive}
	if err := e.clients.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	e.enqueue(t, domain.EventClientReinstated, client.ID, "", nil)
	n := e.notifier(t, &billing.SMTPConfig{URL: "smtp://remit:wrong@" + mb.addr, From: "billing@acme.example",
		TLSConfig: &tls.Config{RootCAs: mb.roots}})
	if d, f, err := n.RunOnce(ctx); err != nil || d != 0 || f != 1 {
		t.Fatalf("run: %d %d %v", d, f, err)
	}
	var status string
	var attempts int
	var next time.Time
	if err := e.db.SQL().QueryRow("SELECT status, attempts, next_attempt_at FROM email_deliveries").Scan(&status, &attempts, &next); err != nil {
		t.Fatal(err)
	}
	if status != domain.DeliveryPending || attempts != 1 || !next.Equal(start.Add(30*time.Second)) || len(mb.received()) != 0 {
		t.Fatalf("after a failed login: %s %d %v", status, attempts, next)
	}
}

func TestSMTPSettings(t *testing.T) {
	for _, tc := range []struct {
		url, from string
		ok        bool
	}{
		{"smtp://mail.example.com", "billing@example.com", true},
		{"smtps://user:pass@mail.example.com:2465", "billing@example.com", true},
		{"http://mail.example.com", "billing@example.com", false},
		{"smtp://", "billing@example.com", false},
		{"smtp://mail.example.com:port", "billing@example.com", false},
		{"smtp://mail.example.com", "Billing <billing@example.com>", false},
		{"smtp://mail.example.com", "", false},
	} {
		_, err := billing.NewNotifier(nil, nil, time.Now, nil, &billing.SMTPConfig{URL: tc.url, From: tc.from})
		if (err == nil) != tc.ok {
			t.Errorf("%s from %q: %v", tc.url, tc.from, err)
		}
	}
}

// The mail about a failed automatic payment speaks the client's language,
// reason and next attempt included.
// autoChargeFailedMail sends the mail of a failed automatic payment whose
// attempt made Checkout link checkout, with e-mail context ec, and returns
// its subject and text body.
func autoChargeFailedMail(t *testing.T, checkout string, ec domain.EmailContext) (subject, body string) {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	mb := newMailbox(t)
	client := &domain.Client{Name: "ООО Ромашка", Email: "ap@romashka.example", Timezone: "Europe/Moscow", Currency: "EUR",
		Relationship: domain.RelationshipStandard, Status: domain.ClientActive}
	if err := e.clients.CreateClient(ctx, client); err != nil {
		t.Fatal(err)
	}
	e.enqueue(t, domain.EventInvoiceAutoChargeFailed, client.ID, "inv_1", map[string]any{"number": "INV-2026-0007", "attempt": 1,
		"amount": 123450, "currency": "EUR", "status": "failed", "reason": "card_declined", "pay_url": checkout,
		"next_attempt_on": "2026-04-03"})
	n := e.notifier(t, &billing.SMTPConfig{
		URL: "smtp://remit:s3cret@" + mb.addr, From: "billing@acme.example", FromName: "Acme Studio",
		TLSConfig: &tls.Config{RootCAs: mb.roots},
	})
	n.Context = func(context.Context, domain.OutboxMessage) *domain.EmailContext { return &ec }
	if d, f, err := n.RunOnce(ctx); err != nil || d != 1 || f != 0 {
		t.Fatalf("run: delivered %d failed %d err %v", d, f, err)
	}
	h, parts := parse(t, mb.received()[0].data)
	subject, _ = new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	return subject, string(parts[0].body)
}

func TestAutoChargeFailedMailInTheClientsLanguage(t *testing.T) {
	subject, body := autoChargeFailedMail(t, "https://pay.example/c/1",
		domain.EmailContext{Greeting: "Иван Петров", Language: "ru", Currency: "EUR"})
	want := "Здравствуйте, Иван Петров!\r\n\r\nНам не удалось списать оплату по документу «счёт INV-2026-0007» с вашей сохранённой карты " +
		"(карта отклонена). Пожалуйста, оплатите его здесь: https://pay.example/c/1 . Условия о просрочке оплаты действуют, как договорено. " +
		"Иначе мы повторим попытку списания с карты 3 апреля 2026 г.\r\n"
	if subject != "Не удалось автоматически оплатить счёт INV-2026-0007 (Acme Studio)" || !strings.HasPrefix(body, want) {
		t.Fatalf("subject %q body:\n%s\nwant it to start\n%s", subject, body, want)
	}
}

// TestAutoChargeFailedMailLinksToTheInvoicePage: with a hosted page, the
// mail sends the client there (the day's payoff), not to the Checkout
// link of the attempt's day.
func TestAutoChargeFailedMailLinksToTheInvoicePage(t *testing.T) {
	_, body := autoChargeFailedMail(t, "https://checkout.stripe.com/c/pay/cs_1",
		domain.EmailContext{Greeting: "Jana Novak", Language: "en", Currency: "EUR", PayURL: "https://pay.example/i/tok"})
	if !strings.Contains(body, "Please pay it here: https://pay.example/i/tok .") || strings.Contains(body, "checkout.stripe.com") {
		t.Fatalf("body:\n%s", body)
	}
}
