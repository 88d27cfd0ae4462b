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

// BenchmarkSweep1M is issue 4's measurement: 1,000,000 open invoices,
// 100,000 of them overdue, on SQLite. It times one full sweep posting their
// first late fees against a hand-written INSERT ... SELECT of one fee row per
// overdue invoice on a copy of the same data, then a second sweep the same
// day. Run it alone: go test ./store -run '^$' -bench Sweep1M -benchtime 1x
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
		copyFile(b, template, seeded)
		copyFile(b, template, baselinePath)
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
		b.ReportMetric(second.Seconds(), "second-sweep-s")
		b.ReportMetric(100*second.Seconds()/first.Seconds(), "second/first-%")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	}
}
