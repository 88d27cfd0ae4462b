package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// creditNotePrefix starts every credit note id (and so the key of the client
// credit a credit note creates).
const creditNotePrefix = "cn"

// creditNoteRow is the credit_notes table.
type creditNoteRow struct {
	ID             string
	Number         string
	InvoiceID      string
	ClientID       string
	Currency       string
	IssueDate      string
	Reason         string
	Lines          string
	Subtotal       int64
	Tax            int64
	Amount         int64
	AllocPrincipal int64
	AllocCredit    int64
	CreatedAt      time.Time `gorm:"autoCreateTime:false"`
}

func (creditNoteRow) TableName() string { return "credit_notes" }

func (r *creditNoteRow) toDomain(invoiceNumber string) domain.CreditNote {
	n := domain.CreditNote{ID: r.ID, Number: r.Number, InvoiceID: r.InvoiceID, InvoiceNumber: invoiceNumber, ClientID: r.ClientID,
		Currency: r.Currency, IssueDate: dateOf(&r.IssueDate), Reason: r.Reason, Subtotal: r.Subtotal, Tax: r.Tax, Amount: r.Amount,
		AppliedToInvoice: r.AllocPrincipal, CreditCreated: r.AllocCredit, CreatedAt: r.CreatedAt.UTC(), Lines: []domain.InvoiceLine{}}
	_ = json.Unmarshal([]byte(r.Lines), &n.Lines)
	return n
}

// creditNoteAlloc is what the ledger reads of a credit note.
type creditNoteAlloc struct {
	ID, InvoiceID, IssueDate    string
	Amount                      int64
	AllocPrincipal, AllocCredit int64
}

// loadCreditNoteAllocs reads the credit notes of the invoices ids.
func loadCreditNoteAllocs(tx *gorm.DB, ids []any) ([]creditNoteAlloc, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")"
	var out []creditNoteAlloc
	err := rawQuery(tx, "SELECT id, invoice_id, issue_date, amount, alloc_principal, alloc_credit FROM credit_notes WHERE invoice_id IN "+in+
		" ORDER BY issue_date, id", ids, func(scan func(dest ...any) error) error {
		var n creditNoteAlloc
		if err := scan(&n.ID, &n.InvoiceID, &n.IssueDate, &n.Amount, &n.AllocPrincipal, &n.AllocCredit); err != nil {
			return err
		}
		out = append(out, n)
		return nil
	})
	return out, err
}

// creditNoteFacts returns the credit notes as dated facts.
func creditNoteFacts(notes []creditNoteAlloc) []domain.CreditNoteFact {
	var out []domain.CreditNoteFact
	for _, n := range notes {
		out = append(out, domain.CreditNoteFact{ID: n.ID, On: dateOf(&n.IssueDate), Amount: n.Amount})
	}
	return out
}

// CreditNoteService implements domain.CreditNoteService.
type CreditNoteService struct{ db *DB }

// NewCreditNoteService returns the credit note service on db.
func NewCreditNoteService(db *DB) *CreditNoteService { return &CreditNoteService{db: db} }

// IssueCreditNote implements domain.CreditNoteService.
func (s *CreditNoteService) IssueCreditNote(ctx context.Context, invoiceID string, in domain.CreditNoteInput) (*domain.CreditNote, error) {
	lines, subtotal, tax, amount, err := in.Validate()
	if err != nil {
		return nil, err
	}
	var id string
	err = s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := lockInvoice(tx, invoiceID, true)
		if err != nil {
			return err
		}
		switch row.Status {
		case domain.InvoiceStatusDraft:
			return domain.Conflictf(domain.EINVOICENOTOPEN, "invoice %s is a draft; edit or void it instead", invoiceID)
		case domain.InvoiceStatusVoid:
			return domain.Conflictf(domain.EINVOICEVOID, "invoice %s is void", invoiceID)
		}
		loc, err := domain.LoadZone(row.Timezone)
		if err != nil {
			return err
		}
		today := domain.DateOf(s.db.now(), loc)
		on := in.IssueDate
		switch {
		case on.IsZero():
			on = today
		case on.After(today):
			return fieldError("issue_date", "must not be after today ("+today.String()+")")
		case on.Before(dateOf(row.IssueDate)):
			return fieldError("issue_date", "must not be before the invoice's issue date "+dateOf(row.IssueDate).String())
		}
		id, err = s.db.issueCreditNote(ctx, tx, row, on, in.Reason, lines, subtotal, tax, amount)
		if err != nil {
			return err
		}
		_, err = s.db.refresh(ctx, tx, invoiceID, on)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.FindCreditNoteByID(ctx, id)
}

