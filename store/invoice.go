package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/remit/remit/domain"
)

// invoiceRow is the invoices table. The money columns are caches of the
// ledger rows, recomputed by refresh in every transaction that changes them.
type invoiceRow struct {
	ID            string
	ClientID      string
	Number        *string
	Status        string
	Currency      string
	Timezone      string
	Memo          string
	IssueDate     *string
	DueDate       *string
	OverdueFrom   *string
	OverdueAt     *time.Time
	PaidOn        *string
	Subtotal      int64
	Tax           int64
	Total         int64
	ChargesTotal  int64
	AmountPaid    int64
	CreditApplied int64
	CreditCreated int64
	PrincipalPaid int64
	BalanceDue    int64
	AgreementID   *string
	Agreement     *string
	Disputed      bool
	Processing    int
	NextActionOn  *string
	CreatedAt     time.Time  `gorm:"autoCreateTime:false"`
	UpdatedAt     time.Time  `gorm:"autoUpdateTime:false"`
	IssuedAt      *time.Time `gorm:"autoCreateTime:false"`
}

func (invoiceRow) TableName() string { return "invoices" }

// lineRow is the invoice_lines table.
type lineRow struct {
	InvoiceID   string `gorm:"primaryKey"`
	Position    int    `gorm:"primaryKey"`
	Description string
	Quantity    string
	UnitAmount  int64
	TaxRate     string
	Amount      int64
	Tax         int64
}

func (lineRow) TableName() string { return "invoice_lines" }

// agreement returns the version stored on the invoice (zero before issue).
func (r *invoiceRow) agreement() (domain.Agreement, error) {
	var a domain.Agreement
	if r.Agreement == nil {
		return a, nil
	}
	err := json.Unmarshal([]byte(*r.Agreement), &a)
	return a, err
}

// toDomain converts the row; today is the date in the invoice's time zone,
// for days_overdue.
func (r *invoiceRow) toDomain(lines []lineRow, now time.Time) domain.Invoice {
	inv := domain.Invoice{
		ID: r.ID, ClientID: r.ClientID, Status: r.Status, Currency: r.Currency, Timezone: r.Timezone, Memo: r.Memo,
		IssueDate: dateOf(r.IssueDate), DueDate: dateOf(r.DueDate), PaidOn: dateOf(r.PaidOn),
		Subtotal: r.Subtotal, Tax: r.Tax, Total: r.Total, ChargesTotal: r.ChargesTotal, AmountPaid: r.AmountPaid,
		CreditApplied: r.CreditApplied, CreditCreated: r.CreditCreated, BalanceDue: r.BalanceDue,
		Disputed: r.Disputed, PaymentProcessing: r.Processing > 0,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Lines: make([]domain.InvoiceLine, 0, len(lines)),
	}
	if r.Number != nil {
		inv.Number = *r.Number
	}
	if r.IssuedAt != nil {
		t := r.IssuedAt.UTC()
		inv.IssuedAt = &t
	}
	if a, err := r.agreement(); err == nil && r.Agreement != nil {
		inv.Agreement = &a
	}
	if from := dateOf(r.OverdueFrom); !from.IsZero() && r.BalanceDue > 0 &&
		(r.Status == domain.InvoiceStatusOpen || r.Status == domain.InvoiceStatusUncollectible) {
		if loc, err := domain.LoadZone(r.Timezone); err == nil {
			if today := domain.DateOf(now, loc); !today.Before(from) {
				inv.DaysOverdue = today.DaysSince(from) + 1
			}
		}
	}
	for _, l := range lines {
		inv.Lines = append(inv.Lines, domain.InvoiceLine{Description: l.Description, Quantity: l.Quantity, UnitAmount: l.UnitAmount,
			TaxRate: l.TaxRate, Amount: l.Amount, Tax: l.Tax})
	}
	return inv
}

// InvoiceService implements domain.InvoiceService.
type InvoiceService struct {
	db *DB
}

