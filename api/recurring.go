package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// recurringCreateRequest is the body of POST /v1/recurring_invoices.
type recurringCreateRequest struct {
	ClientID        string             `json:"client_id"`
	Lines           []domain.LineInput `json:"lines"`
	Memo            string             `json:"memo"`
	AutoCharge      bool               `json:"auto_charge"`
	Interval        string             `json:"interval"`
	IntervalCount   *int               `json:"interval_count"`
	AnchorDay       int                `json:"anchor_day"`
	StartDate       domain.Date        `json:"start_date"`
	EndDate         domain.Date        `json:"end_date"`
	Count           int                `json:"count"`
	IssueDaysBefore int                `json:"issue_days_before"`
}

// recurringUpdateRequest is the body of PATCH /v1/recurring_invoices/{id}:
// absent fields stay; the schedule's shape (interval, anchor, start) does
// not change, so a template's issued periods keep their meaning.
type recurringUpdateRequest struct {
	Lines           *[]domain.LineInput `json:"lines"`
	Memo            *string             `json:"memo"`
	AutoCharge      *bool               `json:"auto_charge"`
	EndDate         *domain.Date        `json:"end_date"`
	Count           *int                `json:"count"`
	IssueDaysBefore *int                `json:"issue_days_before"`
}

func (s *Server) handleRecurringCreate(c echo.Context) error {
	var req recurringCreateRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	in := domain.RecurringInput{ClientID: req.ClientID, Lines: req.Lines, Memo: req.Memo, AutoCharge: req.AutoCharge,
		Schedule: domain.Schedule{
			Interval: req.Interval, IntervalCount: 1, AnchorDay: req.AnchorDay, StartDate: req.StartDate, EndDate: req.EndDate,
			Count: req.Count, IssueDaysBefore: req.IssueDaysBefore}}
	if req.IntervalCount != nil {
		in.Schedule.IntervalCount = *req.IntervalCount
	}
	f, w := domain.FieldErrors{}, s.dates()
	w.CheckPlanned(f, "start_date", req.StartDate)
	w.CheckPlanned(f, "end_date", req.EndDate)
	if err := f.Err(); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	r, err := s.Recurring.CreateRecurringInvoice(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

func (s *Server) handleRecurringGet(c echo.Context) error {
	r, err := s.Recurring.FindRecurringInvoiceByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (s *Server) handleRecurringList(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	f := domain.RecurringFilter{ClientID: c.QueryParam("client_id"), Status: c.QueryParam("status"), Page: p}
	switch f.Status {
	case "", domain.RecurringActive, domain.RecurringPaused, domain.RecurringCancelled, domain.RecurringEnded:
	default:
		return fieldError("status", "must be active, paused, cancelled or ended")
	}
	page, err := s.Recurring.FindRecurringInvoices(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (s *Server) handleRecurringUpdate(c echo.Context) error {
	var req recurringUpdateRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.EndDate != nil {
		f := domain.FieldErrors{}
		s.dates().CheckPlanned(f, "end_date", *req.EndDate)
		if err := f.Err(); err != nil {
			return err
		}
	}
	r, err := s.Recurring.UpdateRecurringInvoice(c.Request().Context(), c.Param("id"), domain.RecurringUpdate{
		Lines: req.Lines, Memo: req.Memo, AutoCharge: req.AutoCharge, EndDate: req.EndDate, Count: req.Count,
		IssueDaysBefore: req.IssueDaysBefore})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// recurringStep serves a step that takes no body (pause, resume, cancel).
func (s *Server) recurringStep(
	step func(domain.RecurringService, echo.Context, string) (*domain.RecurringInvoice, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := bindOptional(c); err != nil {
			return err
		}
		r, err := step(s.Recurring, c, c.Param("id"))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, r)
	}
}

func (s *Server) handleRecurringPeriods(c echo.Context) error {
	periods, err := s.Recurring.FindIssuedPeriods(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": periods})
}

func (s *Server) handleRecurringPreview(c echo.Context) error {
	count := 12
	if v := c.QueryParam("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > domain.MaxPreviewCount {
			return fieldError("count", "must be an integer from 1 to %d", domain.MaxPreviewCount)
		}
		count = n
	}
	periods, err := s.Recurring.PreviewRecurringInvoice(c.Request().Context(), c.Param("id"), count)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": periods})
}

func pauseRecurring(r domain.RecurringService, c echo.Context, id string) (*domain.RecurringInvoice, error) {
	return r.PauseRecurringInvoice(c.Request().Context(), id)
}

func resumeRecurring(r domain.RecurringService, c echo.Context, id string) (*domain.RecurringInvoice, error) {
	return r.ResumeRecurringInvoice(c.Request().Context(), id)
}

func cancelRecurring(r domain.RecurringService, c echo.Context, id string) (*domain.RecurringInvoice, error) {
	return r.CancelRecurringInvoice(c.Request().Context(), id)
}
