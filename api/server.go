// Package api is Remit's REST API: the Echo server, its routes (one file per
// noun), request and response types, middleware and the one error handler.
// It talks to the rest of the service only through domain interfaces.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/pdf"
)

// Config holds the server's limits.
type Config struct {
	// BodyLimit caps every request body, counted on the bytes read.
	BodyLimit int64
	// RateLimit is the sustained requests per second allowed per API key (0: no limit).
	RateLimit float64
	// RateBurst is how many requests a key may send at once above the rate.
	RateBurst int
	// AuthFailureRate and AuthFailureBurst throttle failed authentication
	// per client address: Burst failures at once, then Rate per second
	// (0: no limit); beyond them the address is answered 429.
	AuthFailureRate  float64
	AuthFailureBurst int
	// IdempotencyWait is how long a request waits for a concurrent request
	// with the same Idempotency-Key to finish before it is refused.
	IdempotencyWait time.Duration
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{BodyLimit: 1 << 20, RateLimit: 100, RateBurst: 200, AuthFailureRate: 1, AuthFailureBurst: 30,
		IdempotencyWait: 10 * time.Second}
}

// Deps are what the server needs from the rest of Remit.
type Deps struct {
	Logger   *slog.Logger
	Business domain.Business

	Clients     domain.ClientService
	APIKeys     domain.APIKeyService
	Idempotency domain.IdempotencyService
	Agreements  domain.AgreementService
	Offboarding domain.OffboardService
	Invoices    domain.InvoiceService
	// CreditNotes issues and finds the credit notes that correct invoices.
	CreditNotes domain.CreditNoteService
	// Projects backs the project and milestone routes.
	Projects domain.ProjectService
	// Recurring backs the recurring invoice routes.
	Recurring domain.RecurringService
	// Cards saves clients' cards for automatic payment; nil without Stripe.
	Cards domain.CardGateway
	// TimeEntries and Health back the time entry, client health and client
	// report routes.
	TimeEntries domain.TimeEntryService
	Health      domain.HealthService

	// Webhooks, Rates and BillingRuns back the webhook endpoint, reference
	// rate and billing run log routes.
	Webhooks    domain.WebhookService
	Rates       domain.ReferenceRateService
	BillingRuns domain.BillingRunService

	// CheckWebhookURL refuses a webhook URL whose host is or resolves to an
	// address inside the network (EINVALID naming url); nil allows any.
	CheckWebhookURL func(ctx context.Context, url string) error

	// Sweep runs the enforcement sweep now; nil when this process does not sweep.
	Sweep func(ctx context.Context, trigger string) (*domain.BillingRun, error)

	// UnappliedPayments keeps the money Stripe collected that no invoice
	// took, until an admin applies or refunds it.
	UnappliedPayments domain.UnappliedPaymentService

	// Payments is the Stripe integration; nil when STRIPE_SECRET_KEY is
	// unset, and then the Stripe routes answer 503 stripe_not_configured.
	Payments domain.PaymentGateway

	// Documents gathers what the invoice, statement and notice PDFs show;
	// PDF renders them and keeps recent ones (nil: render every time).
	Documents domain.DocumentService
	PDF       *pdf.Renderer
	// CheckoutURL returns the link that pays an invoice's balance by card,
	// printed on its PDF; nil when Stripe is not configured. It should give
	// the same URL for the same invoice while the link is valid, or every
	// download renders anew instead of coming from the PDF cache.
	CheckoutURL func(ctx context.Context, invoiceID string) (string, error)

	// Links keeps the tokens of the hosted pages; PublicURL is their base
	// (REMIT_PUBLIC_URL). Without both, invoices and clients carry no
	// links and the pages answer 404.
	Links     domain.LinkService
	PublicURL string

	// Now is the clock (REMIT_NOW pins it); nil means the real time.
	Now func() time.Time

	// Observer is told about every request and Stripe event, for metrics;
	// Metrics serves GET /metrics. Either may be nil.
	Observer Observer
	Metrics  http.Handler
}

// Server is the HTTP API.
type Server struct {
	Deps
	Config Config

	echo         *echo.Echo
	limiter      *keyLimiter
	authFailures *failureLimiter
	// linkMisses throttles addresses that open wrong hosted-page links.
	linkMisses *failureLimiter
}

