package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// The portfolio of the client report benchmarks (docs/PERFORMANCE.md).
const (
	benchClients     = 10_000
	benchTimeEntries = 1_000_000
	benchInvoices    = 200_000
)

// benchNow is the clock of the report benchmarks; the seeded data spans
// 2025-01-01 to 2026-03-31 and the report covers its last year.
var (
	benchNow    = time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	benchPeriod = domain.Period{From: domain.NewDate(2025, 4, 1), To: domain.NewDate(2026, 3, 31)}
)

// reportDB is the seeded SQLite file both benchmarks read, built once per
// process in a temporary directory that TestMain removes.
var reportDB struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain removes the report benchmarks' database after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if reportDB.dir != "" {
		os.RemoveAll(reportDB.dir)
	}
	os.Exit(code)
}

// openReportDB opens the seeded database, seeding it on first use.
func openReportDB(b *testing.B) *store.DB {
	b.Helper()
	reportDB.once.Do(func() {
		if reportDB.dir, reportDB.err = os.MkdirTemp("", "remit-report-bench-"); reportDB.err != nil {
			return
		}
		reportDB.path = filepath.Join(reportDB.dir, "remit.db")
		start := time.Now()
		reportDB.err = seedReportDB(reportDB.path)
		b.Logf("seeded %d clients, %d time entries, %d invoices in %s", benchClients, benchTimeEntries, benchInvoices, time.Since(start).Round(time.Millisecond))
	})
	if reportDB.err != nil {
		b.Fatal(reportDB.err)
	}
	db, err := store.Open(context.Background(), reportDB.path)
	if err != nil {
		b.Fatal(err)
	}
	db.Now = func() time.Time { return benchNow }
	b.Cleanup(func() { db.Close() })
	return db
}

