package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// recurringRow is the recurring_invoices table.
type recurringRow struct {
	ID              string
	ClientID        string
	Status          string
	Currency        string
	Lines           string
	Memo            string
	AutoCharge      bool
	IntervalUnit    string
	IntervalCount   int
	AnchorDay       int
	StartDate       string
	EndDate         *string
	MaxCount        int
	IssueDaysBefore int
	IssueFrom       *string
	LastPeriod      int
	InvoicesIssued  int
	NextIssueOn     *string
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt       time.Time `gorm:"autoUpdateTime:false"`
}

func (recurringRow) TableName() string { return "recurring_invoices" }

// recurringPeriodRow is the recurring_invoice_periods table: one row per
// period issued, keyed by (template, period).
type recurringPeriodRow struct {
	RecurringInvoiceID string `gorm:"primaryKey"`
	PeriodIndex        int    `gorm:"primaryKey"`
	PeriodFrom         string
	PeriodTo           string
	IssueDate          string
	InvoiceID          *string
	CreatedAt          time.Time `gorm:"autoCreateTime:false"`
}

func (recurringPeriodRow) TableName() string { return "recurring_invoice_periods" }

// toDomain converts the row.
func (r *recurringRow) toDomain() (domain.RecurringInvoice, error) {
	out := domain.RecurringInvoice{
		ID: r.ID, ClientID: r.ClientID, Status: r.Status, Currency: r.Currency, Memo: r.Memo, AutoCharge: r.AutoCharge,
		Schedule: domain.Schedule{Interval: r.IntervalUnit, IntervalCount: r.IntervalCount, AnchorDay: r.AnchorDay,
			StartDate: dateOf(&r.StartDate), EndDate: dateOf(r.EndDate), Count: r.MaxCount, IssueDaysBefore: r.IssueDaysBefore},
		IssueFrom: dateOf(r.IssueFrom), LastPeriod: r.LastPeriod, InvoicesIssued: r.InvoicesIssued, NextIssueDate: dateOf(r.NextIssueOn),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if err := json.Unmarshal([]byte(r.Lines), &out.Lines); err != nil {
		return out, fmt.Errorf("recurring invoice %s: lines: %w", r.ID, err)
	}
	return out, nil
}

// setTemplate writes the template's content and schedule into the row.
func (r *recurringRow) setTemplate(t domain.RecurringInvoice) error {
	for i := range t.Lines { // stored as the invoices will show them
		if t.Lines[i].Quantity == "" {
			t.Lines[i].Quantity = "1"
		}
		if t.Lines[i].TaxRate == "" {
			t.Lines[i].TaxRate = "0"
		}
	}
	lines, err := json.Marshal(t.Lines)
	if err != nil {
		return err
	}
	s := t.Schedule
	r.Lines, r.Memo, r.AutoCharge = string(lines), t.Memo, t.AutoCharge
	r.IntervalUnit, r.IntervalCount, r.AnchorDay, r.StartDate = s.Interval, s.IntervalCount, s.AnchorDay, s.StartDate.String()
	r.EndDate, r.MaxCount, r.IssueDaysBefore = dateCol(s.EndDate), s.Count, s.IssueDaysBefore
	return nil
}

// plan sets the row's next issue day from its schedule and reports whether
// no period is left to issue.
func (r *recurringRow) plan() (done bool, err error) {
	r.NextIssueOn = nil
	t, err := r.toDomain()
	if err != nil {
		return false, err
	}
	next := t.Next(1)
	if len(next) == 0 {
		return true, nil
	}
	if r.Status == domain.RecurringActive {
		r.NextIssueOn = dateCol(next[0].IssueOn)
	}
	return false, nil
}

// RecurringService implements domain.RecurringService.
type RecurringService struct {
	db       *DB
	invoices *InvoiceService
	// Words names a period in a client's language (its lines' {period}
	// and the memo's first line); English when nil.
	Words func(lang string) domain.PeriodWords
}

// NewRecurringService returns the recurring invoice service on db.
func NewRecurringService(db *DB) *RecurringService {
	return &RecurringService{db: db, invoices: NewInvoiceService(db)}
}

// CreateRecurringInvoice implements domain.RecurringService.
func (s *RecurringService) CreateRecurringInvoice(ctx context.Context, in domain.RecurringInput) (*domain.RecurringInvoice, error) {
	if in.Schedule.IntervalCount == 0 {
		in.Schedule.IntervalCount = 1
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	now := s.db.now()
	row := recurringRow{ID: s.db.newID("rec"), ClientID: in.ClientID, Status: domain.RecurringActive, LastPeriod: -1,
		CreatedAt: now, UpdatedAt: now}
	t := domain.RecurringInvoice{Lines: in.Lines, Memo: in.Memo, AutoCharge: in.AutoCharge, Schedule: in.Schedule}
	if err := row.setTemplate(t); err != nil {
		return nil, err
	}
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		c, err := findClient(tx, in.ClientID)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			return fieldError("client_id", "no such client")
		}
		if err != nil {
			return err
		}
		if c.Status == domain.ClientOffboarded {
			return domain.Conflictf(domain.ECLIENTOFFBOARDED, "client %s is offboarded and read-only", c.ID)
		}
		row.Currency = c.Currency
		if done, err := row.plan(); err != nil || done {
			return errors.Join(err, fieldError("start_date", "the schedule has no period to issue"))
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.db.emit(ctx, tx, "recurring_invoice.created", row.ClientID, "", map[string]any{
			"recurring_invoice_id": row.ID, "next_issue_date": dateOf(row.NextIssueOn)}, false)
	})
	if err != nil {
		return nil, err
	}
	return s.FindRecurringInvoiceByID(ctx, row.ID)
}

