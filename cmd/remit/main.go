// Command remit is the Remit service: invoicing and late-payment enforcement.
//
//	remit                        serve the API (also: remit serve)
//	remit migrate                apply the database migrations and exit
//	remit env                    list the environment variables
//	remit healthcheck            exit 0 when the local server's /healthz answers 200
//	remit stripe reconcile       record succeeded Stripe payments no webhook delivered
//	remit backup FILE            copy the live SQLite database to FILE (docs/OPERATIONS.md)
//	remit restore [-force] FILE  replace the SQLite database with a backup (Remit stopped)
//	remit loadtest               measure Remit against a bare Echo + SQLite handler
//	remit help [COMMAND]         list the commands; COMMAND -h shows its flags and settings
//
// commands.go holds the list; every command answers -h without side effects.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata" // IANA zones even where the system has none (containers)

	"github.com/remit/remit/api"
	"github.com/remit/remit/billing"
	"github.com/remit/remit/domain"
	"github.com/remit/remit/i18n"
	"github.com/remit/remit/metrics"
	"github.com/remit/remit/pdf"
	"github.com/remit/remit/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "remit:", err)
		os.Exit(1)
	}
}

// Main is the whole service: configuration, database, HTTP server and
// scheduler. main() and the end-to-end tests start it the same way.
type Main struct {
	Config Config
	Logger *slog.Logger
	DB     *store.DB
	Server *api.Server

	// AdminKey is the admin key created at the first start, if one was.
	AdminKey string
	// Sweeper is the enforcement sweep; its scheduler runs in the background.
	Sweeper *billing.Sweeper
	// Metrics is the Prometheus metric set served at /metrics.
	Metrics *metrics.Metrics
	// Notifier delivers webhooks and e-mail notices every DeliveryInterval.
	Notifier *billing.Notifier

	// pinned is the clock pinned by REMIT_NOW (or SetNow), in Unix nanoseconds; 0: real time.
	pinned atomic.Int64
	// unlock releases the serving lock on the SQLite file (store.LockForServing).
	unlock func() error
	// background is cancelled by Close; workers holds its goroutines.
	background context.CancelFunc
	workers    sync.WaitGroup

	httpServer *http.Server
	listener   net.Listener
	served     chan error

	// metricsServer serves /metrics alone on REMIT_METRICS_ADDR, when set.
	metricsServer   *http.Server
	metricsListener net.Listener
	metricsServed   chan error
}

// pdfCacheEntries is how many rendered PDFs the server keeps (about 40 kB
// each for a one-page invoice), so repeat downloads cost no rendering.
const pdfCacheEntries = 256

// NewMain returns a service that logs JSON lines to out.
func NewMain(cfg Config, out *os.File) *Main {
	m := &Main{
		Config: cfg,
		Logger: slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: cfg.LogLevel})),
	}
	if !cfg.Now.IsZero() {
		m.SetNow(cfg.Now)
	}
	return m
}

// Now returns the service's clock: the pinned time (REMIT_NOW), else the
// real time in UTC.
func (m *Main) Now() time.Time {
	if n := m.pinned.Load(); n != 0 {
		return time.Unix(0, n).UTC()
	}
	return time.Now().UTC()
}

// SetNow pins the clock to t (tests and demos move time with it).
func (m *Main) SetNow(t time.Time) { m.pinned.Store(t.UnixNano()) }

