package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// DocumentService implements domain.DocumentService. It only reads, each
// call in one read transaction, so a document never mixes two states of
// the ledger.
type DocumentService struct {
	db *DB
}

// NewDocumentService returns the document service on db.
func NewDocumentService(db *DB) *DocumentService { return &DocumentService{db: db} }

// snapshot runs fn in a read-only transaction on the reader handle: one
// snapshot on PostgreSQL (repeatable read) and on SQLite (WAL read
// transaction).
func (s *DocumentService) snapshot(ctx context.Context, fn func(tx *gorm.DB) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.db.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	return translate(s.db.reader(ctx).Transaction(fn, opts))
}

// InvoiceDocument implements domain.DocumentService.
func (s *DocumentService) InvoiceDocument(ctx context.Context, invoiceID string) (*domain.InvoiceDocument, error) {
	var doc domain.InvoiceDocument
	err := s.snapshot(ctx, func(tx *gorm.DB) error {
		row, err := lockInvoice(tx, invoiceID, false)
		if err != nil {
			return err
		}
		var lines []lineRow
		if err := tx.Where("invoice_id = ?", invoiceID).Order("position").Find(&lines).Error; err != nil {
			return err
		}
		doc.Invoice = row.toDomain(lines, s.db.now())
		c, err := findClient(tx, row.ClientID)
		if err != nil {
			return err
		}
		doc.Client = *c
		if doc.Invoice.Agreement != nil {
			doc.Agreement = *doc.Invoice.Agreement
		} else {
			// A draft: the version issuing it would store.
			day := doc.Invoice.IssueDate
			if day.IsZero() {
				day = domain.DateOf(s.db.now(), c.Location())
			}
			if doc.Agreement, err = agreementInForce(tx, row.ClientID, day); err != nil {
				return err
			}
		}
		byInvoice, err := loadLedgers(tx, []string{invoiceID})
		if err != nil {
			return err
		}
		l := byInvoice[invoiceID]
		doc.Charges, doc.Payments, doc.Refunds = l.charges, l.payments, l.refunds
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &doc, nil
}

// ledger is one invoice's charges, payments and refunds, oldest first.
type ledger struct {
	charges  []domain.Charge
	payments []domain.Payment
	refunds  []domain.Refund
}

// loadLedgers reads the charges, payments and refunds of the invoices in
// three queries.
func loadLedgers(tx *gorm.DB, ids []string) (map[string]*ledger, error) {
	out := make(map[string]*ledger, len(ids))
	for _, id := range ids {
		out[id] = &ledger{charges: []domain.Charge{}, payments: []domain.Payment{}, refunds: []domain.Refund{}}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var charges []chargeRow
	if err := tx.Where("invoice_id IN ?", ids).Order("posted_on, id").Find(&charges).Error; err != nil {
		return nil, err
	}
	for i := range charges {
		l := out[charges[i].InvoiceID]
		l.charges = append(l.charges, charges[i].toDomain())
	}
	var pays []paymentRow
	if err := tx.Where("invoice_id IN ?", ids).Order("paid_on, id").Find(&pays).Error; err != nil {
		return nil, err
	}
	for i := range pays {
		l := out[pays[i].InvoiceID]
		l.payments = append(l.payments, pays[i].toDomain())
	}
	var refs []refundRow
	if err := tx.Where("invoice_id IN ?", ids).Order("refunded_on, id").Find(&refs).Error; err != nil {
		return nil, err
	}
	for i := range refs {
		l := out[refs[i].InvoiceID]
		l.refunds = append(l.refunds, refs[i].toDomain())
	}
	return out, nil
}

// openWithBalance selects a client's open and uncollectible invoices in
// currency that still owe something.
func openWithBalance(tx *gorm.DB, clientID, currency string) *gorm.DB {
	return tx.Where("client_id = ? AND currency = ? AND status IN ? AND balance_due > 0", clientID, currency,
		[]string{domain.InvoiceStatusOpen, domain.InvoiceStatusUncollectible}).Order("due_date, number, id")
}

// Statement implements domain.DocumentService.
func (s *DocumentService) Statement(ctx context.Context, clientID, currency string, asOf domain.Date) (*domain.Statement, error) {
	var st domain.Statement
	err := s.snapshot(ctx, func(tx *gorm.DB) error {
		c, err := findClient(tx, clientID)
		if err != nil {
			return err
		}
		if currency == "" {
			currency = c.Currency
		} else if !domain.ValidCurrency(currency) {
			return fieldError("currency", "must be an ISO 4217 currency code in upper case, such as EUR")
		}
		today := domain.DateOf(s.db.now(), c.Location())
		switch {
		case asOf.IsZero():
			asOf = today
		case asOf.Before(today):
			return fieldError("as_of", fmt.Sprintf("must not be before today (%s in %s): a statement shows the ledger as it stands, with interest through as_of", today, c.Timezone))
		case asOf.After(today.AddDays(domain.MaxStatementDaysAhead)):
			return fieldError("as_of", fmt.Sprintf("must be at most %d days after today (%s)", domain.MaxStatementDaysAhead, today))
		}
		st = domain.Statement{Client: *c, Currency: currency, AsOf: asOf, Invoices: []domain.StatementInvoice{}}

		var rows []invoiceRow
		if err := openWithBalance(tx, clientID, currency).Where("issue_date <= ?", asOf.String()).Find(&rows).Error; err != nil {
			return err
		}
		ids := make([]string, len(rows))
		for i := range rows {
			ids[i] = rows[i].ID
		}
		ledgers, err := loadLedgers(tx, ids)
		if err != nil {
			return err
		}
		now := s.db.now()
		for i := range rows {
			row := &rows[i]
			lr, err := s.db.loadFacts(tx, row)
			if err != nil {
				return err
			}
			f := lr.facts
			l := ledgers[row.ID]
			line, err := domain.StatementLine(row.toDomain(nil, now), l.charges, l.payments, f, asOf)
			var missing *domain.MissingRateError
			if errors.As(err, &missing) {
				return domain.Unprocessablef(domain.EMISSINGRATE, "invoice %s: %s; load it with PUT /v1/reference_rates/%s",
					orID(row), missing.Error(), missing.Series)
			}
			if err != nil {
				return err
			}
			if line.CreditNotes, err = invoiceCreditNotes(tx, row); err != nil {
				return err
			}
			st.Invoices = append(st.Invoices, line)
			st.TotalDue += line.AmountDue
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// orID names an invoice by its number, or by its id when it has none.
func orID(row *invoiceRow) string {
	if row.Number != nil && *row.Number != "" {
		return *row.Number
	}
	return row.ID
}

// Notice implements domain.DocumentService.
func (s *DocumentService) Notice(ctx context.Context, clientID, eventID string) (*domain.NoticeDocument, error) {
	var doc domain.NoticeDocument
	err := s.snapshot(ctx, func(tx *gorm.DB) error {
		var ev eventRow
		err := tx.Where("id = ? AND client_id = ?", eventID, clientID).Limit(1).Find(&ev).Error
		if err != nil {
			return err
		}
		if ev.ID == "" || !domain.IsNoticeEvent(ev.Type) {
			return domain.Errorf(domain.ENOTFOUND, "client %s has no notice %s", clientID, eventID)
		}
		c, err := findClient(tx, clientID)
		if err != nil {
			return err
		}
		doc = domain.NoticeDocument{Event: ev.toDomain(), Client: *c, Date: domain.DateOf(ev.CreatedAt, c.Location())}
		if ev.Type == domain.EventAgreementNotice {
			return nil
		}
		var rows []invoiceRow
		if err := openWithBalance(tx, clientID, c.Currency).Where("overdue_from <= ?", doc.Date.String()).Find(&rows).Error; err != nil {
			return err
		}
		now := s.db.now()
		for i := range rows {
			inv := rows[i].toDomain(nil, now)
			line := domain.StatementInvoice{ID: inv.ID, Number: inv.Number, Status: inv.Status, IssueDate: inv.IssueDate, DueDate: inv.DueDate,
				Total: inv.Total, ChargesTotal: inv.ChargesTotal, AmountPaid: inv.AmountPaid, CreditApplied: inv.CreditApplied,
				BalanceDue: inv.BalanceDue, AmountDue: inv.BalanceDue}
			if from := dateOf(rows[i].OverdueFrom); !from.IsZero() {
				line.DaysOverdue = doc.Date.DaysSince(from) + 1
			}
			doc.Invoices = append(doc.Invoices, line)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &doc, nil
}

// Notices implements domain.DocumentService.
func (s *DocumentService) Notices(ctx context.Context, clientID string, limit int) ([]domain.Event, error) {
	tx := s.db.reader(ctx)
	if _, err := findClient(tx, clientID); err != nil {
		return nil, err
	}
	var rows []eventRow
	err := tx.Where("client_id = ? AND type IN ?", clientID, domain.NoticeEventTypes()).Order("id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Event, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}
