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
	if err := e.Validate(); err != nil {
		return err
	}
	if err := s.checkWebhookURL(c, e.URL); err != nil {
		return err
	}
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
	f, err := deliveryFilter(c)
	if err != nil {
		return err
	}
	out, err := s.Webhooks.FindWebhookDeliveries(c.Request().Context(), c.Param("id"), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// handleEmailDeliveryList serves GET /v1/clients/{id}/email_deliveries.
func (s *Server) handleEmailDeliveryList(c echo.Context) error {
	f, err := deliveryFilter(c)
	if err != nil {
		return err
	}
	out, err := s.Webhooks.FindEmailDeliveries(c.Request().Context(), c.Param("id"), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// checkWebhookURL refuses a URL that reaches inside the network (see
// Deps.CheckWebhookURL).
func (s *Server) checkWebhookURL(c echo.Context, url string) error {
	if s.CheckWebhookURL == nil {
		return nil
	}
	return s.CheckWebhookURL(c.Request().Context(), url)
}

// webhookEndpointUpdateRequest is the body of PATCH /v1/webhook_endpoints/{id}.
type webhookEndpointUpdateRequest struct {
	URL           *string   `json:"url"`
	Description   *string   `json:"description"`
	EnabledEvents *[]string `json:"enabled_events"`
	Enabled       *bool     `json:"enabled"`
}

func (s *Server) handleWebhookEndpointUpdate(c echo.Context) error {
	var req webhookEndpointUpdateRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.URL != nil {
		probe := domain.WebhookEndpoint{URL: *req.URL, EnabledEvents: []string{domain.EventAll}}
		if err := probe.Validate(); err != nil {
			return err
		}
		if err := s.checkWebhookURL(c, *req.URL); err != nil {
			return err
		}
	}
	e, err := s.Webhooks.UpdateWebhookEndpoint(c.Request().Context(), c.Param("id"), domain.WebhookEndpointUpdate{
		URL: req.URL, Description: req.Description, EnabledEvents: req.EnabledEvents, Enabled: req.Enabled,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func (s *Server) handleWebhookEndpointDelete(c echo.Context) error {
	e, err := s.Webhooks.DeleteWebhookEndpoint(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func (s *Server) handleWebhookSecretRoll(c echo.Context) error {
	e, err := s.Webhooks.RollWebhookSecret(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	redacted := *e
	redacted.Secret, redacted.SecretRedacted = "", true
	return respondWithSecret(c, http.StatusOK, e, redacted)
}

// deliveryFilter reads a delivery list's page and status parameters.
func deliveryFilter(c echo.Context) (domain.DeliveryFilter, error) {
	p, err := pageParams(c)
	if err != nil {
		return domain.DeliveryFilter{}, err
	}
	f := domain.DeliveryFilter{Status: c.QueryParam("status"), Page: p}
	if f.Status != "" && !domain.ValidDeliveryStatus(f.Status) {
		return f, fieldError("status", "must be pending, succeeded or failed")
	}
	return f, nil
}
