package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/remit/remit/billing"
	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/testdb"
	"github.com/remit/remit/store"
)

// seedSweepPostgres fills a fresh PostgreSQL database with the data of
// seedSweepData (1,000 clients; invoices, every tenth one day overdue on
// 2026-02-01) and returns its URL.
func seedSweepPostgres(b *testing.B, invoices int) string {
	b.Helper()
	ctx := context.Background()
	url := testdb.PostgresURL(b)
	db, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	ag := domain.Agreement{EffectiveFrom: domain.NewDate(2025, 1, 1), PaymentTerms: "net_30", ReminderOffsets: []int{},
		LateFee: &domain.LateFee{Flat: 2500, Percent: "1.5"}}.WithDefaults()
	terms, _ := json.Marshal(ag)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sql := db.SQL()
	if _, err := sql.Exec(`INSERT INTO clients (id, name, email, timezone, currency, relationship, status, created_at, updated_at)
		SELECT 'cli_' || lpad(n::text, 5, '0'), 'Client ' || n, 'c' || n || '@example.com', 'UTC', 'EUR', 'standard', 'active', $1, $1
		FROM generate_series(0, 999) n`, now); err != nil {
		b.Fatal(err)
	}
	if _, err := sql.Exec(`INSERT INTO invoices (id, client_id, number, status, currency, timezone, memo, issue_date, due_date, overdue_from, overdue_at,
			subtotal, tax, total, balance_due, agreement, created_at, updated_at, issued_at, next_action_on)
		SELECT 'inv_' || lpad(n::text, 8, '0'), 'cli_' || lpad((n % 1000)::text, 5, '0'), 'INV-2026-' || lpad(n::text, 7, '0'), 'open', 'EUR', 'UTC', '',
			CASE WHEN n % 10 = 0 THEN '2026-01-01' ELSE '2026-01-25' END,
			CASE WHEN n % 10 = 0 THEN '2026-01-31' ELSE '2026-02-24' END,
			CASE WHEN n % 10 = 0 THEN '2026-02-01' ELSE '2026-02-25' END, $2,
			10000 + n % 90000, 0, 10000 + n % 90000, 10000 + n % 90000, $3, $2, $2, $2,
			CASE WHEN n % 10 = 0 THEN '2026-02-01' ELSE '2026-02-25' END
		FROM generate_series(0, $1 - 1) n`, invoices, now, string(terms)); err != nil {
		b.Fatal(err)
	}
	if _, err := sql.Exec("VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return url
}

// sweepReplicas runs n sweepers at once on url, each with a database
// handle (a connection pool) of its own, as n replicas would, and returns
// the wall time and what each examined and posted.
func sweepReplicas(b *testing.B, url string, n int, day time.Time) (time.Duration, []*domain.BillingRun) {
	b.Helper()
	ctx := context.Background()
	sweepers := make([]*billing.Sweeper, n)
	for i := range sweepers {
		db, err := store.Open(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		db.Now = func() time.Time { return day }
		sweepers[i] = &billing.Sweeper{Store: store.NewSweepService(db), Now: db.Now, Logger: slog.New(slog.DiscardHandler)}
	}
	runs := make([]*domain.BillingRun, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i, sw := range sweepers {
		wg.Go(func() {
			var err error
			if runs[i], err = sw.Sweep(ctx, "bench"); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	return time.Since(t0), runs
}

// sweepFloorPostgres is sweepFloor (sweep_bench_test.go) in PostgreSQL's
// dialect: every row the sweep writes for a newly overdue invoice, one
// INSERT ... SELECT per table and one UPDATE, no Go code per invoice.
var sweepFloorPostgres = []string{
	`INSERT INTO charges (id, invoice_id, kind, key, amount, posted_on, days, description, breakdown, paid, waived_amount, waive_reason, created_at)
	SELECT 'chg_' || substr(id, 5), id, 'late_fee', 'late_fee:1', 2500 + (total * 15 + 500) / 1000, '2026-02-01', 0,
		'Late fee: 25.00 + 1.5 % of ' || total, '', 0, 0, '', $1
	FROM invoices WHERE status = 'open' AND overdue_from <= '2026-02-01'`,
	`INSERT INTO notices (invoice_id, key, client_id, due_on, skipped, created_at)
	SELECT id, 'overdue', client_id, '2026-02-01', FALSE, $1 FROM invoices WHERE status = 'open' AND overdue_from <= '2026-02-01'`,
	`INSERT INTO events (id, type, client_id, invoice_id, actor, actor_key_id, data, created_at)
	SELECT 'evt_o' || substr(id, 5), 'invoice.overdue', client_id, id, 'system', '',
		json_build_object('number', number, 'due_date', due_date, 'balance_due', balance_due, 'currency', currency)::text, $1
	FROM invoices WHERE status = 'open' AND overdue_from <= '2026-02-01'`,
	`INSERT INTO events (id, type, client_id, invoice_id, actor, actor_key_id, data, created_at)
	SELECT 'evt_c' || substr(c.id, 5), 'charge.posted', i.client_id, i.id, 'system', '',
		json_build_object('id', c.id, 'invoice_id', c.invoice_id, 'kind', c.kind, 'key', c.key, 'amount', c.amount, 'posted_on', c.posted_on,
			'period_from', '', 'period_to', '', 'days', 0, 'description', c.description, 'paid', 0, 'waived', false,
			'waived_amount', 0, 'waive_reason', '', 'created_at', $1::timestamp)::text, $1
	FROM charges c JOIN invoices i ON i.id = c.invoice_id`,
	`INSERT INTO outbox (id, event_id, type, client_id, invoice_id, created_at)
	SELECT 'obx_' || substr(id, 5), id, type, client_id, invoice_id, $1 FROM events`,
	`UPDATE invoices SET next_action_on = '2026-03-01', charges_total = charges_total + 2500 + (total * 15 + 500) / 1000,
		balance_due = balance_due + 2500 + (total * 15 + 500) / 1000, updated_at = $1
	WHERE status = 'open' AND overdue_from <= '2026-02-01'`,
}

// timeFloorPostgres runs sweepFloorPostgres on url in one transaction and
// returns how long it took.
func timeFloorPostgres(b *testing.B, url string, day time.Time) time.Duration {
	b.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	t0 := time.Now()
	tx, err := db.SQL().Begin()
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range sweepFloorPostgres {
		if _, err := tx.Exec(q, day); err != nil {
			tx.Rollback()
			b.Fatalf("floor: %v\n%s", err, q)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

// BenchmarkSweepReplicasPostgres measures the sweep on PostgreSQL: 100,000
// open invoices (REMIT_SWEEP_BENCH_INVOICES), 10 % of them one day overdue,
// swept by one replica and, on a second copy of the data, by three at once
// (pages locked FOR NO KEY UPDATE SKIP LOCKED, so they share the work);
// the baseline is one INSERT ... SELECT of the fee rows on a third copy, the
// floor every row the sweep writes, set-based (sweepFloorPostgres), on a fourth.
// Each run checks that every fee was posted once and every overdue invoice
// examined once in all.
//
//	go test ./store -run '^$' -bench SweepReplicasPostgres -benchtime 1x -timeout 30m
func BenchmarkSweepReplicasPostgres(b *testing.B) {
	n := 100_000
	if v := os.Getenv("REMIT_SWEEP_BENCH_INVOICES"); v != "" {
		fmt.Sscan(v, &n)
	}
	day := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	overdue := (n + 9) / 10
	for range b.N {
		b.StopTimer()
		baseURL, oneURL, threeURL := seedSweepPostgres(b, n), seedSweepPostgres(b, n), seedSweepPostgres(b, n)
		floorURL := seedSweepPostgres(b, n)
		b.StartTimer()
		floor := timeFloorPostgres(b, floorURL, day)
		base, err := store.Open(context.Background(), baseURL)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if _, err := base.SQL().Exec(`INSERT INTO charges (id, invoice_id, kind, key, amount, posted_on, days, description, breakdown, paid, waived_amount, waive_reason, created_at)
			SELECT 'chg_' || substr(id, 5), id, 'late_fee', 'late_fee:1', 2500 + (total * 15 + 500) / 1000, '2026-02-01', 0, 'Late fee', '', 0, 0, '', $1
			FROM invoices WHERE status = 'open' AND overdue_from <= '2026-02-01'`, day); err != nil {
			b.Fatal(err)
		}
		baseline := time.Since(t0)
		base.Close()
		one, _ := sweepReplicas(b, oneURL, 1, day)
		three, runs := sweepReplicas(b, threeURL, 3, day)
		examined, posted := 0, 0
		var each []int
		for _, r := range runs {
			examined, posted = examined+r.InvoicesExamined, posted+r.Posted[domain.ChargeLateFee]
			each = append(each, r.InvoicesExamined)
		}
		if examined != overdue || posted != overdue {
			b.Fatalf("three replicas examined %d and posted %d fees; want %d each", examined, posted, overdue)
		}
		b.Logf("%d invoices, %d overdue: baseline %v, floor %v, one replica %v, three replicas %v (examined %v)", n, overdue, baseline, floor, one, three, each)
		b.ReportMetric(baseline.Seconds(), "baseline-s")
		b.ReportMetric(floor.Seconds(), "floor-s")
		b.ReportMetric(one.Seconds()/floor.Seconds(), "one/floor")
		b.ReportMetric(three.Seconds()/floor.Seconds(), "three/floor")
		b.ReportMetric(one.Seconds(), "one-replica-s")
		b.ReportMetric(three.Seconds(), "three-replicas-s")
		b.ReportMetric(one.Seconds()/baseline.Seconds(), "one/baseline")
		b.ReportMetric(three.Seconds()/one.Seconds(), "three/one")
	}
}