// lockRecurring reads a template row, locked on PostgreSQL.
func lockRecurring(tx *gorm.DB, id string) (*recurringRow, error) {
	var row recurringRow
	if err := forUpdate(tx).Take(&row, "id = ?", id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, domain.Errorf(domain.ENOTFOUND, "recurring invoice %s not found", id)
		}
		return nil, translate(err)
	}
	return &row, nil
}

// FindRecurringInvoiceByID implements domain.RecurringService.
func (s *RecurringService) FindRecurringInvoiceByID(ctx context.Context, id string) (*domain.RecurringInvoice, error) {
	var row recurringRow
	if err := s.db.reader(ctx).Take(&row, "id = ?", id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, domain.Errorf(domain.ENOTFOUND, "recurring invoice %s not found", id)
		}
		return nil, translate(err)
	}
	r, err := row.toDomain()
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// FindRecurringInvoices implements domain.RecurringService.
func (s *RecurringService) FindRecurringInvoices(ctx context.Context, f domain.RecurringFilter) (
	domain.Page[domain.RecurringInvoice], error) {
	q := s.db.reader(ctx).Model(&recurringRow{})
	if f.ClientID != "" {
		q = q.Where("client_id = ?", f.ClientID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var rows []recurringRow
	if err := page(q, f.Page).Find(&rows).Error; err != nil {
		return domain.Page[domain.RecurringInvoice]{}, translate(err)
	}
	var convErr error
	p := finishPage(rows, f.Page, func(r *recurringRow) domain.RecurringInvoice {
		t, err := r.toDomain()
		convErr = errors.Join(convErr, err)
		return t
	})
	return p, convErr
}

// change runs fn on a locked template in one transaction, then writes the
// row and the audit event typ.
func (s *RecurringService) change(ctx context.Context, id, typ string,
	fn func(tx *gorm.DB, row *recurringRow, t domain.RecurringInvoice) error) (*domain.RecurringInvoice, error) {
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := lockRecurring(tx, id)
		if err != nil {
			return err
		}
		t, err := row.toDomain()
		if err != nil {
			return err
		}
		if err := fn(tx, row, t); err != nil {
			return err
		}
		row.UpdatedAt = s.db.now()
		if err := tx.Save(row).Error; err != nil {
			return err
		}
		return s.db.emit(ctx, tx, typ, row.ClientID, "", map[string]any{"recurring_invoice_id": row.ID, "status": row.Status,
			"next_issue_date": dateOf(row.NextIssueOn)}, false)
	})
	if err != nil {
		return nil, err
	}
	return s.FindRecurringInvoiceByID(ctx, id)
}

