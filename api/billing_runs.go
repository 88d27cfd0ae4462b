package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (s *Server) handleBillingRunList(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	out, err := s.BillingRuns.FindRuns(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