// issueCreditNote numbers and writes a credit note of amount on the invoice
// row (locked by the caller) and announces it; the caller refreshes the
// invoice. More than the total not yet credited is refused.
func (db *DB) issueCreditNote(ctx context.Context, tx *gorm.DB, row *invoiceRow, on domain.Date, reason string,
	lines []domain.InvoiceLine, subtotal, tax, amount int64) (string, error) {
	var credited int64
	if err := rawScan(tx, "SELECT COALESCE(SUM(amount), 0) FROM credit_notes WHERE invoice_id = ?", []any{row.ID}, &credited); err != nil {
		return "", err
	}
	if left := row.Total - credited; amount > left {
		return "", fieldError("amount", fmt.Sprintf("%s is more than the %s of the invoice not yet credited",
			domain.FormatMoney(amount, row.Currency), domain.FormatMoney(left, row.Currency)))
	}
	number, err := nextNumber(tx, fmt.Sprintf("CN-%04d", on.Year()))
	if err != nil {
		return "", err
	}
	if lines == nil {
		lines = []domain.InvoiceLine{}
	}
	raw, err := json.Marshal(lines)
	if err != nil {
		return "", err
	}
	n := creditNoteRow{ID: db.newID(creditNotePrefix), Number: number, InvoiceID: row.ID, ClientID: row.ClientID, Currency: row.Currency,
		IssueDate: on.String(), Reason: reason, Lines: string(raw), Subtotal: subtotal, Tax: tax, Amount: amount, CreatedAt: db.now()}
	if err := tx.Create(&n).Error; err != nil {
		return "", translate(err)
	}
	invoiceNumber := ""
	if row.Number != nil {
		invoiceNumber = *row.Number
	}
	return n.ID, db.emit(ctx, tx, domain.EventCreditNoteIssued, row.ClientID, row.ID, map[string]any{
		"id": n.ID, "number": number, "invoice_id": row.ID, "invoice_number": invoiceNumber, "issue_date": on, "amount": amount,
		"currency": row.Currency, "reason": reason,
	}, true)
}

// FindCreditNoteByID implements domain.CreditNoteService.
func (s *CreditNoteService) FindCreditNoteByID(ctx context.Context, id string) (*domain.CreditNote, error) {
	var row creditNoteRow
	if err := s.db.reader(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, domain.Errorf(domain.ENOTFOUND, "credit note %s not found", id)
		}
		return nil, translate(err)
	}
	numbers, err := invoiceNumbers(s.db.reader(ctx), []string{row.InvoiceID})
	if err != nil {
		return nil, err
	}
	n := row.toDomain(numbers[row.InvoiceID])
	return &n, nil
}

// FindCreditNotes implements domain.CreditNoteService.
func (s *CreditNoteService) FindCreditNotes(ctx context.Context, f domain.CreditNoteFilter) (domain.Page[domain.CreditNote], error) {
	q := s.db.reader(ctx).Model(&creditNoteRow{})
	if f.ClientID != "" {
		q = q.Where("client_id = ?", f.ClientID)
	}
	if f.InvoiceID != "" {
		q = q.Where("invoice_id = ?", f.InvoiceID)
	}
	if !f.From.IsZero() {
		q = q.Where("issue_date >= ?", f.From.String())
	}
	if !f.To.IsZero() {
		q = q.Where("issue_date <= ?", f.To.String())
	}
	var rows []creditNoteRow
	if err := page(q, f.Page).Find(&rows).Error; err != nil {
		return domain.Page[domain.CreditNote]{}, translate(err)
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].InvoiceID
	}
	numbers, err := invoiceNumbers(s.db.reader(ctx), ids)
	if err != nil {
		return domain.Page[domain.CreditNote]{}, err
	}
	return finishPage(rows, f.Page, func(r *creditNoteRow) domain.CreditNote { return r.toDomain(numbers[r.InvoiceID]) }), nil
}

// invoiceCreditNotes returns the credit notes of an invoice, oldest first.
func invoiceCreditNotes(tx *gorm.DB, inv *invoiceRow) ([]domain.CreditNote, error) {
	var rows []creditNoteRow
	if err := tx.Where("invoice_id = ?", inv.ID).Order("issue_date, id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.CreditNote, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain(orID(inv))
	}
	return out, nil
}

// invoiceNumbers returns the numbers of the invoices ids.
func invoiceNumbers(tx *gorm.DB, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID     string
		Number *string
	}
	if err := tx.Table("invoices").Select("id, number").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	for _, r := range rows {
		if r.Number != nil {
			out[r.ID] = *r.Number
		}
	}
	return out, nil
}