// UpdateRecurringInvoice implements domain.RecurringService. The change
// applies to the periods not issued yet.
func (s *RecurringService) UpdateRecurringInvoice(ctx context.Context, id string, u domain.RecurringUpdate) (
	*domain.RecurringInvoice, error) {
	return s.change(ctx, id, "recurring_invoice.updated", func(tx *gorm.DB, row *recurringRow, t domain.RecurringInvoice) error {
		if row.Status != domain.RecurringActive && row.Status != domain.RecurringPaused {
			return domain.Conflictf(domain.ERECURRINGSTATE, "recurring invoice %s is %s and can no longer change", row.ID, row.Status)
		}
		if err := u.Validate(t); err != nil {
			return err
		}
		t = u.Apply(t)
		if err := row.setTemplate(t); err != nil {
			return err
		}
		if done, err := row.plan(); err != nil || !done {
			return err
		}
		return s.end(ctx, tx, row, "completed")
	})
}

// PauseRecurringInvoice implements domain.RecurringService.
func (s *RecurringService) PauseRecurringInvoice(ctx context.Context, id string) (*domain.RecurringInvoice, error) {
	return s.change(ctx, id, "recurring_invoice.paused", func(_ *gorm.DB, row *recurringRow, _ domain.RecurringInvoice) error {
		if row.Status != domain.RecurringActive {
			return domain.Conflictf(domain.ERECURRINGSTATE, "recurring invoice %s is %s; only an active one can be paused", row.ID, row.Status)
		}
		row.Status, row.NextIssueOn = domain.RecurringPaused, nil
		return nil
	})
}

// ResumeRecurringInvoice implements domain.RecurringService. Issuing
// starts again with the first period whose issue day is today or later in
// the client's time zone: the periods due while paused are skipped.
func (s *RecurringService) ResumeRecurringInvoice(ctx context.Context, id string) (*domain.RecurringInvoice, error) {
	return s.change(ctx, id, "recurring_invoice.resumed", func(tx *gorm.DB, row *recurringRow, t domain.RecurringInvoice) error {
		if row.Status != domain.RecurringPaused {
			return domain.Conflictf(domain.ERECURRINGSTATE, "recurring invoice %s is %s; only a paused one can be resumed", row.ID, row.Status)
		}
		c, err := findClient(tx, row.ClientID)
		if err != nil {
			return err
		}
		row.Status, row.IssueFrom = domain.RecurringActive, dateCol(domain.DateOf(s.db.now(), c.Location()))
		if done, err := row.plan(); err != nil || !done {
			return err
		}
		return s.end(ctx, tx, row, "completed")
	})
}

// CancelRecurringInvoice implements domain.RecurringService.
func (s *RecurringService) CancelRecurringInvoice(ctx context.Context, id string) (*domain.RecurringInvoice, error) {
	return s.change(ctx, id, "recurring_invoice.cancelled", func(tx *gorm.DB, row *recurringRow, _ domain.RecurringInvoice) error {
		if row.Status != domain.RecurringActive && row.Status != domain.RecurringPaused {
			return domain.Conflictf(domain.ERECURRINGSTATE, "recurring invoice %s is already %s", row.ID, row.Status)
		}
		row.Status = domain.RecurringCancelled
		return s.end(ctx, tx, row, "cancelled")
	})
}

// end closes a template (ended when its schedule is done, else the status
// set by the caller) and announces it once: the caller holds its lock and
// saves the row.
func (s *RecurringService) end(ctx context.Context, tx *gorm.DB, row *recurringRow, reason string) error {
	if reason == "completed" {
		row.Status = domain.RecurringEnded
	}
	row.NextIssueOn = nil
	return s.db.emit(ctx, tx, domain.EventRecurringInvoiceEnded, row.ClientID, "", map[string]any{
		"recurring_invoice_id": row.ID, "reason": reason, "invoices_issued": row.InvoicesIssued}, true)
}