// NewServer returns a server with its routes registered.
func NewServer(cfg Config, d Deps) *Server {
	s := &Server{Config: cfg, Deps: d}
	s.limiter = newKeyLimiter(cfg.RateLimit, cfg.RateBurst)
	s.authFailures = newFailureLimiter(cfg.AuthFailureRate, cfg.AuthFailureBurst)
	s.linkMisses = newFailureLimiter(cfg.AuthFailureRate, cfg.AuthFailureBurst)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.requestID, s.observeRequest, s.accessLog, s.recover, s.bodyLimit, s.textParams)
	s.echo = e
	s.routes()
	return s
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Routes lists every registered method and path, in OpenAPI form (/v1/clients/{id}).
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.echo.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		out = append(out, Route{Method: r.Method, Path: openAPIPath(r.Path)})
	}
	return out
}

// Route is one registered method and path.
type Route struct{ Method, Path string }

func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.handleHealth)
	e.GET("/openapi.json", s.handleOpenAPI)
	e.GET("/openapi.yaml", s.handleOpenAPI)
	s.hostedRoutes()

	v1 := e.Group("/v1")
	read := []echo.MiddlewareFunc{s.authorize(domain.ScopeRead), s.rateLimit}
	write := []echo.MiddlewareFunc{s.authorize(domain.ScopeWrite), s.rateLimit, s.idempotency}
	admin := []echo.MiddlewareFunc{s.authorize(domain.ScopeAdmin), s.rateLimit, s.idempotency}
	// A time tracker's key (scope time_entries) posts and lists time and
	// nothing else; write and admin keys may too, read keys may list.
	timePost := []echo.MiddlewareFunc{s.authorize(domain.ScopeTimeEntries), s.rateLimit, s.idempotency}
	timeRead := []echo.MiddlewareFunc{s.authorize(domain.ScopeTimeEntries, domain.ScopeRead), s.rateLimit}

	// A read key can scrape; REMIT_METRICS_ADDR serves the same without a key.
	e.GET("/metrics", s.handleMetrics, read...)

	v1.POST("/clients", s.handleClientCreate, write...)
	v1.GET("/clients", s.handleClientList, read...)
	v1.GET("/clients/:id", s.handleClientGet, read...)
	v1.PATCH("/clients/:id", s.handleClientUpdate, write...)
	v1.GET("/clients/:id/credit", s.handleClientCredit, read...)
	v1.POST("/clients/:id/rotate_link", s.clientLink(false), admin...)
	v1.POST("/clients/:id/revoke_link", s.clientLink(true), admin...)
	v1.GET("/clients/:id/email_deliveries", s.handleEmailDeliveryList, read...)
	v1.POST("/clients/:id/payment_methods/setup", s.handleSetupSessionCreate, write...)

	v1.POST("/clients/:id/agreements", s.handleAgreementCreate, write...)
	v1.POST("/clients/:id/offboard", s.handleOffboard, admin...)
	v1.GET("/clients/:id/agreements", s.handleAgreementList, read...)
	v1.GET("/clients/:id/agreements/:agreement_id/acceptance.pdf", s.handleAcceptancePDF, read...)

	v1.POST("/invoices", s.handleInvoiceCreate, write...)
	v1.GET("/invoices", s.handleInvoiceList, read...)
	v1.GET("/invoices/:id", s.handleInvoiceGet, read...)
	v1.PATCH("/invoices/:id", s.handleInvoiceUpdate, write...)
	v1.POST("/invoices/:id/issue", s.invoiceStep(domain.InvoiceService.IssueInvoice), write...)
	v1.POST("/invoices/:id/void", s.invoiceStep(domain.InvoiceService.VoidInvoice), write...)
	v1.POST("/invoices/:id/rotate_link", s.invoiceLink(false), admin...)
	v1.POST("/invoices/:id/revoke_link", s.invoiceLink(true), admin...)
	v1.POST("/invoices/:id/mark_uncollectible", s.invoiceStep(domain.InvoiceService.MarkUncollectible), write...)
	v1.POST("/invoices/:id/payments", s.handlePaymentCreate, write...)
	v1.GET("/invoices/:id/payments", s.handlePaymentList, read...)
	v1.POST("/payments/:id/refunds", s.handleRefundCreate, write...)
	v1.GET("/invoices/:id/charges", s.handleChargeList, read...)
	v1.POST("/invoices/:id/charges/:charge_id/waive", s.handleChargeWaive, write...)
	v1.GET("/invoices/:id/events", s.handleInvoiceEvents, read...)
	v1.GET("/invoices/:id/accrual", s.handleAccrual, read...)
	v1.GET("/invoices/:id/pdf", s.handleInvoicePDF, read...)
	v1.POST("/invoices/:id/credit_notes", s.handleCreditNoteCreate, write...)
	v1.GET("/credit_notes", s.handleCreditNoteList, read...)
	v1.GET("/credit_notes/:id", s.handleCreditNoteGet, read...)
	v1.GET("/credit_notes/:id/pdf", s.handleCreditNotePDF, read...)
	v1.GET("/clients/:id/statement", s.handleStatement, read...)
	v1.GET("/clients/:id/statement.pdf", s.handleStatementPDF, read...)
	v1.GET("/clients/:id/notices/:"+noticeParam, s.handleNoticePDF, read...)

	v1.POST("/projects", s.handleProjectCreate, write...)
	v1.GET("/projects/:id", s.handleProjectGet, read...)
	v1.PATCH("/projects/:id", s.handleProjectUpdate, write...)
	v1.POST("/projects/:id/cancel", s.handleProjectCancel, write...)
	v1.POST("/milestones/:id/start", s.milestoneStep(domain.ProjectService.StartMilestone), write...)
	v1.POST("/milestones/:id/deliver", s.milestoneStep(domain.ProjectService.DeliverMilestone), write...)
	v1.POST("/milestones/:id/client_delay", s.handleMilestoneClientDelay, write...)

	v1.POST("/recurring_invoices", s.handleRecurringCreate, write...)
	v1.GET("/recurring_invoices", s.handleRecurringList, read...)
	v1.GET("/recurring_invoices/:id", s.handleRecurringGet, read...)
	v1.PATCH("/recurring_invoices/:id", s.handleRecurringUpdate, write...)
	v1.POST("/recurring_invoices/:id/pause", s.recurringStep(pauseRecurring), write...)
	v1.POST("/recurring_invoices/:id/resume", s.recurringStep(resumeRecurring), write...)
	v1.POST("/recurring_invoices/:id/cancel", s.recurringStep(cancelRecurring), write...)
	v1.GET("/recurring_invoices/:id/preview", s.handleRecurringPreview, read...)
	v1.GET("/recurring_invoices/:id/periods", s.handleRecurringPeriods, read...)

	v1.POST("/billing/run", s.handleBillingRun, admin...)
	v1.GET("/billing/runs", s.handleBillingRunList, read...)

	v1.PUT("/reference_rates/:series", s.handleRatesPut, admin...)
	v1.GET("/reference_rates/:series", s.handleRatesGet, read...)

	v1.POST("/webhook_endpoints", s.handleWebhookEndpointCreate, admin...)
	v1.GET("/webhook_endpoints", s.handleWebhookEndpointList, admin...)
	v1.PATCH("/webhook_endpoints/:id", s.handleWebhookEndpointUpdate, admin...)
	v1.DELETE("/webhook_endpoints/:id", s.handleWebhookEndpointDelete, admin...)
	v1.POST("/webhook_endpoints/:id/roll_secret", s.handleWebhookSecretRoll, admin...)
	v1.GET("/webhook_endpoints/:id/deliveries", s.handleWebhookDeliveryList, admin...)

	// Stripe: the webhook is authenticated by Stripe-Signature, not an API key.
	v1.POST("/invoices/:id/checkout", s.handleCheckoutCreate, write...)
	v1.POST("/stripe/webhook", s.handleStripeWebhook, s.observeStripeEvent)
	v1.POST("/stripe/reconcile", s.handleStripeReconcile, admin...)
	v1.GET("/unapplied_payments", s.handleUnappliedList, read...)
	v1.POST("/unapplied_payments/:id/apply", s.handleUnappliedApply, admin...)
	v1.POST("/unapplied_payments/:id/refund", s.handleUnappliedRefund, admin...)

	v1.POST("/time_entries", s.handleTimeEntryCreate, timePost...)
	v1.POST("/time_entries/bulk", s.handleTimeEntryBulk, timePost...)
	v1.GET("/time_entries", s.handleTimeEntryList, timeRead...)
	v1.GET("/clients/:id/health", s.handleClientHealth, read...)
	v1.GET("/reports/clients", s.handleClientReport, read...)

	v1.POST("/api_keys", s.handleAPIKeyCreate, admin...)
	v1.GET("/api_keys", s.handleAPIKeyList, admin...)
	v1.DELETE("/api_keys/:id", s.handleAPIKeyRevoke, admin...)
}

// dates returns the window of dates the API takes today, by the server's
// clock (docs/RULES.md section 4).
func (s *Server) dates() domain.DateWindow {
	return domain.DateWindowOn(domain.DateOf(s.now(), time.UTC))
}

// now returns the server's clock.
func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now().UTC()
}

func (s *Server) handleHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