// NewInvoiceService returns the invoice service on db.
func NewInvoiceService(db *DB) *InvoiceService { return &InvoiceService{db: db} }

// CreateInvoice implements domain.InvoiceService.
func (s *InvoiceService) CreateInvoice(ctx context.Context, d domain.InvoiceDraft) (*domain.Invoice, error) {
	// Refuse bad input before taking the writer; createInvoiceTx checks again.
	if _, _, _, err := d.Validate(); err != nil {
		return nil, err
	}
	var id string
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if id, err = s.createInvoiceTx(ctx, tx, d); err != nil {
			return err
		}
		if d.Issue {
			return s.issue(ctx, tx, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.FindInvoiceByID(ctx, id)
}

// createInvoiceTx validates d and stores it as a draft in tx (d.Issue is
// the caller's to act on), returning the new invoice's id.
func (s *InvoiceService) createInvoiceTx(ctx context.Context, tx *gorm.DB, d domain.InvoiceDraft) (string, error) {
	lines, subtotal, tax, err := d.Validate()
	if err != nil {
		return "", err
	}
	c, err := findClient(tx, d.ClientID)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return "", &domain.Error{Code: domain.EINVALID, Message: "client_id: no client " + d.ClientID, Fields: map[string]string{"client_id": "no such client"}}
	}
	if err != nil {
		return "", err
	}
	if c.Status == domain.ClientOffboarded {
		return "", domain.Conflictf(domain.ECLIENTOFFBOARDED, "client %s is offboarded and read-only", c.ID)
	}
	cur := d.Currency
	switch {
	case cur == "":
		cur = c.Currency
	case !domain.ValidCurrency(cur):
		return "", fieldError("currency", "must be an ISO 4217 currency code in upper case, such as EUR")
	case cur != c.Currency && !d.CurrencyOverride:
		return "", fieldError("currency", fmt.Sprintf("differs from the client's currency %s; send \"currency_override\": true to bill in %s anyway", c.Currency, cur))
	}
	now := s.db.now()
	row := invoiceRow{
		ID: s.db.newID("inv"), ClientID: c.ID, Status: domain.InvoiceStatusDraft, Currency: cur, Timezone: c.Timezone,
		Memo: d.Memo, IssueDate: dateCol(d.IssueDate), DueDate: dateCol(d.DueDate),
		Subtotal: subtotal, Tax: tax, Total: subtotal + tax, BalanceDue: subtotal + tax, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.Create(&row).Error; err != nil {
		return "", err
	}
	if err := insertLines(tx, row.ID, lines); err != nil {
		return "", err
	}
	if err := s.db.emit(ctx, tx, "invoice.created", c.ID, row.ID, map[string]any{"total": row.Total, "currency": cur}, false); err != nil {
		return "", err
	}
	return row.ID, nil
}

func insertLines(tx *gorm.DB, invoiceID string, lines []domain.InvoiceLine) error {
	rows := make([]lineRow, len(lines))
	for i, l := range lines {
		rows[i] = lineRow{InvoiceID: invoiceID, Position: i, Description: l.Description, Quantity: l.Quantity,
			UnitAmount: l.UnitAmount, TaxRate: l.TaxRate, Amount: l.Amount, Tax: l.Tax}
	}
	return tx.CreateInBatches(rows, 100).Error
}

// fieldError returns an EINVALID error for one field.
func fieldError(field, msg string) error {
	return &domain.Error{Code: domain.EINVALID, Message: field + ": " + msg, Fields: map[string]string{field: msg}}
}

// FindInvoiceByID implements domain.InvoiceService.
func (s *InvoiceService) FindInvoiceByID(ctx context.Context, id string) (*domain.Invoice, error) {
	return s.findInvoice(s.db.reader(ctx), id)
}

func (s *InvoiceService) findInvoice(tx *gorm.DB, id string) (*domain.Invoice, error) {
	row, err := lockInvoice(tx, id, false)
	if err != nil {
		return nil, err
	}
	var lines []lineRow
	if err := tx.Where("invoice_id = ?", id).Order("position").Find(&lines).Error; err != nil {
		return nil, translate(err)
	}
	inv := row.toDomain(lines, s.db.now())
	return &inv, nil
}

// lockInvoice reads an invoice row; with forUpdate it locks it on PostgreSQL
// (SQLite's single writer already serialises).
func lockInvoice(tx *gorm.DB, id string, forUpdate bool) (*invoiceRow, error) {
	var row invoiceRow
	q := tx
	if forUpdate && tx.Dialector.Name() == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Take(&row, "id = ?", id).Error; err != nil {
		if domain.ErrorCode(translate(err)) == domain.ENOTFOUND {
			return nil, domain.Errorf(domain.ENOTFOUND, "invoice %s not found", id)
		}
		return nil, translate(err)
	}
	return &row, nil
}

// FindInvoices implements domain.InvoiceService.
func (s *InvoiceService) FindInvoices(ctx context.Context, f domain.InvoiceFilter) (domain.Page[domain.Invoice], error) {
	q := s.db.reader(ctx).Model(&invoiceRow{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.ClientID != "" {
		q = q.Where("client_id = ?", f.ClientID)
	}
	if f.Overdue {
		q = q.Where("status IN ? AND balance_due > 0 AND overdue_at <= ?", []string{domain.InvoiceStatusOpen, domain.InvoiceStatusUncollectible}, s.db.now())
	}
	for _, c := range []struct {
		col, op string
		d       domain.Date
	}{{"issue_date", ">=", f.IssuedFrom}, {"issue_date", "<=", f.IssuedTo}, {"due_date", ">=", f.DueFrom}, {"due_date", "<=", f.DueTo}} {
		if !c.d.IsZero() {
			q = q.Where(c.col+" "+c.op+" ?", c.d.String())
		}
	}
	var rows []invoiceRow
	if err := page(q, f.Page).Find(&rows).Error; err != nil {
		return domain.Page[domain.Invoice]{}, translate(err)
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	byInvoice := map[string][]lineRow{}
	if len(ids) > 0 {
		var lines []lineRow
		if err := s.db.reader(ctx).Where("invoice_id IN ?", ids).Order("invoice_id, position").Find(&lines).Error; err != nil {
			return domain.Page[domain.Invoice]{}, translate(err)
		}
		for _, l := range lines {
			byInvoice[l.InvoiceID] = append(byInvoice[l.InvoiceID], l)
		}
	}
	now := s.db.now()
	return finishPage(rows, f.Page, func(r *invoiceRow) domain.Invoice { return r.toDomain(byInvoice[r.ID], now) }), nil
}

// UpdateInvoice implements domain.InvoiceService.
func (s *InvoiceService) UpdateInvoice(ctx context.Context, id string, u domain.InvoiceUpdate) (*domain.Invoice, error) {
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := lockInvoice(tx, id, true)
		if err != nil {
			return err
		}
		if row.Status != domain.InvoiceStatusDraft {
			return domain.Conflictf(domain.EINVOICENOTDRAFT, "invoice %s is %s; only a draft can be changed", id, row.Status)
		}
		f := domain.FieldErrors{}
		if u.Memo != nil {
			row.Memo = *u.Memo
		}
		if u.IssueDate != nil {
			row.IssueDate = dateCol(*u.IssueDate)
		}
		if u.DueDate != nil {
			row.DueDate = dateCol(*u.DueDate)
		}
		issue, due := dateOf(row.IssueDate), dateOf(row.DueDate)
		if !issue.IsZero() && !due.IsZero() && due.Before(issue) {
			f.Add("due_date", "must not be before issue_date")
		}
		var lines []domain.InvoiceLine
		if u.Lines != nil {
			lines, row.Subtotal, row.Tax = domain.PriceLines(*u.Lines, f)
			row.Total = row.Subtotal + row.Tax
			row.BalanceDue = row.Total
		}
		domain.CheckMemo(f, row.Memo)
		if err := f.Err(); err != nil {
			return err
		}
		row.UpdatedAt = s.db.now()
		if err := tx.Save(row).Error; err != nil {
			return err
		}
		if u.Lines != nil {
			if err := tx.Where("invoice_id = ?", id).Delete(&lineRow{}).Error; err != nil {
				return err
			}
			if err := insertLines(tx, id, lines); err != nil {
				return err
			}
		}
		return s.db.emit(ctx, tx, "invoice.updated", row.ClientID, id, map[string]any{"total": row.Total}, false)
	})
	if err != nil {
		return nil, err
	}
	return s.FindInvoiceByID(ctx, id)
}

// IssueInvoice implements domain.InvoiceService.
func (s *InvoiceService) IssueInvoice(ctx context.Context, id string) (*domain.Invoice, error) {
	if err := s.db.tx(ctx, func(tx *gorm.DB) error { return s.issue(ctx, tx, id) }); err != nil {
		return nil, err
	}
	return s.FindInvoiceByID(ctx, id)
}

// issue numbers a draft, fixes its dates and agreement, applies client
// credit, and opens it.
func (s *InvoiceService) issue(ctx context.Context, tx *gorm.DB, id string) error {
	row, err := lockInvoice(tx, id, true)
	if err != nil {
		return err
	}
	if row.Status != domain.InvoiceStatusDraft {
		return domain.Conflictf(domain.EINVOICENOTDRAFT, "invoice %s is %s; only a draft can be issued", id, row.Status)
	}
	loc, err := domain.LoadZone(row.Timezone)
	if err != nil {
		return err
	}
	now := s.db.now()
	issued := dateOf(row.IssueDate)
	if issued.IsZero() {
		issued = domain.DateOf(now, loc)
	}
	ag, err := agreementInForce(tx, row.ClientID, issued)
	if err != nil {
		return err
	}
	due := dateOf(row.DueDate)
	if due.IsZero() {
		if due, err = domain.DueDate(ag.PaymentTerms, issued); err != nil {
			return err
		}
	}
	if due.Before(issued) {
		return fieldError("due_date", "must not be before issue_date")
	}
	number, err := nextNumber(tx, fmt.Sprintf("INV-%04d", issued.Year()))
	if err != nil {
		return err
	}
	terms, err := json.Marshal(ag)
	if err != nil {
		return err
	}
	overdue := domain.DayOneOverdue(due, ag.GraceDays)
	overdueAt := overdue.Midnight(loc).UTC()
	agJSON := string(terms)
	row.Status, row.Number, row.IssueDate, row.DueDate = domain.InvoiceStatusOpen, &number, dateCol(issued), dateCol(due)
	row.OverdueFrom, row.OverdueAt, row.Agreement, row.IssuedAt, row.UpdatedAt = dateCol(overdue), &overdueAt, &agJSON, &now, now
	if ag.ID != "" {
		row.AgreementID = &ag.ID
	}
	row.NextActionOn = dateCol(domain.NextActionOn(ag, due, issued.AddDays(-1), row.Total == 0))
	if err := tx.Save(row).Error; err != nil {
		return err
	}
	if err := s.db.emit(ctx, tx, "invoice.issued", row.ClientID, id, map[string]any{
		"number": number, "issue_date": issued, "due_date": due, "total": row.Total, "currency": row.Currency, "agreement_version": ag.Version,
	}, true); err != nil {
		return err
	}
	applied, err := s.applyCredit(ctx, tx, row)
	if err != nil || applied == 0 {
		// Without credit the figures saved above stand (balance = total).
		return err
	}
	_, err = s.db.refresh(ctx, tx, id, issued)
	return err
}

// nextNumber returns the next number of a series, gapless: the counter row
// is bumped inside the issuing transaction, so a rollback gives it back and
// concurrent issuers queue on the row (PostgreSQL) or the writer (SQLite).
func nextNumber(tx *gorm.DB, series string) (string, error) {
	if err := tx.Exec("INSERT INTO invoice_counters (series, last_number) VALUES (?, 0) ON CONFLICT (series) DO NOTHING", series).Error; err != nil {
		return "", err
	}
	var n int64
	if err := tx.Raw("UPDATE invoice_counters SET last_number = last_number + 1 WHERE series = ? RETURNING last_number", series).Scan(&n).Error; err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%04d", series, n), nil
}

// VoidInvoice implements domain.InvoiceService.
func (s *InvoiceService) VoidInvoice(ctx context.Context, id string) (*domain.Invoice, error) {
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := lockInvoice(tx, id, true)
		if err != nil {
			return err
		}
		switch {
		case row.Status == domain.InvoiceStatusVoid:
			return domain.Conflictf(domain.EINVOICEVOID, "invoice %s is already void", id)
		case row.Status == domain.InvoiceStatusPaid:
			return domain.Conflictf(domain.EINVOICEPAID, "invoice %s is paid; refund its payments first", id)
		case row.AmountPaid > 0:
			return domain.Conflictf(domain.EINVOICEHASPAYMENTS, "invoice %s has received %s; refund its payments first", id, domain.FormatMoney(row.AmountPaid, row.Currency))
		}
		if row.CreditApplied > 0 {
			// The client's credit used here goes back to the client.
			if err := s.db.addCredit(tx, row.ClientID, row.Currency, row.CreditApplied, "released", row.ID, ""); err != nil {
				return err
			}
		}
		row.Status, row.UpdatedAt = domain.InvoiceStatusVoid, s.db.now()
		if err := tx.Save(row).Error; err != nil {
			return err
		}
		if _, err := s.db.refresh(ctx, tx, id, domain.Date{}); err != nil {
			return err
		}
		if err := s.db.emit(ctx, tx, "invoice.voided", row.ClientID, id, map[string]any{"number": row.Number}, false); err != nil {
			return err
		}
		return s.db.afterInvoiceVoided(ctx, tx, row)
	})
	if err != nil {
		return nil, err
	}
	return s.FindInvoiceByID(ctx, id)
}

// MarkUncollectible implements domain.InvoiceService.
func (s *InvoiceService) MarkUncollectible(ctx context.Context, id string) (*domain.Invoice, error) {
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := lockInvoice(tx, id, true)
		if err != nil {
			return err
		}
		if row.Status != domain.InvoiceStatusOpen {
			return domain.Conflictf(domain.EINVOICENOTOPEN, "invoice %s is %s; only an open invoice can be marked uncollectible", id, row.Status)
		}
		row.Status, row.UpdatedAt = domain.InvoiceStatusUncollectible, s.db.now()
		if err := tx.Save(row).Error; err != nil {
			return err
		}
		return s.db.emit(ctx, tx, "invoice.marked_uncollectible", row.ClientID, id, map[string]any{"balance_due": row.BalanceDue}, false)
	})
	if err != nil {
		return nil, err
	}
	return s.FindInvoiceByID(ctx, id)
}

// FindEvents implements domain.InvoiceService.
func (s *InvoiceService) FindEvents(ctx context.Context, invoiceID string, p domain.PageParams) (domain.Page[domain.Event], error) {
	if _, err := lockInvoice(s.db.reader(ctx), invoiceID, false); err != nil {
		return domain.Page[domain.Event]{}, err
	}
	var rows []eventRow
	if err := pageAsc(s.db.reader(ctx).Where("invoice_id = ?", invoiceID), p).Find(&rows).Error; err != nil {
		return domain.Page[domain.Event]{}, translate(err)
	}
	return finishPage(rows, p, (*eventRow).toDomain), nil
}
