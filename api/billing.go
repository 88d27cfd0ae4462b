package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

func (s *Server) handleBillingRun(c echo.Context) error {
	if err := bindOptional(c); err != nil {
		return err
	}
	if s.Sweep == nil {
		return domain.Errorf(domain.EUNAVAILABLE, "the billing sweep is not running in this process")
	}
	run, err := s.Sweep(c.Request().Context(), "api")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, run)
}

// quoteResponse is the payoff quote of GET /v1/invoices/{id}/accrual.
type quoteResponse struct {
	InvoiceID                 string      `json:"invoice_id"`
	Currency                  string      `json:"currency"`
	AsOf                      domain.Date `json:"as_of"`
	Principal                 int64       `json:"principal"`
	PrincipalOutstanding      int64       `json:"principal_outstanding"`
	CompensationOutstanding   int64       `json:"compensation_outstanding"`
	FeesOutstanding           int64       `json:"fees_outstanding"`
	InterestPostedOutstanding int64       `json:"interest_posted_outstanding"`
	InterestAccruedUnposted   int64       `json:"interest_accrued_unposted"`
	Payoff                    int64       `json:"payoff"`
	DaysOverdue               int         `json:"days_overdue"`
}

func (s *Server) handleAccrual(c echo.Context) error {
	inv, err := s.Invoices.FindInvoiceByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	loc, _ := domain.LoadZone(inv.Timezone)
	asOf := domain.DateOf(s.now(), loc)
	if v := c.QueryParam("as_of"); v != "" {
		if asOf, err = domain.ParseDate(v); err != nil {
			return fieldError("as_of", "must be a date YYYY-MM-DD")
		}
		if err := s.dates().Err("as_of", asOf); err != nil {
			return err
		}
	}
	q, err := s.Invoices.Quote(c.Request().Context(), inv.ID, asOf)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, quoteResponse{
		InvoiceID: inv.ID, Currency: inv.Currency, AsOf: q.AsOf, Principal: q.Principal, PrincipalOutstanding: q.PrincipalOutstanding,
		CompensationOutstanding: q.CompensationOutstanding, FeesOutstanding: q.FeesOutstanding,
		InterestPostedOutstanding: q.InterestPostedOutstanding, InterestAccruedUnposted: q.InterestAccruedUnposted,
		Payoff: q.Payoff, DaysOverdue: q.DaysOverdue,
	})
}