// seedReportDB migrates a fresh file and fills it with bulk INSERT ...
// SELECT statements over a recursive counter, with figures that vary by
// row number: paid, late, open, partly paid, void and uncollectible
// invoices; payments, refunds, late fees (some waived), suspensions.
func seedReportDB(path string) error {
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	const ts = "'2025-01-01 00:00:00+00:00'"
	seq := func(n int) string {
		return "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < " + strconv.Itoa(n-1) + ") "
	}
	// inv computes each invoice's facts from its number: k days after
	// 2025-01-01 it is issued, due 30 days later, paid d days after due
	// (kind < 70, when that day has come), left open (70-89), partly paid
	// (90-94), void (95-97) or uncollectible (98-99).
	inv := seq(benchInvoices) + `, inv AS (
		SELECT n, printf('inv_%08d', n) AS id, printf('cli_%08d', n % 10000) AS client_id,
			CASE WHEN n % 10000 % 20 = 0 THEN 'USD' ELSE 'EUR' END AS currency,
			(n / 10000) * 22 + n % 17 AS k, (n * 13) % 60 - 45 AS d, (n * 31) % 100 AS kind,
			10000 + (n * 7919) % 490000 AS total
		FROM seq), facts AS (
		SELECT *, date('2025-01-01', '+' || k || ' days') AS issue_date, date('2025-01-01', '+' || (k + 30) || ' days') AS due_date,
			date('2025-01-01', printf('%+d days', k + 30 + d)) AS paid_day,
			CASE WHEN kind < 70 AND k + 30 + d <= 454 THEN 'paid' WHEN kind BETWEEN 95 AND 97 THEN 'void'
				WHEN kind >= 98 THEN 'uncollectible' ELSE 'open' END AS status
		FROM inv) `
	stmts := []string{
		seq(benchClients) + `INSERT INTO clients (id, name, email, timezone, currency, relationship, status, created_at, updated_at)
			SELECT printf('cli_%08d', n), 'Client ' || n, 'ap' || n || '@bench.example', 'UTC',
				CASE WHEN n % 20 = 0 THEN 'USD' ELSE 'EUR' END,
				CASE WHEN n % 50 = 7 THEN 'friends_family' ELSE 'standard' END,
				CASE WHEN n % 97 = 0 THEN 'suspended' ELSE 'active' END, ` + ts + `, ` + ts + ` FROM seq`,
		inv + `INSERT INTO invoices (id, client_id, number, status, currency, timezone, issue_date, due_date, paid_on,
				subtotal, tax, total, amount_paid, principal_paid, balance_due, created_at, updated_at)
			SELECT id, client_id, printf('INV-%08d', n), status, currency, 'UTC', issue_date, due_date,
				CASE WHEN status = 'paid' THEN paid_day END, total, 0, total,
				CASE WHEN status = 'paid' THEN total WHEN kind BETWEEN 90 AND 94 THEN total / 2 ELSE 0 END,
				CASE WHEN status = 'paid' THEN total WHEN kind BETWEEN 90 AND 94 THEN total / 2 ELSE 0 END,
				CASE WHEN status IN ('paid', 'void') THEN 0 WHEN kind BETWEEN 90 AND 94 THEN total - total / 2 ELSE total END,
				` + ts + `, ` + ts + ` FROM facts`,
		inv + `INSERT INTO payments (id, invoice_id, client_id, amount, currency, paid_on, method, source, external_key, alloc_principal, created_at)
			SELECT printf('pay_%08d', n), id, client_id, CASE WHEN status = 'paid' THEN total ELSE total / 2 END, currency,
				CASE WHEN status = 'paid' THEN paid_day ELSE date(issue_date, '+10 days') END, 'bank_transfer', 'manual', 'bench:' || n,
				CASE WHEN status = 'paid' THEN total ELSE total / 2 END, ` + ts + `
			FROM facts WHERE status = 'paid' OR (status = 'open' AND kind BETWEEN 90 AND 94)`,
		inv + `INSERT INTO refunds (id, payment_id, invoice_id, amount, refunded_on, external_key, rev_principal, created_at)
			SELECT printf('rfd_%08d', n), printf('pay_%08d', n), id, 1000, paid_day, 'bench:r' || n, 1000, ` + ts + `
			FROM facts WHERE status = 'paid' AND n % 100 = 1`,
		inv + `INSERT INTO charges (id, invoice_id, kind, key, amount, posted_on, paid, waived_amount, waive_reason, waived_on, created_at)
			SELECT printf('chg_%08d', n), id, 'late_fee', 'late_fee:1', 2500, date(due_date, '+1 days'),
				CASE WHEN n % 10 <> 0 AND status = 'paid' THEN 2500 ELSE 0 END,
				CASE WHEN n % 10 = 0 THEN 2500 ELSE 0 END, CASE WHEN n % 10 = 0 THEN 'goodwill' ELSE '' END,
				CASE WHEN n % 10 = 0 THEN date(due_date, '+3 days') END, ` + ts + `
			FROM facts WHERE n % 5 = 0 AND (status = 'paid' AND d > 0 OR status <> 'paid' AND k + 31 <= 454)`,
		seq(benchTimeEntries) + `INSERT INTO time_entries (id, client_id, date, minutes, description, billable, api_key_id, created_at)
			SELECT printf('tme_%08d', n), printf('cli_%08d', n % 10000), date('2025-01-01', '+' || ((n * 7) % 450) || ' days'),
				15 + (n * 37) % 466, 'Work', n % 10 <> 0, 'bench', ` + ts + ` FROM seq`,
		seq(benchClients) + `INSERT INTO events (id, type, client_id, actor, data, created_at)
			SELECT printf('evt_%08d', n), 'client.suspended', printf('cli_%08d', n), 'system', '{}', '2025-09-01 03:00:00+00:00'
			FROM seq WHERE n % 97 = 0`,
		`ANALYZE`,
	}
	for _, s := range stmts {
		if _, err := db.SQL().ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkClientReport is GET /v1/reports/clients without HTTP: the
// store's GROUP BY queries, then flags and ranks in Go, over 10,000
// clients, 1,000,000 time entries and 200,000 invoices.
func BenchmarkClientReport(b *testing.B) {
	db := openReportDB(b)
	s := store.NewHealthService(db, domain.Business{Timezone: "UTC"},
		domain.Thresholds{TargetHourlyRates: map[string]int64{"*": 9000}, LateShare: 30, HoursShareCap: 20, Exceptions: 3})
	ctx := context.Background()
	var flagged int
	for b.Loop() {
		r, err := s.ClientReport(ctx, benchPeriod)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Clients) != benchClients {
			b.Fatalf("%d clients in the report", len(r.Clients))
		}
		flagged = 0
		for _, h := range r.Clients {
			if len(h.Flags) > 0 {
				flagged++
			}
		}
	}
	b.ReportMetric(float64(flagged), "flagged")
}

// baselineReportSQL is one hand-written SQLite statement that computes the
// same per-client figures as the store's queries: the yardstick of
// BenchmarkClientReport (at most 2x its time, issue 8).
const baselineReportSQL = `
SELECT c.id, c.name, c.currency, c.relationship, c.status,
	COALESCE(t.minutes, 0), COALESCE(t.billable, 0),
	COALESCE(p.received, 0) - COALESCE(r.refunded, 0) + COALESCE(i.credit, 0),
	COALESCE(i.on_time, 0), COALESCE(i.paid_late, 0), COALESCE(i.overdue, 0), COALESCE(i.days_sum, 0), COALESCE(i.days_max, 0),
	COALESCE(i.open_balance, 0), COALESCE(i.oldest_due, ''),
	COALESCE(w.waivers, 0), COALESCE(w.waived, 0), COALESCE(e.suspensions, 0)
FROM clients c
LEFT JOIN (SELECT client_id, SUM(minutes) AS minutes, SUM(CASE WHEN billable THEN minutes ELSE 0 END) AS billable
	FROM time_entries WHERE date BETWEEN @from AND @to GROUP BY client_id) t ON t.client_id = c.id
LEFT JOIN (SELECT client_id, currency, SUM(alloc_compensation + alloc_fees + alloc_interest + alloc_principal) AS received
	FROM payments WHERE paid_on BETWEEN @from AND @to GROUP BY client_id, currency) p ON p.client_id = c.id AND p.currency = c.currency
LEFT JOIN (SELECT p.client_id, p.currency, SUM(r.rev_compensation + r.rev_fees + r.rev_interest + r.rev_principal) AS refunded
	FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.refunded_on BETWEEN @from AND @to GROUP BY p.client_id, p.currency) r
	ON r.client_id = c.id AND r.currency = c.currency
LEFT JOIN (SELECT i.client_id,
		SUM(CASE WHEN due_date BETWEEN @from AND @to AND i.status = 'paid' AND paid_on <= due_date THEN 1 ELSE 0 END) AS on_time,
		SUM(CASE WHEN due_date BETWEEN @from AND @to AND i.status = 'paid' AND paid_on > due_date THEN 1 ELSE 0 END) AS paid_late,
		SUM(CASE WHEN due_date BETWEEN @from AND @to AND i.status <> 'paid' AND balance_due > 0 AND due_date < @today THEN 1 ELSE 0 END) AS overdue,
		SUM(CASE WHEN due_date BETWEEN @from AND @to AND i.status = 'paid' AND paid_on > due_date THEN CAST(julianday(paid_on) - julianday(due_date) AS INTEGER) ELSE 0 END) AS days_sum,
		MAX(CASE WHEN due_date BETWEEN @from AND @to AND i.status = 'paid' AND paid_on > due_date THEN CAST(julianday(paid_on) - julianday(due_date) AS INTEGER) END) AS days_max,
		SUM(CASE WHEN i.status <> 'paid' AND i.currency = c.currency THEN balance_due ELSE 0 END) AS open_balance,
		MIN(CASE WHEN i.status <> 'paid' AND balance_due > 0 AND due_date < @today THEN due_date END) AS oldest_due,
		SUM(CASE WHEN issue_date BETWEEN @from AND @to AND i.currency = c.currency THEN credit_applied ELSE 0 END) AS credit
	FROM invoices i JOIN clients c ON c.id = i.client_id
	WHERE i.status IN ('open', 'paid', 'uncollectible') GROUP BY i.client_id) i ON i.client_id = c.id
LEFT JOIN (SELECT i.client_id, COUNT(*) AS waivers, SUM(CASE WHEN i.currency = c.currency THEN ch.waived_amount ELSE 0 END) AS waived
	FROM charges ch JOIN invoices i ON i.id = ch.invoice_id JOIN clients c ON c.id = i.client_id
	WHERE ch.waived_on BETWEEN @from AND @to AND ch.waived_amount > 0 GROUP BY i.client_id) w ON w.client_id = c.id
LEFT JOIN (SELECT client_id, COUNT(*) AS suspensions FROM events
	WHERE type = 'client.suspended' AND created_at >= @start AND created_at < @end GROUP BY client_id) e ON e.client_id = c.id
ORDER BY c.id`

// baselineFacts runs baselineReportSQL and reads every row.
func baselineFacts(ctx context.Context, db *store.DB) ([]domain.ClientFacts, error) {
	rows, err := db.SQL().QueryContext(ctx, baselineReportSQL,
		sql.Named("from", benchPeriod.From.String()), sql.Named("to", benchPeriod.To.String()), sql.Named("today", "2026-03-31"),
		sql.Named("start", benchPeriod.From.Midnight(time.UTC)), sql.Named("end", benchPeriod.To.AddDays(1).Midnight(time.UTC)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]domain.ClientFacts, 0, benchClients)
	for rows.Next() {
		var f domain.ClientFacts
		var oldest string
		if err := rows.Scan(&f.ClientID, &f.Name, &f.Currency, &f.Relationship, &f.Status, &f.Minutes, &f.BillableMinutes, &f.Received,
			&f.PaidOnTime, &f.PaidLate, &f.Overdue, &f.DaysLateSum, &f.DaysLateMax, &f.OpenBalance, &oldest,
			&f.Waivers, &f.WaivedAmount, &f.Suspensions); err != nil {
			return nil, err
		}
		f.OldestOverdueDue, _ = domain.ParseDate(oldest)
		out = append(out, f)
	}
	return out, rows.Err()
}

// BenchmarkClientReportBaseline runs baselineReportSQL on the same data
// and reads every row. Before timing, it checks that the baseline and the
// report agree on every client's figures.
func BenchmarkClientReportBaseline(b *testing.B) {
	db := openReportDB(b)
	ctx := context.Background()
	facts, err := baselineFacts(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	r, err := store.NewHealthService(db, domain.Business{Timezone: "UTC"}, domain.Thresholds{}).ClientReport(ctx, benchPeriod)
	if err != nil {
		b.Fatal(err)
	}
	byID := map[string]domain.ClientHealth{}
	for _, h := range r.Clients {
		byID[h.ClientID] = h
	}
	var late, waivers, suspended int64
	for _, f := range facts {
		h := byID[f.ClientID]
		worst := int64(0)
		if h.WorstDaysLate != nil {
			worst = *h.WorstDaysLate
		}
		if h.Minutes != f.Minutes || h.BillableMinutes != f.BillableMinutes || h.RevenueReceived != f.Received ||
			h.InvoicesPaidOnTime != f.PaidOnTime || h.InvoicesPaidLate != f.PaidLate || h.InvoicesOverdue != f.Overdue || worst != f.DaysLateMax ||
			h.OpenBalance != f.OpenBalance || h.OldestOverdueDays != int64(r.AsOf.DaysSince(f.OldestOverdueDue))*boolInt(!f.OldestOverdueDue.IsZero()) ||
			h.Waivers != f.Waivers || h.WaivedAmount != f.WaivedAmount || h.Suspensions != f.Suspensions {
			b.Fatalf("the report and the baseline disagree on %s:\nreport   %+v\nbaseline %+v", f.ClientID, h, f)
		}
		late += f.PaidLate
		waivers += f.Waivers
		suspended += f.Suspensions
	}
	if late == 0 || waivers == 0 || suspended == 0 {
		b.Fatalf("the seed lacks late payments (%d), waivers (%d) or suspensions (%d)", late, waivers, suspended)
	}
	for b.Loop() {
		facts, err := baselineFacts(ctx, db)
		if err != nil {
			b.Fatal(err)
		}
		if len(facts) != benchClients {
			b.Fatalf("%d rows", len(facts))
		}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// BenchmarkClientReportVsBaseline alternates the report and the baseline
// in every iteration, so both see the same machine load, and reports their
// times and the ratio (the goal is at most 2).
func BenchmarkClientReportVsBaseline(b *testing.B) {
	db := openReportDB(b)
	s := store.NewHealthService(db, domain.Business{Timezone: "UTC"},
		domain.Thresholds{TargetHourlyRates: map[string]int64{"*": 9000}, LateShare: 30, HoursShareCap: 20, Exceptions: 3})
	ctx := context.Background()
	var report, baseline time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := s.ClientReport(ctx, benchPeriod); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if _, err := baselineFacts(ctx, db); err != nil {
			b.Fatal(err)
		}
		report, baseline = report+mid.Sub(start), baseline+time.Since(mid)
	}
	b.ReportMetric(float64(report.Milliseconds())/float64(b.N), "report-ms/op")
	b.ReportMetric(float64(baseline.Milliseconds())/float64(b.N), "baseline-ms/op")
	b.ReportMetric(float64(report)/float64(baseline), "ratio")
}