// Run opens and migrates the database, makes sure an admin key exists, and
// starts serving in the background. It returns once the listener is open.
func (m *Main) Run(ctx context.Context) error {
	if !m.Config.Now.IsZero() {
		m.Logger.Warn("REMIT_NOW pins the clock; use it only for demos and tests", "now", m.Config.Now.Format(time.RFC3339))
	}
	if m.Config.WebhookAllowPrivate {
		m.Logger.Warn("REMIT_WEBHOOK_ALLOW_PRIVATE lets webhook endpoints reach loopback and private addresses; use it only for a receiver on your own network")
	}
	// The lock beside a SQLite file tells `remit restore` that this
	// process serves from it (held until Close, or until the process dies).
	unlock, err := store.LockForServing(m.Config.DatabaseURL)
	if err != nil {
		return err
	}
	m.unlock = unlock
	db, err := store.Open(ctx, m.Config.DatabaseURL)
	if err != nil {
		return err
	}
	m.DB = db
	db.Now = m.Now
	if err := db.Migrate(ctx); err != nil {
		return err
	}

	keys := store.NewAPIKeyService(db)
	if err := m.bootstrapAdminKey(ctx, keys); err != nil {
		return err
	}

	cfg := api.DefaultConfig()
	cfg.BodyLimit, cfg.RateLimit, cfg.RateBurst = m.Config.BodyLimit, m.Config.RateLimit, m.Config.RateBurst
	gateway := m.newPayments(db)
	m.Server = api.NewServer(cfg, api.Deps{
		Logger:      m.Logger,
		Business:    m.Config.Business,
		Clients:     store.NewClientService(db),
		APIKeys:     keys,
		Idempotency: store.NewIdempotencyService(db),
		Agreements:  store.NewAgreementService(db, m.Config.Business),
		Invoices:    store.NewInvoiceService(db),
		CreditNotes: store.NewCreditNoteService(db),
		Webhooks:    store.NewWebhookService(db),
		Rates:       store.NewReferenceRateService(db),
		BillingRuns: store.NewBillingRunService(db),
		Projects:    store.NewProjectService(db),
		Recurring:   recurringService(db),
		Cards:       cardGateway(gateway),
		Offboarding: m.newOffboarding(db, gateway),
		TimeEntries: store.NewTimeEntryService(db),
		Health:      store.NewHealthService(db, m.Config.Business, m.Config.Thresholds),
		Payments:    gateway,

		UnappliedPayments: m.newUnapplied(db, gateway),
		CheckoutURL:       checkoutURL(gateway),
		Documents:         store.NewDocumentService(db),
		PDF:               pdf.NewRenderer(pdfCacheEntries),
		Now:               m.Now,
		Links:             m.newLinks(db),
		PublicURL:         m.Config.PublicURL,

		CheckWebhookURL: billing.WebhookURLChecker(m.Config.WebhookAllowPrivate, net.DefaultResolver),
	})
	m.Sweeper = &billing.Sweeper{
		Store:  store.NewSweepService(db),
		Runs:   m.Server.BillingRuns,
		Now:    m.Now,
		Logger: m.Logger,
		Steps: []billing.Step{{Name: "milestones", Run: m.Server.Projects.IssueDelayedMilestones},
			{Name: "recurring", Run: m.Server.Recurring.IssueRecurringInvoices}, m.autoChargeStep(db), {Name: "idempotency", Run: func(ctx context.Context, _ time.Time) (int, error) {
				n, err := m.Server.Idempotency.PurgeIdempotencyKeys(ctx)
				return int(n), err
			}}},
	}
	m.Server.Sweep = m.Sweeper.Sweep
	m.wireMetrics()
	bg, cancel := context.WithCancel(context.Background())
	m.background = cancel
	if m.Config.SweepInterval > 0 {
		m.workers.Go(func() { m.Sweeper.Run(bg, m.Config.SweepInterval) })
	}
	if m.Notifier, err = m.newNotifier(db); err != nil {
		return err
	}
	m.Notifier.Attach = m.Server.OutboxAttachment // e-mail notices carry their PDF
	m.Notifier.Context = m.Server.EmailContext    // and what is due today, how to pay, the basis
	if m.Config.DeliveryInterval > 0 {
		m.workers.Go(func() { m.Notifier.Run(bg, m.Config.DeliveryInterval) })
	}

	if err := m.serveMetrics(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (REMIT_ADDR): %w", m.Config.Addr, err)
	}
	m.listener = ln
	m.httpServer = &http.Server{
		Handler:           m.Server,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	m.served = make(chan error, 1)
	go func() { m.served <- m.httpServer.Serve(ln) }()
	m.Logger.Info("remit listening", "addr", ln.Addr().String(), "database", store.RedactURL(m.Config.DatabaseURL), "dialect", db.Dialect())
	return nil
}

// newNotifier returns the delivery of webhooks and, when SMTP_URL is set,
// e-mail notices from SMTP_FROM (else REMIT_BUSINESS_EMAIL).
func (m *Main) newNotifier(db *store.DB) (*billing.Notifier, error) {
	var smtp *billing.SMTPConfig
	if m.Config.SMTPURL != "" {
		from := m.Config.SMTPFrom
		if from == "" {
			from = m.Config.Business.Email
		}
		smtp = &billing.SMTPConfig{URL: m.Config.SMTPURL, From: from, FromName: m.Config.Business.Name}
	}
	outbox := store.NewOutboxService(db)
	outbox.BusinessEmail = m.Config.Business.Email // payment.unapplied goes to the business
	n, err := billing.NewNotifier(outbox, billing.WebhookClient(m.Config.WebhookAllowPrivate), m.Now, m.Logger, smtp)
	if err != nil {
		return nil, fmt.Errorf("e-mail settings (SMTP_URL, SMTP_FROM or REMIT_BUSINESS_EMAIL): %w", err)
	}
	n.Wall = time.Now // signatures carry the real time, whatever REMIT_NOW pins
	return n, nil
}

// newLinks returns the hosted pages' links when REMIT_PUBLIC_URL is set.
func (m *Main) newLinks(db *store.DB) domain.LinkService {
	if m.Config.PublicURL == "" {
		return nil
	}
	return store.NewLinkService(db, []byte(m.Config.LinkKey))
}

// newUnapplied returns the unapplied payment service; refunds go through
// the gateway when there is one.
func (m *Main) newUnapplied(db *store.DB, gateway domain.PaymentGateway) *store.UnappliedPaymentService {
	s := store.NewUnappliedPaymentService(db)
	s.Stripe = gateway
	return s
}

// newOffboarding returns the offboarding service; deposits paid through
// Stripe are refunded through the gateway when there is one.
func (m *Main) newOffboarding(db *store.DB, gateway domain.PaymentGateway) *store.OffboardService {
	s := store.NewOffboardService(db, store.NewInvoiceService(db), store.NewProjectService(db))
	s.Stripe = gateway
	return s
}

// bootstrapAdminKey makes sure someone can call the API: REMIT_ADMIN_KEY
// always ends up a live admin key (created, or re-activated if it was
// revoked: the owner's documented way back in); otherwise, with no live key
// at all, one admin key is created and printed once on standard error.
func (m *Main) bootstrapAdminKey(ctx context.Context, keys *store.APIKeyService) error {
	if m.Config.AdminKey != "" {
		k := &domain.APIKey{Name: "admin (REMIT_ADMIN_KEY)", Scopes: []string{domain.ScopeAdmin}}
		outcome, err := keys.EnsureAPIKey(ctx, k, m.Config.AdminKey)
		if err != nil {
			return err
		}
		switch outcome {
		case domain.KeyCreated:
			m.Logger.Info("stored the admin key from REMIT_ADMIN_KEY", "key_id", k.ID)
		case domain.KeyReactivated:
			m.Logger.Warn("re-activated the admin key from REMIT_ADMIN_KEY, which was revoked", "key_id", k.ID)
		default:
			m.Logger.Info("the admin key from REMIT_ADMIN_KEY is live", "key_id", k.ID)
		}
		return nil
	}
	n, err := keys.CountAPIKeys(ctx)
	if err != nil || n > 0 {
		return err
	}
	k := &domain.APIKey{Name: "admin (first start)", Scopes: []string{domain.ScopeAdmin}}
	if err := keys.CreateAPIKey(ctx, k); err != nil {
		return err
	}
	m.AdminKey = k.Secret
	m.Logger.Info("created the first admin key; its secret is printed once on standard error", "key_id", k.ID)
	fmt.Fprintf(os.Stderr, "\nRemit admin API key (shown once, keep it safe):\n\n    %s\n\n", k.Secret)
	return nil
}

// URL returns the base URL the server listens on.
func (m *Main) URL() string {
	addr := m.listener.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("http://%s", net.JoinHostPort(host, fmt.Sprint(addr.Port)))
}

// Close stops accepting requests, waits for those in flight (up to the
// shutdown timeout), and closes the database.
func (m *Main) Close() error {
	var errs []error
	if m.background != nil {
		m.background()
		m.workers.Wait()
	}
	if m.httpServer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		defer cancel()
		errs = append(errs, m.httpServer.Shutdown(ctx))
		if err := <-m.served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	metricsCtx, cancelMetrics := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancelMetrics()
	errs = append(errs, m.closeMetrics(metricsCtx))
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
	}
	if m.unlock != nil {
		errs = append(errs, m.unlock())
		m.unlock = nil
	}
	return errors.Join(errs...)
}

// recurringService is the store's, naming each period in the client's
// language.
func recurringService(db *store.DB) *store.RecurringService {
	s := store.NewRecurringService(db)
	s.Words = func(lang string) domain.PeriodWords { return i18n.For(lang) }
	return s
}
