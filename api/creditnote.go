package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
	"github.com/remit/remit/pdf"
)

// creditNoteRequest is the body of POST /v1/invoices/{id}/credit_notes:
// lines or an amount, and a reason.
type creditNoteRequest struct {
	Lines     []domain.LineInput `json:"lines"`
	Amount    int64              `json:"amount"`
	Reason    string             `json:"reason"`
	IssueDate domain.Date        `json:"issue_date"`
}

func (s *Server) handleCreditNoteCreate(c echo.Context) error {
	var req creditNoteRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := s.dates().Err("issue_date", req.IssueDate); err != nil {
		return err
	}
	in := domain.CreditNoteInput{Lines: req.Lines, Amount: req.Amount, Reason: req.Reason, IssueDate: req.IssueDate}
	if _, _, _, _, err := in.Validate(); err != nil {
		return err
	}
	n, err := s.CreditNotes.IssueCreditNote(c.Request().Context(), c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, n)
}

func (s *Server) handleCreditNoteGet(c echo.Context) error {
	n, err := s.CreditNotes.FindCreditNoteByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, n)
}

func (s *Server) handleCreditNoteList(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	f := domain.CreditNoteFilter{ClientID: c.QueryParam("client_id"), InvoiceID: c.QueryParam("invoice_id"), Page: p}
	if err := s.queryDates(c, dateParam{"issued_from", &f.From}, dateParam{"issued_to", &f.To}); err != nil {
		return err
	}
	out, err := s.CreditNotes.FindCreditNotes(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// handleCreditNotePDF serves GET /v1/credit_notes/{id}/pdf: the document
// names the invoice it corrects.
func (s *Server) handleCreditNotePDF(c echo.Context) error {
	ctx := c.Request().Context()
	n, err := s.CreditNotes.FindCreditNoteByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	inv, err := s.Invoices.FindInvoiceByID(ctx, n.InvoiceID)
	if err != nil {
		return err
	}
	cl, err := s.Clients.FindClientByID(ctx, n.ClientID)
	if err != nil {
		return err
	}
	doc := pdf.CreditNote{Locale: i18n.For(cl.Language), Business: pdfBusiness(s.Business), Client: pdfParty(*cl),
		Number: n.Number, Currency: n.Currency, IssueDate: n.IssueDate, InvoiceNumber: n.InvoiceNumber,
		InvoiceIssueDate: inv.IssueDate, Reason: n.Reason,
		Subtotal: n.Subtotal, Tax: n.Tax, Amount: n.Amount, AppliedToInvoice: n.AppliedToInvoice, CreditCreated: n.CreditCreated}
	for _, l := range n.Lines {
		doc.Lines = append(doc.Lines, pdf.InvoiceLine{Description: l.Description, Quantity: l.Quantity, UnitAmount: l.UnitAmount,
			TaxRate: l.TaxRate, Amount: l.Amount, Tax: l.Tax})
	}
	b, err := s.renderer().CreditNote(doc)
	if err != nil {
		return err
	}
	return servePDF(c, "credit-note-"+n.Number+".pdf", b)
}
