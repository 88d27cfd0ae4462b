package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/pdf"
)

// uncached renders documents when Deps.PDF is not set (tests that build a
// bare server); the service always sets it.
var uncached = pdf.NewRenderer(0)

func (s *Server) renderer() *pdf.Renderer {
	if s.PDF != nil {
		return s.PDF
	}
	return uncached
}

func (s *Server) documents() (domain.DocumentService, error) {
	if s.Documents == nil {
		return nil, domain.Errorf(domain.EUNAVAILABLE, "documents are not available in this process")
	}
	return s.Documents, nil
}

// handleInvoicePDF serves GET /v1/invoices/{id}/pdf.
func (s *Server) handleInvoicePDF(c echo.Context) error {
	name, b, err := s.invoicePDF(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return servePDF(c, name, b)
}

// handleStatement serves GET /v1/clients/{id}/statement.
func (s *Server) handleStatement(c echo.Context) error {
	st, err := s.statement(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

// handleStatementPDF serves GET /v1/clients/{id}/statement.pdf.
func (s *Server) handleStatementPDF(c echo.Context) error {
	st, err := s.statement(c)
	if err != nil {
		return err
	}
	b, err := s.renderer().Statement(statementPDF(s.Business, st))
	if err != nil {
		return err
	}
	return servePDF(c, "statement-"+st.Client.ID+"-"+st.AsOf.String()+".pdf", b)
}

// statement reads the statement the request asks for (?as_of, ?currency).
func (s *Server) statement(c echo.Context) (*domain.Statement, error) {
	docs, err := s.documents()
	if err != nil {
		return nil, err
	}
	var asOf domain.Date
	if v := c.QueryParam("as_of"); v != "" {
		if asOf, err = domain.ParseDate(v); err != nil {
			return nil, fieldError("as_of", "must be a date YYYY-MM-DD")
		}
		if err := s.dates().Err("as_of", asOf); err != nil {
			return nil, err
		}
	}
	return docs.Statement(c.Request().Context(), c.Param("id"), c.QueryParam("currency"), asOf)
}

// handleNoticePDF serves GET /v1/clients/{id}/notices/{event_id}.pdf.
func (s *Server) handleNoticePDF(c echo.Context) error {
	// Echo names a parameter up to the next slash, so the name includes ".pdf".
	eventID, ok := strings.CutSuffix(c.Param(noticeParam), ".pdf")
	if !ok || eventID == "" {
		return domain.Errorf(domain.ENOTFOUND, "no such route: %s %s (notices are served as {event_id}.pdf)", c.Request().Method, c.Request().URL.Path)
	}
	name, b, err := s.noticePDF(c.Request().Context(), c.Param("id"), eventID)
	if err != nil {
		return err
	}
	return servePDF(c, name, b)
}

// noticeParam is the path parameter of the notice route.
const noticeParam = "event_id.pdf"

// invoicePDF renders an invoice and names its file after the number.
func (s *Server) invoicePDF(ctx context.Context, invoiceID string) (filename string, b []byte, err error) {
	docs, err := s.documents()
	if err != nil {
		return "", nil, err
	}
	doc, err := docs.InvoiceDocument(ctx, invoiceID)
	if err != nil {
		return "", nil, err
	}
	if err := s.withInvoiceLinks(ctx, &doc.Invoice); err != nil {
		return "", nil, err
	}
	var out pdf.Invoice
	if page := doc.Invoice.HostedInvoiceURL.URL; page != "" && payable(&doc.Invoice) {
		// The page quotes the day's payoff whenever it is opened; a
		// Checkout link printed today would charge today's figure later.
		out = invoicePDF(s.Business, doc, "")
		out.PayPageURL = page
	} else {
		out = invoicePDF(s.Business, doc, s.checkoutURL(ctx, &doc.Invoice))
	}
	if s.CreditNotes != nil && doc.Invoice.Number != "" {
		notes, err := s.CreditNotes.FindCreditNotes(ctx, domain.CreditNoteFilter{InvoiceID: invoiceID, Page: domain.PageParams{Limit: 100}})
		if err != nil {
			return "", nil, err
		}
		for i := len(notes.Data) - 1; i >= 0; i-- { // oldest first
			n := notes.Data[i]
			out.CreditNotes = append(out.CreditNotes, pdf.CreditNoteLine{Number: n.Number, IssueDate: n.IssueDate, Reason: n.Reason, Amount: n.Amount})
		}
	}
	b, err = s.renderer().Invoice(out)
	if err != nil {
		return "", nil, err
	}
	name := doc.Invoice.Number
	if name == "" {
		name = "draft-" + doc.Invoice.ID
	}
	return fileName(name) + ".pdf", b, nil
}

// checkoutURL asks the Stripe gateway, when there is one, for the link that
// pays the invoice's balance. Without the link the invoice still renders, so
// a Stripe outage costs the link, not the document.
func (s *Server) checkoutURL(ctx context.Context, inv *domain.Invoice) string {
	if s.CheckoutURL == nil || !payable(inv) {
		return ""
	}
	url, err := s.CheckoutURL(ctx, inv.ID)
	if err != nil {
		s.Logger.LogAttrs(ctx, slog.LevelWarn, "invoice PDF without checkout link",
			slog.String("invoice_id", inv.ID), slog.String("error", err.Error()))
		return ""
	}
	return url
}

// payable says whether an invoice can be paid now: open or uncollectible,
// with a balance.
func payable(inv *domain.Invoice) bool {
	return (inv.Status == domain.InvoiceStatusOpen || inv.Status == domain.InvoiceStatusUncollectible) && inv.BalanceDue > 0
}

// noticePDF renders the letter of a notice event of the client.
func (s *Server) noticePDF(ctx context.Context, clientID, eventID string) (filename string, b []byte, err error) {
	docs, err := s.documents()
	if err != nil {
		return "", nil, err
	}
	doc, err := docs.Notice(ctx, clientID, eventID)
	if err != nil {
		return "", nil, err
	}
	n, err := noticePDF(s.Business, doc)
	if err != nil {
		return "", nil, err
	}
	if b, err = s.renderer().Notice(n); err != nil {
		return "", nil, err
	}
	return fileName(strings.ReplaceAll(n.Kind, "_", "-")+"-"+doc.Date.String()) + ".pdf", b, nil
}

// Attachment returns the PDF that goes with an e-mail notice of eventType:
// the invoice PDF for invoice.* and charge.posted events (invoiceID), the
// notice letter for agreement.notice, client.suspension_warning and
// client.suspended events (clientID, eventID). ok is false, with no error,
// for event types that have no document. The outbox's e-mail sender calls
// it through OutboxAttachment.
func (s *Server) Attachment(ctx context.Context, eventType, clientID, invoiceID, eventID string) (filename string, b []byte, ok bool, err error) {
	switch {
	case domain.IsNoticeEvent(eventType):
		filename, b, err = s.noticePDF(ctx, clientID, eventID)
	case (strings.HasPrefix(eventType, "invoice.") || eventType == domain.EventChargePosted) && invoiceID != "":
		filename, b, err = s.invoicePDF(ctx, invoiceID)
	default:
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, err
	}
	return filename, b, true, nil
}

// OutboxAttachment is Attachment for an outbox message, in the shape of the
// e-mail sender's hook: when the document cannot be made it logs why and
// reports ok false, so the notice goes out without it.
func (s *Server) OutboxAttachment(ctx context.Context, m domain.OutboxMessage) (filename string, b []byte, ok bool) {
	filename, b, ok, err := s.Attachment(ctx, m.Type, m.ClientID, m.InvoiceID, m.EventID)
	if err != nil {
		s.Logger.LogAttrs(ctx, slog.LevelError, "e-mail notice without its PDF",
			slog.String("outbox_id", m.ID), slog.String("event_id", m.EventID), slog.String("type", m.Type),
			slog.String("error", err.Error()))
		return "", nil, false
	}
	return filename, b, ok
}

// servePDF writes a PDF inline under filename, with a strong ETag from its
// SHA-256; a request whose If-None-Match names it gets 304 and no body.
func servePDF(c echo.Context, filename string, b []byte) error {
	sum := sha256.Sum256(b)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, no-cache")
	if etagMatches(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	h.Set("Content-Disposition", `inline; filename="`+filename+`"`)
	return c.Blob(http.StatusOK, "application/pdf", b)
}

// etagMatches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match) or is "*".
func etagMatches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}

// fileName keeps letters, digits, dots, dashes and underscores, so the name
// is safe inside a quoted Content-Disposition filename.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
