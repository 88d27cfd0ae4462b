package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// agreementRequest is the body of POST /v1/clients/{id}/agreements: the
// terms of a new version (ids, version and timestamps are assigned).
type agreementRequest struct {
	EffectiveFrom     domain.Date            `json:"effective_from"`
	PaymentTerms      string                 `json:"payment_terms"`
	GraceDays         int                    `json:"grace_days"`
	LateFee           *domain.LateFee        `json:"late_fee"`
	Interest          *domain.InterestTerms  `json:"interest"`
	FixedCompensation int64                  `json:"fixed_compensation"`
	ReminderOffsets   []int                  `json:"reminder_offsets"`
	Suspension        *domain.Suspension     `json:"suspension"`
	Allocation        string                 `json:"allocation"`
	Milestones        *domain.MilestoneRules `json:"milestones"`
	// RequireAcceptance and EnforceOnlyIfAccepted: see domain.Agreement.
	RequireAcceptance     bool `json:"require_acceptance"`
	EnforceOnlyIfAccepted bool `json:"enforce_only_if_accepted"`
}

func (s *Server) handleAgreementCreate(c echo.Context) error {
	var req agreementRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if err := s.dates().Err("effective_from", req.EffectiveFrom); err != nil {
		return err
	}
	a := domain.Agreement{
		EffectiveFrom: req.EffectiveFrom, PaymentTerms: req.PaymentTerms, GraceDays: req.GraceDays, LateFee: req.LateFee,
		Interest: req.Interest, FixedCompensation: req.FixedCompensation, ReminderOffsets: req.ReminderOffsets,
		Suspension: req.Suspension, Allocation: req.Allocation, Milestones: req.Milestones,
		RequireAcceptance: req.RequireAcceptance, EnforceOnlyIfAccepted: req.EnforceOnlyIfAccepted,
	}
	out, err := s.Agreements.CreateAgreement(c.Request().Context(), c.Param("id"), a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) handleAgreementList(c echo.Context) error {
	out, err := s.Agreements.FindAgreements(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, domain.Page[domain.Agreement]{Data: out})
}
