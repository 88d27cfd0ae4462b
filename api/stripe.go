package api

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// MaxWebhookBody caps a Stripe webhook body; Stripe's events are a few KiB.
const MaxWebhookBody = 64 << 10

// ReconcileWindow is how far back a reconciliation looks by default: Stripe
// retries a webhook for three days.
const ReconcileWindow = 72 * time.Hour

// stripeNotConfigured answers every Stripe route when STRIPE_SECRET_KEY is unset.
var stripeNotConfigured = &domain.Error{Code: domain.ESTRIPENOTCONFIGURED, Kind: domain.EUNAVAILABLE,
	Message: "Stripe is not configured: set STRIPE_SECRET_KEY (and STRIPE_WEBHOOK_SECRET for webhooks)"}

// checkoutRequest is the optional body of POST /v1/invoices/{id}/checkout.
type checkoutRequest struct {
	SuccessURL string `json:"success_url"`
	CancelURL  string `json:"cancel_url"`
}

func (s *Server) handleCheckoutCreate(c echo.Context) error {
	if s.Payments == nil {
		return stripeNotConfigured
	}
	var req checkoutRequest
	if err := bindIfAny(c, &req); err != nil {
		return err
	}
	f := domain.FieldErrors{}
	checkReturnURL(f, "success_url", req.SuccessURL)
	checkReturnURL(f, "cancel_url", req.CancelURL)
	if err := f.Err(); err != nil {
		return err
	}
	sess, err := s.Payments.CreateCheckout(c.Request().Context(), c.Param("id"), domain.CheckoutInput{SuccessURL: req.SuccessURL, CancelURL: req.CancelURL})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sess)
}

// handleSetupSessionCreate serves POST /v1/clients/{id}/payment_methods/setup:
// a Stripe page where the client saves a card for automatic payments.
func (s *Server) handleSetupSessionCreate(c echo.Context) error {
	if s.Cards == nil {
		return stripeNotConfigured
	}
	var req checkoutRequest
	if err := bindIfAny(c, &req); err != nil {
		return err
	}
	f := domain.FieldErrors{}
	checkReturnURL(f, "success_url", req.SuccessURL)
	checkReturnURL(f, "cancel_url", req.CancelURL)
	if err := f.Err(); err != nil {
		return err
	}
	if _, err := s.Clients.FindClientByID(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	sess, err := s.Cards.CreateSetupSession(c.Request().Context(), c.Param("id"), domain.CheckoutInput{SuccessURL: req.SuccessURL, CancelURL: req.CancelURL})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sess)
}

// checkReturnURL records a problem with an optional http(s) URL in f.
func checkReturnURL(f domain.FieldErrors, field, v string) {
	if v == "" {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 2048 {
		f.Add(field, "must be an http(s) URL of at most 2048 characters")
	}
}

// handleStripeWebhook takes one Stripe event. It reads at most
// MaxWebhookBody bytes, has the gateway verify Stripe-Signature and apply the
// event once, and answers 200 for every event it has stored or chosen to
// ignore, so Stripe retries only what failed.
func (s *Server) handleStripeWebhook(c echo.Context) error {
	if s.Payments == nil {
		return stripeNotConfigured
	}
	req := c.Request()
	if req.ContentLength > MaxWebhookBody {
		return domain.Errorf(domain.ETOOLARGE, "a Stripe webhook body is at most %d bytes", MaxWebhookBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, MaxWebhookBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return domain.Errorf(domain.ETOOLARGE, "a Stripe webhook body is at most %d bytes", tooLarge.Limit)
		}
		return domain.Errorf(domain.EINVALID, "could not read request body")
	}
	res, err := s.Payments.HandleWebhook(req.Context(), body, req.Header.Get("Stripe-Signature"))
	if err != nil {
		return err
	}
	out := map[string]any{"received": true, "duplicate": res.Duplicate, "outcome": res.Outcome}
	if res.UnappliedPaymentID != "" {
		out["unapplied_payment_id"] = res.UnappliedPaymentID
	}
	return c.JSON(http.StatusOK, out)
}

// reconcileRequest is the optional body of POST /v1/stripe/reconcile.
type reconcileRequest struct {
	Since *time.Time `json:"since"`
}

func (s *Server) handleStripeReconcile(c echo.Context) error {
	if s.Payments == nil {
		return stripeNotConfigured
	}
	var req reconcileRequest
	if err := bindIfAny(c, &req); err != nil {
		return err
	}
	since := s.now().Add(-ReconcileWindow)
	if req.Since != nil {
		if err := s.dates().Err("since", domain.DateOf(*req.Since, time.UTC)); err != nil {
			return err
		}
		since = *req.Since
	}
	report, err := s.Payments.Reconcile(c.Request().Context(), since)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, report)
}
