package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/remit/remit/billing"
	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// seedSweepData fills a fresh SQLite file with clients and open invoices,
// every tenth of them one day overdue on sweepDay, with one INSERT ... SELECT
// per table, and returns its path.
func seedSweepData(tb testing.TB, dir string, invoices int) string {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(dir, "sweep.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	ag := domain.Agreement{EffectiveFrom: domain.NewDate(2025, 1, 1), PaymentTerms: "net_30", ReminderOffsets: []int{},
		LateFee: &domain.LateFee{Flat: 2500, Percent: "1.5"}}.WithDefaults()
	terms, _ := json.Marshal(ag)
	sql := db.SQL()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := sql.Exec(`WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < 999)
		INSERT INTO clients (id, name, email, timezone, currency, relationship, status, created_at, updated_at)
		SELECT printf('cli_%05d', n), printf('Client %d', n), printf('c%d@example.com', n), 'UTC', 'EUR', 'standard', 'active', ?, ? FROM seq`, now, now); err != nil {
		tb.Fatal(err)
	}
	if _, err := sql.Exec(`WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ? - 1)
		INSERT INTO invoices (id, client_id, number, status, currency, timezone, memo, issue_date, due_date, overdue_from, overdue_at,
			subtotal, tax, total, balance_due, agreement, created_at, updated_at, issued_at, next_action_on)
		SELECT printf('inv_%08d', n), printf('cli_%05d', n % 1000), printf('INV-2026-%07d', n), 'open', 'EUR', 'UTC', '',
			CASE WHEN n % 10 = 0 THEN '2026-01-01' ELSE '2026-01-25' END,
			CASE WHEN n % 10 = 0 THEN '2026-01-31' ELSE '2026-02-24' END,
			CASE WHEN n % 10 = 0 THEN '2026-02-01' ELSE '2026-02-25' END, ?,
			10000 + n % 90000, 0, 10000 + n % 90000, 10000 + n % 90000, ?, ?, ?, ?,
			CASE WHEN n % 10 = 0 THEN '2026-02-01' ELSE '2026-02-25' END
		FROM seq`, invoices, now, string(terms), now, now, now); err != nil {
		tb.Fatal(err)
	}
	if _, err := sql.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		tb.Fatal(err)
	}
	return path
}

func copyFile(tb testing.TB, from, to string) {
	tb.Helper()
	in, err := os.Open(from)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, in); err != nil {
		tb.Fatal(err)
	}
}

// peakHeap samples the Go heap while fn runs and returns the largest value.
func peakHeap(fn func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if v := m.HeapInuse + m.StackInuse; v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	return peak.Load()
}

// sweepFloor is the sweep's writes for this data set without the sweep:
// for every newly overdue invoice the rows the rules require (the fee, the
// overdue notice's key, the invoice.overdue and charge.posted events with
// their outbox rows, the invoice's new totals and next action day), each
// table filled by one INSERT ... SELECT (one UPDATE for the invoices) in
// one transaction, the events' data built by SQLite's json_object. No Go
// code runs per invoice, so no implementation that writes these rows can
// be faster; it is the floor the real sweep is compared with.
var sweepFloor = []string{
	`INSERT INTO charges (id, invoice_id, kind, key, amount, posted_on, days, description, breakdown, paid, waived_amount, waive_reason, created_at)
	SELECT 'chg_' || substr(id, 5), id, 'late_fee', 'late_fee:1', 2500 + (total * 15 + 500) / 1000, '2026-02-01', 0,
		'Late fee: 25.00 + 1.5 % of ' || total, '', 0, 0, '', ?1
	FROM invoices WHERE status = 'open' AND overdue_from <= '2026-02-01'`,
	`INSERT INTO notices (invoice_id, key, client_id, due_on, skipped, created_at)
	SELECT id, 'overdue', client_id, '2026-02-01', FALSE, ?1 FROM invoices WHERE status = 'open' AND overdue_from <= '2026-02-01'`,
	`INSERT INTO events (id, type, client_id, invoice_id, actor, actor_key_id, data, created_at)
	SELECT 'evt_o' || substr(id, 5), 'invoice.overdue', client_id, id, 'system', '',
		json_object('number', number, 'due_date', due_date, 'balance_due', balance_due, 'currency', currency), ?1
	FROM invoices WHERE status = 'open' AND overdue_from <= '2026-02-01'`,
	`INSERT INTO events (id, type, client_id, invoice_id, actor, actor_key_id, data, created_at)
	SELECT 'evt_c' || substr(c.id, 5), 'charge.posted', i.client_id, i.id, 'system', '',
		json_object('id', c.id, 'invoice_id', c.invoice_id, 'kind', c.kind, 'key', c.key, 'amount', c.amount, 'posted_on', c.posted_on,
			'period_from', '', 'period_to', '', 'days', 0, 'description', c.description, 'paid', 0, 'waived', json('false'),
			'waived_amount', 0, 'waive_reason', '', 'created_at', ?1), ?1
	FROM charges c JOIN invoices i ON i.id = c.invoice_id`,
	`INSERT INTO outbox (id, event_id, type, client_id, invoice_id, created_at)
	SELECT 'obx_' || substr(id, 5), id, type, client_id, invoice_id, ?1 FROM events`,
	`UPDATE invoices SET next_action_on = '2026-03-01', charges_total = charges_total + 2500 + (total * 15 + 500) / 1000,
		balance_due = balance_due + 2500 + (total * 15 + 500) / 1000, updated_at = ?1
	WHERE status = 'open' AND overdue_from <= '2026-02-01'`,
}