// PreviewRecurringInvoice implements domain.RecurringService. A paused
// template shows what it would issue if resumed today.
func (s *RecurringService) PreviewRecurringInvoice(ctx context.Context, id string, count int) ([]domain.PreviewPeriod, error) {
	tx := s.db.reader(ctx)
	var row recurringRow
	if err := tx.Take(&row, "id = ?", id).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, domain.Errorf(domain.ENOTFOUND, "recurring invoice %s not found", id)
		}
		return nil, translate(err)
	}
	t, err := row.toDomain()
	if err != nil {
		return nil, err
	}
	out := []domain.PreviewPeriod{}
	if t.Status != domain.RecurringActive && t.Status != domain.RecurringPaused {
		return out, nil
	}
	if t.Status == domain.RecurringPaused {
		c, err := findClient(tx, row.ClientID)
		if err != nil {
			return nil, err
		}
		t.IssueFrom = domain.DateOf(s.db.now(), c.Location())
	}
	for _, p := range t.Next(count) {
		ag, err := agreementInForce(tx, t.ClientID, p.IssueOn)
		if err != nil {
			return nil, err
		}
		due, err := domain.DueDate(ag.PaymentTerms, p.IssueOn)
		if err != nil {
			return nil, err
		}
		out = append(out, domain.PreviewPeriod{BillingPeriod: p, DueDate: due})
	}
	return out, nil
}

// FindIssuedPeriods implements domain.RecurringService.
func (s *RecurringService) FindIssuedPeriods(ctx context.Context, id string) ([]domain.IssuedPeriod, error) {
	if _, err := s.FindRecurringInvoiceByID(ctx, id); err != nil {
		return nil, err
	}
	var rows []recurringPeriodRow
	if err := s.db.reader(ctx).Where("recurring_invoice_id = ?", id).Order("period_index").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.IssuedPeriod, len(rows))
	for i, r := range rows {
		out[i] = domain.IssuedPeriod{BillingPeriod: domain.BillingPeriod{Index: r.PeriodIndex, From: dateOf(&r.PeriodFrom),
			To: dateOf(&r.PeriodTo), IssueOn: dateOf(&r.IssueDate)}}
		if r.InvoiceID != nil {
			out[i].InvoiceID = *r.InvoiceID
		}
	}
	return out, nil
}

// IssueRecurringInvoices implements domain.RecurringService: every period
// whose issue day has come in its client's time zone is issued, oldest
// first, each in its own transaction under the template's lock; the row
// (template, period) makes a second issue impossible. One template's
// failure does not hold the others back; the failures are returned
// together after the rest are done.
func (s *RecurringService) IssueRecurringInvoices(ctx context.Context, now time.Time) (int, error) {
	// No time zone is a day ahead of UTC or more, so no client's today is
	// later than horizon.
	horizon := domain.DateOf(now, time.UTC).AddDays(1)
	var ids []string
	if err := s.db.reader(ctx).Model(&recurringRow{}).Where("status = ? AND next_issue_on <= ?", domain.RecurringActive, horizon.String()).
		Order("id").Pluck("id", &ids).Error; err != nil {
		return 0, translate(err)
	}
	issued := 0
	var errs []error
	for _, id := range ids {
		for {
			if err := ctx.Err(); err != nil {
				return issued, errors.Join(append(errs, err)...)
			}
			more, did, err := s.issueNext(ctx, id, now)
			if err != nil {
				errs = append(errs, fmt.Errorf("recurring invoice %s: %w", id, err))
				break
			}
			if did {
				issued++
			}
			if !more {
				break
			}
		}
	}
	return issued, errors.Join(errs...)
}

