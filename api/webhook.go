package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// webhookEndpointCreateRequest is the body of POST /v1/webhook_endpoints.
type webhookEndpointCreateRequest struct {
	URL           string   `json:"url"`
	Description   string   `json:"description"`
	EnabledEvents []string `json:"enabled_events"`
}

func (s *Server) handleWebhookEndpointCreate(c echo.Context) error {
	var req webhookEndpointCreateRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	e := &domain.WebhookEndpoint{URL: req.URL, Description: req.Description, EnabledEvents: req.EnabledEvents}
	if err := s.Webhooks.CreateWebhookEndpoint(c.Request().Context(), e); err != nil {
		return err
	}
	redacted := *e
	redacted.Secret, redacted.SecretRedacted = "", true
	return respondWithSecret(c, http.StatusCreated, e, redacted)
}

func (s *Server) handleWebhookEndpointList(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	out, err := s.Webhooks.FindWebhookEndpoints(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleWebhookDeliveryList(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	f := domain.DeliveryFilter{Status: c.QueryParam("status"), Page: p}
	if f.Status != "" && !domain.ValidDeliveryStatus(f.Status) {
		return fieldError("status", "must be pending, succeeded or failed")
	}
	out, err := s.Webhooks.FindWebhookDeliveries(c.Request().Context(), c.Param("id"), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
