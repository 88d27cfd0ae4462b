package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// smtpSink is a real SMTP server (go-smtp) that keeps every message.
type smtpSink struct {
	mu       sync.Mutex
	messages [][]byte
}

type sinkSession struct{ sink *smtpSink }

func (s sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s sinkSession) Reset()                               {}
func (s sinkSession) Logout() error                        { return nil }
func (s sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.sink.mu.Lock()
	s.sink.messages = append(s.sink.messages, b)
	s.sink.mu.Unlock()
	return nil
}

func startSMTPSink(t *testing.T) (*smtpSink, string) {
	t.Helper()
	sink := &smtpSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return sinkSession{sink}, nil }))
	srv.Domain, srv.ReadTimeout, srv.WriteTimeout = "sink.test", 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sink, ln.Addr().String()
}

// pdfAttachments returns the subject of a message and its PDF attachments.
func pdfAttachments(t *testing.T, raw []byte) (string, map[string][]byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	out := map[string][]byte{}
	var walk func(h map[string][]string, body io.Reader)
	walk = func(h map[string][]string, body io.Reader) {
		ct := ""
		if v := h["Content-Type"]; len(v) > 0 {
			ct = v[0]
		}
		mt, params, _ := mime.ParseMediaType(ct)
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextPart() // decodes quoted-printable; base64 below
				if err != nil {
					return
				}
				walk(p.Header, p)
			}
		}
		if mt != "application/pdf" {
			return
		}
		b, _ := io.ReadAll(body)
		if enc := h["Content-Transfer-Encoding"]; len(enc) > 0 && strings.EqualFold(enc[0], "base64") {
			b, _ = io.ReadAll(base64Reader(b))
		}
		_, dp, _ := mime.ParseMediaType(strings.Join(h["Content-Disposition"], ""))
		out[dp["filename"]] = b
	}
	walk(msg.Header, msg.Body)
	return subject, out
}

// TestEmailNoticeCarriesThePDF: with SMTP_URL set, an issued invoice is
// e-mailed to the client with the invoice PDF attached, over real SMTP.
func TestEmailNoticeCarriesThePDF(t *testing.T) {
	sink, addr := startSMTPSink(t)
	s := MustRunMain(t, pinned("2026-03-02"), func(c *Config) {
		c.SMTPURL, c.SMTPFrom = "smtp://"+addr, "billing@studio.example"
	})
	cli := s.mustClient("Фирма ЕООД", "EUR", "Europe/Sofia")
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
		"lines": []map[string]any{{"description": "Design", "unit_amount": 120000}}}})
	if _, _, err := s.Notifier.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	msgs := append([][]byte(nil), sink.messages...)
	sink.mu.Unlock()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	subject, pdfs := pdfAttachments(t, msgs[0])
	number := inv["number"].(string)
	file, ok := pdfs[number+".pdf"]
	if !ok || !bytes.HasPrefix(file, []byte("%PDF")) || !strings.Contains(subject, number) {
		t.Fatalf("subject %q, attachments %v", subject, keys(pdfs))
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// base64Reader decodes a base64 MIME body (line breaks allowed).
func base64Reader(b []byte) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, bytes.NewReader(bytes.Join(bytes.Fields(b), nil)))
}
