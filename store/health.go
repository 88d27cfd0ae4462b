package store

import (
	"context"
	"database/sql"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// HealthService implements domain.HealthService: a handful of GROUP BY
// queries aggregate each client's figures in the database, and the domain
// rules turn the per-client rows into flags and ranks.
type HealthService struct {
	db         *DB
	business   domain.Business
	thresholds domain.Thresholds
}

// NewHealthService returns the health report service; business gives the
// time zone of "today" and of the period's bounds, thresholds the flags.
func NewHealthService(db *DB, business domain.Business, thresholds domain.Thresholds) *HealthService {
	return &HealthService{db: db, business: business, thresholds: thresholds}
}

// ClientReport implements domain.HealthService.
func (s *HealthService) ClientReport(ctx context.Context, p domain.Period) (domain.HealthReport, error) {
	today := domain.DateOf(s.db.now(), s.business.Location())
	p, err := p.WithDefaults(today)
	if err != nil {
		return domain.HealthReport{}, err
	}
	facts, err := s.facts(ctx, p, today)
	if err != nil {
		return domain.HealthReport{}, err
	}
	return domain.HealthReport{Period: p, AsOf: today, Thresholds: s.thresholds,
		Clients: domain.AssessHealth(facts, s.thresholds, p, today)}, nil
}

// ClientHealth implements domain.HealthService. The client's shares and
// rank need every client's figures, so it runs the whole report.
func (s *HealthService) ClientHealth(ctx context.Context, clientID string, p domain.Period) (domain.HealthReport, error) {
	if _, err := findClient(s.db.reader(ctx), clientID); err != nil {
		return domain.HealthReport{}, err
	}
	r, err := s.ClientReport(ctx, p)
	if err != nil {
		return r, err
	}
	for _, h := range r.Clients {
		if h.ClientID == clientID {
			r.Clients = []domain.ClientHealth{h}
			return r, nil
		}
	}
	return r, domain.Errorf(domain.ENOTFOUND, "client %s not found", clientID)
}

// daysBetween is the SQL for the number of days from the date column b to
// the date column a (both YYYY-MM-DD text).
func (s *HealthService) daysBetween(a, b string) string {
	if s.db.dialect == Postgres {
		return "(CAST(" + a + " AS DATE) - CAST(" + b + " AS DATE))"
	}
	return "CAST(julianday(" + a + ") - julianday(" + b + ") AS INTEGER)"
}

// facts aggregates every client's figures for the period in one read
// transaction, so that all of them see the same moment.
func (s *HealthService) facts(ctx context.Context, p domain.Period, today domain.Date) ([]domain.ClientFacts, error) {
	var out []domain.ClientFacts
	var opts *sql.TxOptions
	if s.db.dialect == Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	err := s.db.reader(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		out, err = s.aggregate(tx, p, today)
		return err
	}, opts)
	return out, translate(err)
}

