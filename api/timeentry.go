package api

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// timeEntryRequest is one entry: the body of POST /v1/time_entries and an
// item of a bulk import.
type timeEntryRequest struct {
	ClientID    string      `json:"client_id"`
	ProjectID   string      `json:"project_id"`
	Date        domain.Date `json:"date"`
	Minutes     int         `json:"minutes"`
	Description string      `json:"description"`
	Billable    *bool       `json:"billable"`
	ExternalID  string      `json:"external_id"`
}

func (r timeEntryRequest) input() domain.TimeEntryInput {
	return domain.TimeEntryInput{ClientID: r.ClientID, ProjectID: r.ProjectID, Date: r.Date, Minutes: r.Minutes,
		Description: r.Description, Billable: r.Billable, ExternalID: r.ExternalID}
}

// timeEntryBulkRequest is the body of POST /v1/time_entries/bulk.
type timeEntryBulkRequest struct {
	Entries []timeEntryRequest `json:"entries"`
}

// timeEntryBulkResponse lists every entry of a bulk import in the order
// sent, and how many were new.
type timeEntryBulkResponse struct {
	Data     []domain.TimeEntry `json:"data"`
	Created  int                `json:"created"`
	Existing int                `json:"existing"`
}

func (s *Server) handleTimeEntryCreate(c echo.Context) error {
	var req timeEntryRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := s.dates().Err("date", req.Date); err != nil {
		return err
	}
	out, err := s.TimeEntries.CreateTimeEntries(c.Request().Context(), apiKey(c).ID, []domain.TimeEntryInput{req.input()}, false)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if out.Created == 0 {
		status = http.StatusOK // the external_id was imported before: this is that entry
	}
	return c.JSON(status, out.Entries[0])
}

func (s *Server) handleTimeEntryBulk(c echo.Context) error {
	var req timeEntryBulkRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	in := make([]domain.TimeEntryInput, len(req.Entries))
	f, w := domain.FieldErrors{}, s.dates()
	for i, e := range req.Entries {
		in[i] = e.input()
		w.Check(f, fmt.Sprintf("entries[%d].date", i), e.Date)
	}
	if err := f.Err(); err != nil {
		return err
	}
	out, err := s.TimeEntries.CreateTimeEntries(c.Request().Context(), apiKey(c).ID, in, true)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if out.Created == 0 {
		status = http.StatusOK
	}
	return c.JSON(status, timeEntryBulkResponse{Data: out.Entries, Created: out.Created, Existing: len(out.Entries) - out.Created})
}

func (s *Server) handleTimeEntryList(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	f := domain.TimeEntryFilter{ClientID: c.QueryParam("client_id"), ProjectID: c.QueryParam("project_id"), Page: p}
	if f.From, f.To, err = s.dateRange(c); err != nil {
		return err
	}
	out, err := s.TimeEntries.FindTimeEntries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// dateRange reads ?from= and ?to= (YYYY-MM-DD, both optional, within the
// dates the API takes) and checks that from is not after to.
func (s *Server) dateRange(c echo.Context) (from, to domain.Date, err error) {
	for _, d := range []struct {
		name string
		dst  *domain.Date
	}{{"from", &from}, {"to", &to}} {
		if v := c.QueryParam(d.name); v != "" {
			day, err := domain.ParseDate(v)
			if err != nil {
				return from, to, fieldError(d.name, "must be a date YYYY-MM-DD")
			}
			if err := s.dates().Err(d.name, day); err != nil {
				return from, to, err
			}
			*d.dst = day
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return from, to, fieldError("to", "must not be before from")
	}
	return from, to, nil
}