// issueNext issues the template's next period if its day has come, in one
// transaction. It reports whether it may have more to issue now and
// whether it issued an invoice.
func (s *RecurringService) issueNext(ctx context.Context, id string, now time.Time) (more, issued bool, err error) {
	err = s.db.tx(ctx, func(tx *gorm.DB) error {
		more, issued = false, false
		// Locked and read again: another run (here or on another replica)
		// may have issued since the candidates were listed.
		row, err := lockRecurring(tx, id)
		if err != nil || row.Status != domain.RecurringActive {
			return err
		}
		t, err := row.toDomain()
		if err != nil {
			return err
		}
		c, err := findClient(tx, row.ClientID)
		if err != nil {
			return err
		}
		next := t.Next(1)
		switch {
		case len(next) == 0:
			if err := s.end(ctx, tx, row, "completed"); err != nil {
				return err
			}
			return s.saveRow(tx, row)
		case c.Status == domain.ClientOffboarded:
			row.Status = domain.RecurringCancelled
			if err := s.end(ctx, tx, row, "client_offboarded"); err != nil {
				return err
			}
			return s.saveRow(tx, row)
		}
		p, today := next[0], domain.DateOf(now, c.Location())
		if p.IssueOn.After(today) {
			row.NextIssueOn = dateCol(p.IssueOn)
			return s.saveRow(tx, row)
		}
		claimed, err := s.claim(tx, row.ID, p)
		if err != nil {
			return err
		}
		row.LastPeriod, more = p.Index, true
		if claimed {
			if err := s.issuePeriod(ctx, tx, row, t, p); err != nil {
				return err
			}
			row.InvoicesIssued++
			issued = true
		}
		done, err := row.plan()
		if err != nil {
			return err
		}
		if done {
			if err := s.end(ctx, tx, row, "completed"); err != nil {
				return err
			}
			more = false
		}
		return s.saveRow(tx, row)
	})
	if err != nil {
		return false, false, err
	}
	return more, issued, nil
}

// saveRow writes a template row changed by the sweep.
func (s *RecurringService) saveRow(tx *gorm.DB, row *recurringRow) error {
	row.UpdatedAt = s.db.now()
	return tx.Save(row).Error
}

// claim inserts the row of period p; it reports false when the period was
// issued already (the key (template, period) exists).
func (s *RecurringService) claim(tx *gorm.DB, templateID string, p domain.BillingPeriod) (bool, error) {
	res, err := rawExec(tx, `INSERT INTO recurring_invoice_periods
		(recurring_invoice_id, period_index, period_from, period_to, issue_date, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (recurring_invoice_id, period_index) DO NOTHING`,
		templateID, p.Index, p.From.String(), p.To.String(), p.IssueOn.String(), s.db.now())
	if err != nil {
		return false, err
	}
	return res == 1, nil
}

// issuePeriod creates and issues period p's invoice, dated its issue day
// (so numbered in that year's series, under the agreement in force that
// day, due by its terms), links it to the period and announces it.
func (s *RecurringService) issuePeriod(ctx context.Context, tx *gorm.DB, row *recurringRow, t domain.RecurringInvoice,
	p domain.BillingPeriod) error {
	var words domain.PeriodWords = domain.EnglishPeriods{}
	if s.Words != nil {
		c, err := findClient(tx, row.ClientID)
		if err != nil {
			return err
		}
		words = s.Words(c.Language)
	}
	d := domain.InvoiceDraft{ClientID: row.ClientID, Currency: row.Currency, CurrencyOverride: true, IssueDate: p.IssueOn,
		Lines: t.InvoiceLinesIn(p, words), Memo: t.InvoiceMemoIn(p, words)}
	invoiceID, err := s.invoices.createInvoiceTx(ctx, tx, d)
	if err != nil {
		return err
	}
	if err := s.invoices.issue(ctx, tx, invoiceID); err != nil {
		return err
	}
	if err := tx.Model(&recurringPeriodRow{}).Where("recurring_invoice_id = ? AND period_index = ?", row.ID, p.Index).
		Update("invoice_id", invoiceID).Error; err != nil {
		return err
	}
	inv, err := lockInvoice(tx, invoiceID, false)
	if err != nil {
		return err
	}
	if t.AutoCharge && inv.Status == domain.InvoiceStatusOpen && inv.BalanceDue > 0 {
		if err := s.db.planAutoCharges(tx, invoiceID, dateOf(inv.DueDate)); err != nil {
			return err
		}
	}
	return s.db.emit(ctx, tx, domain.EventRecurringInvoiceIssued, row.ClientID, invoiceID, map[string]any{
		"recurring_invoice_id": row.ID, "invoice_id": invoiceID, "number": inv.Number, "period": p.Index + 1,
		"period_from": p.From, "period_to": p.To, "issue_date": dateOf(inv.IssueDate), "due_date": dateOf(inv.DueDate),
		"total": inv.Total, "currency": inv.Currency, "auto_charge": t.AutoCharge,
	}, true)
}