// aggregate runs one GROUP BY query per table and merges the rows by client.
// Money counts only in the client's own currency; counts and days take
// every currency.
func (s *HealthService) aggregate(tx *gorm.DB, p domain.Period, today domain.Date) ([]domain.ClientFacts, error) {
	args := map[string]any{"from": p.From.String(), "to": p.To.String(), "today": today.String()}

	var clients []clientRow
	if err := tx.Select("id, name, currency, relationship, status").Order("id").Find(&clients).Error; err != nil {
		return nil, err
	}
	facts := make([]domain.ClientFacts, len(clients))
	byID := make(map[string]*domain.ClientFacts, len(clients))
	for i, c := range clients {
		facts[i] = domain.ClientFacts{ClientID: c.ID, Name: c.Name, Currency: c.Currency, Relationship: c.Relationship, Status: c.Status}
		byID[c.ID] = &facts[i]
	}
	// each runs one query and hands each row's client to fn; the first two
	// columns of every query are the client id and the currency ('' when
	// the figures are not money), the rest are scanned into dest.
	each := func(query string, fn func(f *domain.ClientFacts, sameCurrency bool), dest ...any) error {
		rows, err := tx.Raw(query, args).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		var clientID, currency string
		cols := append([]any{&clientID, &currency}, dest...)
		for rows.Next() {
			if err := rows.Scan(cols...); err != nil {
				return err
			}
			if f := byID[clientID]; f != nil {
				fn(f, currency == f.Currency)
			}
		}
		return rows.Err()
	}

	var minutes, billable int64
	if err := each(`SELECT client_id, '' AS currency, SUM(minutes), SUM(CASE WHEN billable THEN minutes ELSE 0 END)
		FROM time_entries WHERE date >= @from AND date <= @to GROUP BY client_id`,
		func(f *domain.ClientFacts, _ bool) {
			f.Minutes, f.BillableMinutes = minutes, billable
		}, &minutes, &billable); err != nil {
		return nil, err
	}

	var amount int64
	received := func(f *domain.ClientFacts, same bool) {
		if same {
			f.Received += amount
		}
	}
	if err := each(`SELECT client_id, currency, SUM(alloc_compensation + alloc_fees + alloc_interest + alloc_principal)
		FROM payments WHERE paid_on >= @from AND paid_on <= @to GROUP BY client_id, currency`, received, &amount); err != nil {
		return nil, err
	}
	if err := each(`SELECT p.client_id, p.currency, -SUM(r.rev_compensation + r.rev_fees + r.rev_interest + r.rev_principal)
		FROM refunds r JOIN payments p ON p.id = r.payment_id
		WHERE r.refunded_on >= @from AND r.refunded_on <= @to GROUP BY p.client_id, p.currency`, received, &amount); err != nil {
		return nil, err
	}

	// Invoices: one row per client in index order (a join with clients
	// instead of GROUP BY client_id, currency, which would sort 200,000 rows);
	// money in another currency is left out in SQL.
	inPeriod := "i.due_date >= @from AND i.due_date <= @to"
	paidLate := inPeriod + " AND i.status = 'paid' AND i.paid_on > i.due_date"
	overdue := "i.status <> 'paid' AND i.balance_due > 0 AND i.due_date < @today"
	days := s.daysBetween("i.paid_on", "i.due_date")
	var onTime, late, overdueN, daysSum, openBalance, credit int64
	var daysMax sql.NullInt64
	var oldest sql.NullString
	if err := each(`SELECT i.client_id, '' AS currency,
		SUM(CASE WHEN `+inPeriod+` AND i.status = 'paid' AND i.paid_on <= i.due_date THEN 1 ELSE 0 END),
		SUM(CASE WHEN `+paidLate+` THEN 1 ELSE 0 END),
		SUM(CASE WHEN `+inPeriod+` AND `+overdue+` THEN 1 ELSE 0 END),
		SUM(CASE WHEN `+paidLate+` THEN `+days+` ELSE 0 END),
		MAX(CASE WHEN `+paidLate+` THEN `+days+` END),
		SUM(CASE WHEN i.status <> 'paid' AND i.currency = c.currency THEN i.balance_due ELSE 0 END),
		MIN(CASE WHEN `+overdue+` THEN i.due_date END),
		SUM(CASE WHEN i.issue_date >= @from AND i.issue_date <= @to AND i.currency = c.currency THEN i.credit_applied ELSE 0 END)
		FROM invoices i JOIN clients c ON c.id = i.client_id
		WHERE i.status IN ('open', 'paid', 'uncollectible') GROUP BY i.client_id`,
		func(f *domain.ClientFacts, _ bool) {
			f.PaidOnTime, f.PaidLate, f.Overdue = onTime, late, overdueN
			f.InvoicesDue = onTime + late + overdueN
			f.DaysLateSum, f.DaysLateMax = daysSum, daysMax.Int64
			if oldest.Valid {
				f.OldestOverdueDue = dateOf(&oldest.String)
			}
			f.OpenBalance = openBalance
			f.Received += credit
		}, &onTime, &late, &overdueN, &daysSum, &daysMax, &openBalance, &oldest, &credit); err != nil {
		return nil, err
	}

	var waivers, waived int64
	if err := each(`SELECT i.client_id, i.currency, COUNT(*), SUM(c.waived_amount)
		FROM charges c JOIN invoices i ON i.id = c.invoice_id
		WHERE c.waived_on >= @from AND c.waived_on <= @to AND c.waived_amount > 0 GROUP BY i.client_id, i.currency`,
		func(f *domain.ClientFacts, same bool) {
			f.Waivers += waivers
			if same {
				f.WaivedAmount += waived
			}
		}, &waivers, &waived); err != nil {
		return nil, err
	}

	loc := s.business.Location()
	args["start"], args["end"] = p.From.Midnight(loc).UTC(), p.To.AddDays(1).Midnight(loc).UTC()
	var suspensions int64
	if err := each(`SELECT client_id, '' AS currency, COUNT(*) FROM events
		WHERE type = 'client.suspended' AND created_at >= @start AND created_at < @end GROUP BY client_id`,
		func(f *domain.ClientFacts, _ bool) {
			f.Suspensions = suspensions
		}, &suspensions); err != nil {
		return nil, err
	}
	return facts, nil
}
