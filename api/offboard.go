package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// offboardRequest is the body of POST /v1/clients/{id}/offboard.
type offboardRequest struct {
	Reason           string `json:"reason"`
	Note             string `json:"note"`
	DryRun           bool   `json:"dry_run"`
	InvoiceDelivered bool   `json:"invoice_delivered"`
}

func (s *Server) handleOffboard(c echo.Context) error {
	var req offboardRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	plan, err := s.Offboarding.Offboard(c.Request().Context(), c.Param("id"), domain.OffboardInput{
		Reason: req.Reason, Note: req.Note, DryRun: req.DryRun, InvoiceDelivered: req.InvoiceDelivered,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, plan)
}
