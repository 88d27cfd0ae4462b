package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/metrics"
)

// TestMetrics records a request, a run and an event, lets one gauge query
// fail, and finds the exact lines of the rest in the scrape.
func TestMetrics(t *testing.T) {
	m := metrics.New(slog.New(slog.DiscardHandler))
	m.ObserveRequest("GET", "/v1/clients/:id", 200, 30*time.Millisecond)
	m.ObserveRequest("GET", "/v1/clients/:id", 200, 2*time.Second)
	m.ObserveRun(&domain.BillingRun{Trigger: "scheduler", DurationMS: 1500, Reminders: 3,
		Posted: map[domain.ChargeKind]int{domain.ChargeInterest: 4, domain.ChargeLateFee: 1}})
	m.ObserveRun(&domain.BillingRun{Trigger: "scheduler", Error: "database is locked"})
	m.StripeEvent("payment_intent.succeeded")
	m.WatchOutboxBacklog(func(context.Context) (int64, error) { return 0, errors.New("no database") })
	m.WatchFailedDeliveries(func(context.Context) (map[string]int64, error) {
		return map[string]int64{"webhook": 2, "email": 0}, nil
	})

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`remit_http_requests_total{method="GET",route="/v1/clients/:id",status="200"} 2`,
		`remit_http_request_duration_seconds_bucket{method="GET",route="/v1/clients/:id",status="200",le="0.05"} 1`,
		`remit_http_request_duration_seconds_bucket{method="GET",route="/v1/clients/:id",status="200",le="2.5"} 2`,
		`remit_billing_runs_total{result="ok",trigger="scheduler"} 1`,
		`remit_billing_runs_total{result="error",trigger="scheduler"} 1`,
		`remit_billing_run_duration_seconds_sum 1.5`,
		`remit_charges_posted_total{kind="interest"} 4`,
		`remit_charges_posted_total{kind="late_fee"} 1`,
		`remit_charges_posted_total{kind="compensation"} 0`,
		`remit_enforcement_actions_total{action="reminder"} 3`,
		`remit_stripe_webhook_events_total{type="payment_intent.succeeded"} 1`,
		`remit_deliveries_failed{channel="webhook"} 2`,
		`remit_deliveries_failed{channel="email"} 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s", want)
		}
	}
	// The failing query leaves its gauge out; the scrape goes on.
	if strings.Contains(text, "remit_outbox_backlog ") {
		t.Errorf("remit_outbox_backlog served although its query failed")
	}
}

// TestRegistriesAreSeparate: two metric sets (two Mains in one test
// binary) do not share counters.
func TestRegistriesAreSeparate(t *testing.T) {
	a, b := metrics.New(nil), metrics.New(nil)
	a.StripeEvent("charge.refunded")
	rec := httptest.NewRecorder()
	b.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), "charge.refunded") {
		t.Fatal("a's counter shows in b")
	}
}
