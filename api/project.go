package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// milestoneCreateRequest is one milestone of POST /v1/projects.
type milestoneCreateRequest struct {
	Name        string      `json:"name"`
	Amount      int64       `json:"amount"`
	PlannedDate domain.Date `json:"planned_date"`
	Deposit     bool        `json:"deposit"`
}

// projectCreateRequest is the body of POST /v1/projects.
type projectCreateRequest struct {
	ClientID   string                   `json:"client_id"`
	Name       string                   `json:"name"`
	Milestones []milestoneCreateRequest `json:"milestones"`
}

// milestoneChangeRequest is one entry of the milestone list of PATCH
// /v1/projects/{id}: an existing milestone by id (changed where fields are
// set, cancelled with "cancel": true) or, without id, a new one.
type milestoneChangeRequest struct {
	ID          string       `json:"id"`
	Name        *string      `json:"name"`
	Amount      *int64       `json:"amount"`
	PlannedDate *domain.Date `json:"planned_date"`
	Cancel      bool         `json:"cancel"`
}

// projectUpdateRequest is the body of PATCH /v1/projects/{id}: absent fields
// stay; milestones, when sent, is the whole list in its new order.
type projectUpdateRequest struct {
	Name       *string                   `json:"name"`
	Milestones *[]milestoneChangeRequest `json:"milestones"`
}

// clientDelayRequest is the body of POST /v1/milestones/{id}/client_delay.
type clientDelayRequest struct {
	Note string `json:"note"`
}

func (s *Server) handleProjectCreate(c echo.Context) error {
	var req projectCreateRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	in := domain.ProjectInput{ClientID: req.ClientID, Name: req.Name, Milestones: make([]domain.MilestoneInput, len(req.Milestones))}
	f, w := domain.FieldErrors{}, s.dates()
	for i, m := range req.Milestones {
		in.Milestones[i] = domain.MilestoneInput{Name: m.Name, Amount: m.Amount, PlannedDate: m.PlannedDate, Deposit: m.Deposit}
		w.CheckPlanned(f, fmt.Sprintf("milestones[%d].planned_date", i), m.PlannedDate)
	}
	if err := f.Err(); err != nil {
		return err
	}
	p, err := s.Projects.CreateProject(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) handleProjectGet(c echo.Context) error {
	p, err := s.Projects.FindProjectByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) handleProjectUpdate(c echo.Context) error {
	var req projectUpdateRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	u := domain.ProjectUpdate{Name: req.Name}
	if req.Milestones != nil {
		list := make([]domain.MilestoneChange, len(*req.Milestones))
		f, w := domain.FieldErrors{}, s.dates()
		for i, m := range *req.Milestones {
			list[i] = domain.MilestoneChange{ID: m.ID, Name: m.Name, Amount: m.Amount, PlannedDate: m.PlannedDate, Cancel: m.Cancel}
			if m.PlannedDate != nil {
				w.CheckPlanned(f, fmt.Sprintf("milestones[%d].planned_date", i), *m.PlannedDate)
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		u.Milestones = &list
	}
	p, err := s.Projects.UpdateProject(c.Request().Context(), c.Param("id"), u)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) handleProjectCancel(c echo.Context) error {
	if err := bindOptional(c); err != nil {
		return err
	}
	p, err := s.Projects.CancelProject(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// milestoneStep serves a milestone step that takes no body (start, deliver).
func (s *Server) milestoneStep(step func(domain.ProjectService, context.Context, string) (*domain.Milestone, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := bindOptional(c); err != nil {
			return err
		}
		m, err := step(s.Projects, c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, m)
	}
}

func (s *Server) handleMilestoneClientDelay(c echo.Context) error {
	var req clientDelayRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	m, err := s.Projects.RecordClientDelay(c.Request().Context(), c.Param("id"), req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}
