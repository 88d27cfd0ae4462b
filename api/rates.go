package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// ratePointInput is one row of PUT /v1/reference_rates/{series}.
type ratePointInput struct {
	EffectiveFrom domain.Date `json:"effective_from"`
	Rate          string      `json:"rate"`
}

// ratesPutRequest is the body of PUT /v1/reference_rates/{series}: the
// whole series, replacing what is stored.
type ratesPutRequest struct {
	Rates []ratePointInput `json:"rates"`
}

// ratesResponse is a reference series and its rows, oldest first.
type ratesResponse struct {
	Series string             `json:"series"`
	Rates  []domain.RatePoint `json:"rates"`
}

func (s *Server) handleRatesPut(c echo.Context) error {
	series := c.Param("series")
	if err := domain.CheckSeries(series); err != nil {
		return err
	}
	var req ratesPutRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	points := make([]domain.RatePoint, len(req.Rates))
	for i, r := range req.Rates {
		points[i] = domain.RatePoint{EffectiveFrom: r.EffectiveFrom, Rate: r.Rate}
	}
	stored, err := s.Rates.PutRates(c.Request().Context(), series, points)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ratesResponse{Series: series, Rates: stored})
}

func (s *Server) handleRatesGet(c echo.Context) error {
	series := c.Param("series")
	points, err := s.Rates.FindRates(c.Request().Context(), series)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ratesResponse{Series: series, Rates: points})
}
