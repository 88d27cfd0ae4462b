package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

func (s *Server) handleUnappliedList(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	f := domain.UnappliedFilter{Status: c.QueryParam("status"), Page: p}
	if f.Status != "" && !domain.ValidUnappliedStatus(f.Status) {
		return fieldError("status", "must be unapplied, applied, refunding or refunded")
	}
	out, err := s.UnappliedPayments.FindUnappliedPayments(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// unappliedApplyRequest is the body of POST /v1/unapplied_payments/{id}/apply.
type unappliedApplyRequest struct {
	InvoiceID string `json:"invoice_id"`
}

func (s *Server) handleUnappliedApply(c echo.Context) error {
	var req unappliedApplyRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	u, err := s.UnappliedPayments.ApplyUnappliedPayment(c.Request().Context(), c.Param("id"), req.InvoiceID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Server) handleUnappliedRefund(c echo.Context) error {
	u, err := s.UnappliedPayments.RefundUnappliedPayment(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}
