// Package metrics keeps Remit's Prometheus metrics in a registry of its own
// (never the global default one): HTTP requests by route and status, billing
// runs and the charges they posted, the outbox backlog, failed deliveries
// and Stripe webhook events by type. cmd/remit builds one Metrics and hands
// it to the API, the sweeper and the store queries that feed its gauges.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/remit/remit/domain"
)

// Namespace prefixes every metric name.
const Namespace = "remit"

// QueryTimeout bounds each database query a scrape runs.
const QueryTimeout = 5 * time.Second

// Metrics is the service's metric set and the registry that serves it. Its
// methods are safe for concurrent use.
type Metrics struct {
	// Registry holds every metric below, the Go runtime's and the process's.
	Registry *prometheus.Registry

	logger        *slog.Logger
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	runs          *prometheus.CounterVec
	runDuration   prometheus.Histogram
	charges       *prometheus.CounterVec
	actions       *prometheus.CounterVec
	skipped       *prometheus.CounterVec
	stripeEvents  *prometheus.CounterVec
	outboxBacklog *dbGauge
	failed        *dbGauge
}

// New returns a fresh metric set with its own registry; errors of the
// database queries behind the gauges are logged to logger.
func New(logger *slog.Logger) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		logger:   logger,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route template and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "billing_runs_total",
			Help: "Enforcement sweeps run by this process, by trigger and result (ok or error).",
		}, []string{"trigger", "result"}),
		runDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "billing_run_duration_seconds",
			Help:    "Wall-clock time of an enforcement sweep.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300, 900},
		}),
		charges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "charges_posted_total",
			Help: "Charges posted by the enforcement sweeps of this process, by kind.",
		}, []string{"kind"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "enforcement_actions_total",
			Help: "Reminders, suspension warnings, suspensions and reinstatements done by the sweeps of this process.",
		}, []string{"action"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "sweep_invoices_skipped_total",
			Help: "Invoices the enforcement sweeps of this process left alone, by kind: paused, missing_rate, " +
				"or failed (could not be processed; named in the run log and tried again next run).",
		}, []string{"kind"}),
		stripeEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "stripe_webhook_events_total",
			Help: "Stripe webhook events received with a valid signature and answered 200, by event type.",
		}, []string{"type"}),
		outboxBacklog: &dbGauge{desc: prometheus.NewDesc(Namespace+"_outbox_backlog",
			"Outbox events not yet fanned out into deliveries.", nil, nil)},
		failed: &dbGauge{desc: prometheus.NewDesc(Namespace+"_deliveries_failed",
			"Deliveries given up after the retry window, by channel (webhook, email).", []string{"channel"}, nil)},
	}
	// Zero series for the known kinds, so a dashboard's rate() starts at 0
	// instead of at the first charge.
	for _, k := range []domain.ChargeKind{domain.ChargeLateFee, domain.ChargeInterest, domain.ChargeCompensation} {
		m.charges.WithLabelValues(string(k))
	}
	for _, a := range []string{"reminder", "suspension_warning", "suspension", "reinstatement"} {
		m.actions.WithLabelValues(a)
	}
	for _, k := range []string{domain.SkipPaused, domain.SkipMissingRate, domain.SkipFailed} {
		m.skipped.WithLabelValues(k)
	}
	m.outboxBacklog.logger, m.failed.logger = logger, logger
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.runs, m.runDuration, m.charges, m.actions, m.skipped, m.stripeEvents,
		m.outboxBacklog, m.failed,
	)
	return m
}

// Handler serves the registry in the Prometheus text format. A gauge whose
// query fails is left out of that scrape (and logged); the rest is served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		ErrorLog:      errorLog{m.logger},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.Registry,
	})
}

// ObserveRequest counts one answered request and its duration. route is the
// route template (/v1/clients/:id), never the raw path.
func (m *Metrics) ObserveRequest(method, route string, status int, elapsed time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(method, route, code).Inc()
	m.latency.WithLabelValues(method, route, code).Observe(elapsed.Seconds())
}

// StripeEvent counts one verified Stripe webhook event of type typ.
func (m *Metrics) StripeEvent(typ string) {
	m.stripeEvents.WithLabelValues(typ).Inc()
}

// ObserveRun counts a finished billing run: the run, its duration, the
// charges it posted by kind and the enforcement actions it took.
func (m *Metrics) ObserveRun(run *domain.BillingRun) {
	result := "ok"
	if run.Error != "" {
		result = "error"
	}
	m.runs.WithLabelValues(run.Trigger, result).Inc()
	m.runDuration.Observe(float64(run.DurationMS) / 1000)
	for kind, n := range run.Posted {
		m.charges.WithLabelValues(string(kind)).Add(float64(n))
	}
	m.actions.WithLabelValues("reminder").Add(float64(run.Reminders))
	m.actions.WithLabelValues("suspension_warning").Add(float64(run.SuspensionWarnings))
	m.actions.WithLabelValues("suspension").Add(float64(run.Suspensions))
	m.actions.WithLabelValues("reinstatement").Add(float64(run.Reinstatements))
	for kind, n := range run.SkippedByKind {
		m.skipped.WithLabelValues(kind).Add(float64(n))
	}
}

// WatchOutboxBacklog sets the query behind remit_outbox_backlog: the number
// of outbox events not yet processed. It runs at every scrape.
func (m *Metrics) WatchOutboxBacklog(count func(ctx context.Context) (int64, error)) {
	m.outboxBacklog.set(func(ctx context.Context) (map[string]int64, error) {
		n, err := count(ctx)
		return map[string]int64{"": n}, err
	})
}

// WatchFailedDeliveries sets the query behind remit_deliveries_failed: the
// deliveries given up, by channel. It runs at every scrape.
func (m *Metrics) WatchFailedDeliveries(count func(ctx context.Context) (map[string]int64, error)) {
	m.failed.set(count)
}

// dbGauge is a gauge read from the database at each scrape. Until a query
// is set it reports nothing.
type dbGauge struct {
	desc   *prometheus.Desc
	logger *slog.Logger
	// query returns the value of each label value ("" for an unlabelled gauge).
	query func(ctx context.Context) (map[string]int64, error)
}

func (g *dbGauge) set(q func(ctx context.Context) (map[string]int64, error)) { g.query = q }

// Describe implements prometheus.Collector.
func (g *dbGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

// Collect implements prometheus.Collector: one query per scrape.
func (g *dbGauge) Collect(ch chan<- prometheus.Metric) {
	if g.query == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), QueryTimeout)
	defer cancel()
	values, err := g.query(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(g.desc, fmt.Errorf("query: %w", err))
		return
	}
	for label, v := range values {
		var labels []string
		if label != "" {
			labels = []string{label}
		}
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(v), labels...)
	}
}

// errorLog sends promhttp's error messages to slog.
type errorLog struct{ logger *slog.Logger }

// Println implements promhttp.Logger.
func (l errorLog) Println(v ...any) {
	if l.logger != nil {
		l.logger.Error("metrics scrape", "error", fmt.Sprint(v...))
	}
}
