package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// apiKeyCreateRequest is the body of POST /v1/api_keys.
type apiKeyCreateRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

func (s *Server) handleAPIKeyCreate(c echo.Context) error {
	var req apiKeyCreateRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	k := &domain.APIKey{Name: req.Name, Scopes: req.Scopes}
	if err := s.APIKeys.CreateAPIKey(c.Request().Context(), k); err != nil {
		return err
	}
	redacted := *k
	redacted.Secret, redacted.SecretRedacted = "", true
	return respondWithSecret(c, http.StatusCreated, k, redacted)
}

func (s *Server) handleAPIKeyList(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	out, err := s.APIKeys.FindAPIKeys(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleAPIKeyRevoke(c echo.Context) error {
	k, err := s.APIKeys.RevokeAPIKey(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, k)
}
