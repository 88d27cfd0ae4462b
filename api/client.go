package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// communicationInput is the client's contact channel and promised response time.
type communicationInput struct {
	Channel           string `json:"channel"`
	ResponseTimeHours int    `json:"response_time_hours"`
}

// clientCreateRequest is the body of POST /v1/clients.
type clientCreateRequest struct {
	Name           string             `json:"name"`
	Email          string             `json:"email"`
	ContactName    string             `json:"contact_name"`
	AccountManager string             `json:"account_manager"`
	Address        string             `json:"address"`
	Timezone       string             `json:"timezone"`
	Currency       string             `json:"currency"`
	Communication  communicationInput `json:"communication"`
	TurnaroundDays int                `json:"turnaround_days"`
	Relationship   string             `json:"relationship"`
	Kind           string             `json:"kind"`
	TaxID          string             `json:"tax_id"`
	Language       string             `json:"language"`
	AutoCharge     bool               `json:"auto_charge"`
}

// clientUpdateRequest is the body of PATCH /v1/clients/{id}: absent fields stay.
type clientUpdateRequest struct {
	Name           *string `json:"name"`
	Email          *string `json:"email"`
	ContactName    *string `json:"contact_name"`
	AccountManager *string `json:"account_manager"`
	Address        *string `json:"address"`
	Timezone       *string `json:"timezone"`
	Currency       *string `json:"currency"`
	Communication  *struct {
		Channel           *string `json:"channel"`
		ResponseTimeHours *int    `json:"response_time_hours"`
	} `json:"communication"`
	TurnaroundDays *int    `json:"turnaround_days"`
	Relationship   *string `json:"relationship"`
	Kind           *string `json:"kind"`
	TaxID          *string `json:"tax_id"`
	Status         *string `json:"status"`
	Language       *string `json:"language"`
	AutoCharge     *bool   `json:"auto_charge"`
}

func (s *Server) handleClientCreate(c echo.Context) error {
	var req clientCreateRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	cl := &domain.Client{
		Name: req.Name, Email: req.Email, ContactName: req.ContactName, AccountManager: req.AccountManager,
		Address: req.Address, Timezone: req.Timezone, Currency: req.Currency,
		Communication:  domain.Communication{Channel: req.Communication.Channel, ResponseTimeHours: req.Communication.ResponseTimeHours},
		TurnaroundDays: req.TurnaroundDays, Relationship: req.Relationship, Status: domain.ClientActive,
		Kind: req.Kind, TaxID: req.TaxID, Language: req.Language, AutoCharge: req.AutoCharge,
	}
	if cl.Kind == "" {
		cl.Kind = domain.ClientBusiness
	}
	if cl.Language == "" {
		cl.Language = s.Business.Language
	}
	if cl.Timezone == "" {
		cl.Timezone = s.Business.Timezone
	}
	if cl.Relationship == "" {
		cl.Relationship = domain.RelationshipStandard
	}
	if cl.Communication.Channel == "" {
		cl.Communication.Channel = "email"
	}
	if err := s.Clients.CreateClient(c.Request().Context(), cl); err != nil {
		return err
	}
	return s.clientJSON(c, http.StatusCreated, cl)
}

func (s *Server) handleClientGet(c echo.Context) error {
	cl, err := s.Clients.FindClientByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.clientJSON(c, http.StatusOK, cl)
}

func (s *Server) handleClientList(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	f := domain.ClientFilter{Status: c.QueryParam("status"), Page: p}
	switch f.Status {
	case "", domain.ClientActive, domain.ClientSuspended, domain.ClientOffboarded:
	default:
		return fieldError("status", "must be active, suspended or offboarded")
	}
	switch c.QueryParam("acceptance") {
	case "":
	case "pending":
		f.AcceptancePending = true
	default:
		return fieldError("acceptance", "must be pending")
	}
	out, err := s.Clients.FindClients(c.Request().Context(), f)
	if err != nil {
		return err
	}
	cls := make([]*domain.Client, len(out.Data))
	for i := range out.Data {
		cls[i] = &out.Data[i]
	}
	if err := s.withClientLinks(c.Request().Context(), cls...); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleClientCredit(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	out, err := s.Clients.FindCredits(c.Request().Context(), c.Param("id"), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleClientUpdate(c echo.Context) error {
	var req clientUpdateRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	upd := domain.ClientUpdate{
		Name: req.Name, Email: req.Email, ContactName: req.ContactName, AccountManager: req.AccountManager,
		Address: req.Address, Timezone: req.Timezone, Currency: req.Currency,
		TurnaroundDays: req.TurnaroundDays, Relationship: req.Relationship, Status: req.Status,
		Kind: req.Kind, TaxID: req.TaxID, Language: req.Language, AutoCharge: req.AutoCharge,
	}
	if req.Communication != nil {
		upd.Channel, upd.ResponseHours = req.Communication.Channel, req.Communication.ResponseTimeHours
	}
	cl, err := s.Clients.UpdateClient(c.Request().Context(), c.Param("id"), upd)
	if err != nil {
		return err
	}
	return s.clientJSON(c, http.StatusOK, cl)
}

// clientJSON answers with the client and its account page's link.
func (s *Server) clientJSON(c echo.Context, status int, cl *domain.Client) error {
	if err := s.withClientLinks(c.Request().Context(), cl); err != nil {
		return err
	}
	return c.JSON(status, cl)
}
