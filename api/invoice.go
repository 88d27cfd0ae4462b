package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// invoiceCreateRequest is the body of POST /v1/invoices.
type invoiceCreateRequest struct {
	ClientID         string             `json:"client_id"`
	Currency         string             `json:"currency"`
	CurrencyOverride bool               `json:"currency_override"`
	Lines            []domain.LineInput `json:"lines"`
	IssueDate        domain.Date        `json:"issue_date"`
	DueDate          domain.Date        `json:"due_date"`
	Memo             string             `json:"memo"`
	Issue            bool               `json:"issue"`
	SupplyDate       domain.Date        `json:"supply_date"`
	SupplyEndDate    domain.Date        `json:"supply_end_date"`
	ReverseCharge    bool               `json:"reverse_charge"`
}

// invoiceUpdateRequest is the body of PATCH /v1/invoices/{id} (drafts only).
type invoiceUpdateRequest struct {
	Lines         *[]domain.LineInput `json:"lines"`
	Memo          *string             `json:"memo"`
	IssueDate     *domain.Date        `json:"issue_date"`
	DueDate       *domain.Date        `json:"due_date"`
	SupplyDate    *domain.Date        `json:"supply_date"`
	SupplyEndDate *domain.Date        `json:"supply_end_date"`
	ReverseCharge *bool               `json:"reverse_charge"`
}

func (s *Server) handleInvoiceCreate(c echo.Context) error {
	var req invoiceCreateRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	f, w := domain.FieldErrors{}, s.dates()
	w.Check(f, "issue_date", req.IssueDate)
	w.Check(f, "due_date", req.DueDate)
	w.Check(f, "supply_date", req.SupplyDate)
	w.Check(f, "supply_end_date", req.SupplyEndDate)
	if err := f.Err(); err != nil {
		return err
	}
	if req.ReverseCharge && s.Business.TaxID != "" && req.ClientID != "" {
		// The reverse charge is for a cross-border supply: refuse one
		// between two VAT numbers of the same country.
		cl, err := s.Clients.FindClientByID(c.Request().Context(), req.ClientID)
		if err == nil && domain.SameVATCountry(s.Business.TaxID, cl.TaxID) {
			return fieldError("reverse_charge",
				"the client's tax_id %s is of the business's own country: the reverse charge applies across borders", cl.TaxID)
		}
	}
	inv, err := s.Invoices.CreateInvoice(c.Request().Context(), domain.InvoiceDraft{
		ClientID: req.ClientID, Currency: req.Currency, CurrencyOverride: req.CurrencyOverride, Lines: req.Lines,
		IssueDate: req.IssueDate, DueDate: req.DueDate, Memo: req.Memo, Issue: req.Issue,
		SupplyDate: req.SupplyDate, SupplyEndDate: req.SupplyEndDate, ReverseCharge: req.ReverseCharge,
	})
	if err != nil {
		return err
	}
	return s.invoiceJSON(c, http.StatusCreated, inv)
}

func (s *Server) handleInvoiceGet(c echo.Context) error {
	inv, err := s.Invoices.FindInvoiceByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.invoiceJSON(c, http.StatusOK, inv)
}