// sweepMinFloor is less than any sweep can write: the fee, the overdue
// notice's key and the next action day, the last kept in a narrow table of
// its own (prepared before the clock starts) instead of the invoice row; no
// events, no outbox, no totals.
var sweepMinFloor = []string{
	sweepFloor[0],
	sweepFloor[1],
	`UPDATE sweep_schedule SET next_action_on = '2026-03-01'
	WHERE invoice_id IN (SELECT id FROM invoices WHERE status = 'open' AND overdue_from <= '2026-02-01') AND ?1 IS NOT NULL`,
}

// BenchmarkSweep1M is issue 4's measurement: 1,000,000 open invoices,
// 100,000 of them overdue, on SQLite. It times one full sweep posting their
// first late fees against a hand-written INSERT ... SELECT of one fee row per
// overdue invoice on a copy of the same data, then a second sweep the same
// day. It also times sweepFloor and sweepMinFloor on two more copies. Run it alone: go test ./store -run '^$' -bench Sweep1M -benchtime 1x
// (REMIT_SWEEP_BENCH_INVOICES scales it down).
func BenchmarkSweep1M(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("REMIT_SWEEP_BENCH_INVOICES"); v != "" {
		fmt.Sscan(v, &n)
	}
	dir := b.TempDir()
	template := seedSweepData(b, dir, n)
	ctx := context.Background()
	sweepDay := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := range b.N {
		// Each round works on fresh copies of the same seeded data.
		seeded, baselinePath := filepath.Join(dir, fmt.Sprintf("sweep-%d.db", i)), filepath.Join(dir, fmt.Sprintf("baseline-%d.db", i))
		floorPath := filepath.Join(dir, fmt.Sprintf("floor-%d.db", i))
		minPath := filepath.Join(dir, fmt.Sprintf("minfloor-%d.db", i))
		copyFile(b, template, minPath)
		copyFile(b, template, seeded)
		copyFile(b, template, baselinePath)
		copyFile(b, template, floorPath)
		// The baseline: one statement, one fee row per overdue invoice.
		base, err := store.Open(ctx, baselinePath)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		res, err := base.SQL().Exec(`INSERT INTO charges (id, invoice_id, kind, key, amount, posted_on, days, description, breakdown, paid, waived_amount, waive_reason, created_at)
			SELECT 'chg_' || substr(id, 5), id, 'late_fee', 'late_fee:1', 2500 + (total * 15 + 500) / 1000, '2026-02-01', 0, 'Late fee', '', 0, 0, '', ?
			FROM invoices WHERE status = 'open' AND overdue_from <= '2026-02-01'`, sweepDay)
		baseline := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		rows, _ := res.RowsAffected()
		base.Close()

		floor := timeFloor(b, floorPath, sweepFloor, nil, sweepDay)
		checkCount(b, floorPath, "outbox", 2*rows)
		minFloor := timeFloor(b, minPath, sweepMinFloor, []string{
			"CREATE TABLE sweep_schedule (invoice_id TEXT PRIMARY KEY, next_action_on TEXT)",
			"INSERT INTO sweep_schedule SELECT id, next_action_on FROM invoices",
			"CREATE INDEX sweep_schedule_next ON sweep_schedule (next_action_on, invoice_id)",
			"PRAGMA wal_checkpoint(TRUNCATE)",
		}, sweepDay)
		checkCount(b, minPath, "notices", rows)

		db, err := store.Open(ctx, seeded)
		if err != nil {
			b.Fatal(err)
		}
		db.Now = func() time.Time { return sweepDay }
		sw := &billing.Sweeper{Store: store.NewSweepService(db), Now: db.Now, Logger: slog.New(slog.DiscardHandler), PageSize: 1000}
		var first, second time.Duration
		var run1, run2 *domain.BillingRun
		runtime.GC()
		peak := peakHeap(func() {
			t0 = time.Now()
			run1, err = sw.Sweep(ctx, "bench")
			first = time.Since(t0)
		})
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		run2, err = sw.Sweep(ctx, "bench")
		second = time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
		if got := run1.Posted[domain.ChargeLateFee]; int64(got) != rows || run2.ChargesPosted() != 0 {
			b.Fatalf("first sweep posted %d fees, baseline %d; second sweep posted %d", got, rows, run2.ChargesPosted())
		}
		b.ReportMetric(baseline.Seconds(), "baseline-s")
		b.ReportMetric(first.Seconds(), "sweep-s")
		b.ReportMetric(first.Seconds()/baseline.Seconds(), "sweep/baseline")
		b.ReportMetric(floor.Seconds(), "floor-s")
		b.ReportMetric(floor.Seconds()/baseline.Seconds(), "floor/baseline")
		b.ReportMetric(minFloor.Seconds()/baseline.Seconds(), "minfloor/baseline")
		b.ReportMetric(second.Seconds(), "second-sweep-s")
		b.ReportMetric(100*second.Seconds()/first.Seconds(), "second/first-%")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	}
}

// timeFloor runs prepare, then times stmts in one transaction, on the file
// at path.
func timeFloor(b *testing.B, path string, stmts, prepare []string, now time.Time) time.Duration {
	b.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, q := range prepare {
		if _, err := db.SQL().Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	t0 := time.Now()
	tx, err := db.SQL().Begin()
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := tx.Exec(q, now); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

// checkCount fails unless table holds want rows in the file at path.
func checkCount(b *testing.B, path, table string, want int64) {
	b.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.SQL().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil || n != want {
		b.Fatalf("%s holds %d rows, want %d (%v)", table, n, want, err)
	}
}