func (s *Server) handleInvoiceList(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	f := domain.InvoiceFilter{Status: c.QueryParam("status"), ClientID: c.QueryParam("client_id"), Page: p}
	switch f.Status {
	case "", domain.InvoiceStatusDraft, domain.InvoiceStatusOpen, domain.InvoiceStatusPaid, domain.InvoiceStatusVoid, domain.InvoiceStatusUncollectible:
	default:
		return fieldError("status", "must be draft, open, paid, void or uncollectible")
	}
	switch c.QueryParam("overdue") {
	case "", "false":
	case "true":
		f.Overdue = true
	default:
		return fieldError("overdue", "must be true or false")
	}
	err = s.queryDates(c, dateParam{"issued_from", &f.IssuedFrom}, dateParam{"issued_to", &f.IssuedTo},
		dateParam{"due_from", &f.DueFrom}, dateParam{"due_to", &f.DueTo})
	if err != nil {
		return err
	}
	out, err := s.Invoices.FindInvoices(c.Request().Context(), f)
	if err != nil {
		return err
	}
	invs := make([]*domain.Invoice, len(out.Data))
	for i := range out.Data {
		invs[i] = &out.Data[i]
	}
	if err := s.withInvoiceLinks(c.Request().Context(), invs...); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleInvoiceUpdate(c echo.Context) error {
	var req invoiceUpdateRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	f, w := domain.FieldErrors{}, s.dates()
	for name, d := range map[string]*domain.Date{"issue_date": req.IssueDate, "due_date": req.DueDate,
		"supply_date": req.SupplyDate, "supply_end_date": req.SupplyEndDate} {
		if d != nil {
			w.Check(f, name, *d)
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	inv, err := s.Invoices.UpdateInvoice(c.Request().Context(), c.Param("id"), domain.InvoiceUpdate{
		Lines: req.Lines, Memo: req.Memo, IssueDate: req.IssueDate, DueDate: req.DueDate,
		SupplyDate: req.SupplyDate, SupplyEndDate: req.SupplyEndDate, ReverseCharge: req.ReverseCharge,
	})
	if err != nil {
		return err
	}
	return s.invoiceJSON(c, http.StatusOK, inv)
}

// invoiceStep serves a lifecycle step (issue, void, mark_uncollectible).
func (s *Server) invoiceStep(step func(domain.InvoiceService, context.Context, string) (*domain.Invoice, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := bindOptional(c); err != nil {
			return err
		}
		inv, err := step(s.Invoices, c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		return s.invoiceJSON(c, http.StatusOK, inv)
	}
}

// bindOptional accepts an empty body or an empty JSON object.
func bindOptional(c echo.Context) error {
	var empty struct{}
	return bindIfAny(c, &empty)
}

// bindIfAny binds a JSON body into v when there is one; an empty body
// leaves v as it is.
func bindIfAny(c echo.Context, v any) error {
	b, err := readBody(c)
	if err != nil || len(b) == 0 {
		return err
	}
	return bind(c, v)
}

func (s *Server) handleInvoiceEvents(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	out, err := s.Invoices.FindEvents(c.Request().Context(), c.Param("id"), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// paymentRequest is the body of POST /v1/invoices/{id}/payments.
type paymentRequest struct {
	Amount    int64       `json:"amount"`
	PaidOn    domain.Date `json:"paid_on"`
	Method    string      `json:"method"`
	Reference string      `json:"reference"`
}

func (s *Server) handlePaymentCreate(c echo.Context) error {
	var req paymentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := s.dates().Err("paid_on", req.PaidOn); err != nil {
		return err
	}
	if req.Method == "" {
		req.Method = "bank_transfer"
	}
	// A zero paid_on is today in the invoice's time zone (the store knows it).
	p, err := s.Invoices.RecordPayment(c.Request().Context(), c.Param("id"), domain.PaymentInput{
		Amount: req.Amount, PaidOn: req.PaidOn, Method: req.Method, Reference: req.Reference,
		Source: domain.PaymentManual, Key: manualKey(c),
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

// manualKey makes the unique key of a manual payment or refund: the
// caller's Idempotency-Key when sent (so a retry can never post twice, even
// after the stored response expired), else a fresh random one.
func manualKey(c echo.Context) string {
	if k := c.Request().Header.Get("Idempotency-Key"); k != "" {
		return "manual:" + apiKey(c).ID + ":" + k
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "manual:" + hex.EncodeToString(b)
}

func (s *Server) handlePaymentList(c echo.Context) error {
	out, err := s.Invoices.FindPayments(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, domain.Page[domain.Payment]{Data: out})
}

// refundRequest is the body of POST /v1/payments/{id}/refunds.
type refundRequest struct {
	Amount     int64       `json:"amount"`
	Reason     string      `json:"reason"`
	RefundedOn domain.Date `json:"refunded_on"`
}

func (s *Server) handleRefundCreate(c echo.Context) error {
	var req refundRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := domain.CheckReason(req.Reason, false); err != nil {
		return err
	}
	if err := s.dates().Err("refunded_on", req.RefundedOn); err != nil {
		return err
	}
	r, err := s.Invoices.RefundPayment(c.Request().Context(), c.Param("id"), domain.RefundInput{
		Amount: req.Amount, Reason: req.Reason, RefundedOn: req.RefundedOn, Key: manualKey(c),
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

func (s *Server) handleChargeList(c echo.Context) error {
	out, err := s.Invoices.FindCharges(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, domain.Page[domain.Charge]{Data: out})
}

// waiveRequest is the body of POST /v1/invoices/{id}/charges/{charge_id}/waive.
type waiveRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) handleChargeWaive(c echo.Context) error {
	var req waiveRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := domain.CheckReason(req.Reason, true); err != nil {
		return err
	}
	ch, err := s.Invoices.WaiveCharge(c.Request().Context(), c.Param("id"), c.Param("charge_id"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ch)
}

// invoiceJSON answers with the invoice and its hosted page's link.
func (s *Server) invoiceJSON(c echo.Context, status int, inv *domain.Invoice) error {
	if err := s.withInvoiceLinks(c.Request().Context(), inv); err != nil {
		return err
	}
	return c.JSON(status, inv)
}

// dateParam is an optional date query parameter and where to put it.
type dateParam struct {
	name string
	dst  *domain.Date
}

// queryDates reads optional date query parameters, each within the window
// of dates the API takes.
func (s *Server) queryDates(c echo.Context, params ...dateParam) error {
	for _, p := range params {
		v := c.QueryParam(p.name)
		if v == "" {
			continue
		}
		day, err := domain.ParseDate(v)
		if err != nil {
			return fieldError(p.name, "must be a date YYYY-MM-DD")
		}
		if err := s.dates().Err(p.name, day); err != nil {
			return err
		}
		*p.dst = day
	}
	return nil
}
