package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/remit/remit/domain"
)

// unappliedRow is the unapplied_payments table.
type unappliedRow struct {
	ID               string
	PaymentIntentID  string
	InvoiceID        string
	ClientID         string
	Amount           int64
	Currency         string
	Reason           string
	Status           string
	AppliedInvoiceID string
	PaymentID        string
	RefundID         string
	ReceivedAt       time.Time
	ResolvedAt       *time.Time
	CreatedAt        time.Time `gorm:"autoCreateTime:false"`
}

func (unappliedRow) TableName() string { return "unapplied_payments" }

func (r *unappliedRow) toDomain() domain.UnappliedPayment {
	return domain.UnappliedPayment{ID: r.ID, PaymentIntentID: r.PaymentIntentID, InvoiceID: r.InvoiceID, ClientID: r.ClientID,
		Amount: r.Amount, Currency: r.Currency, Reason: r.Reason, Status: r.Status, AppliedInvoiceID: r.AppliedInvoiceID,
		PaymentID: r.PaymentID, RefundID: r.RefundID, ReceivedAt: r.ReceivedAt.UTC(), ResolvedAt: utcPtr(r.ResolvedAt),
		CreatedAt: r.CreatedAt.UTC()}
}

// recordUnapplied keeps a succeeded PaymentIntent's money that no invoice
// took, once per intent, and announces it (payment.unapplied, to webhooks
// and to the business by e-mail). It returns the row's id, "" when the
// intent was recorded before.
func (db *DB) recordUnapplied(ctx context.Context, tx *gorm.DB, intent *intentRow, reason, invoiceID, clientID string) (string, error) {
	now := db.now()
	received := now
	if intent.StatusAt != nil {
		received = intent.StatusAt.UTC()
	}
	row := unappliedRow{ID: db.newID("upa"), PaymentIntentID: intent.ID, InvoiceID: invoiceID, ClientID: clientID,
		Amount: intent.Amount, Currency: intent.Currency, Reason: reason, Status: domain.UnappliedOpen,
		ReceivedAt: received, CreatedAt: now}
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "payment_intent_id"}}, DoNothing: true}).Create(&row)
	if res.Error != nil || res.RowsAffected == 0 {
		return "", res.Error
	}
	return row.ID, db.emit(ctx, tx, domain.EventPaymentUnapplied, clientID, invoiceID, row.toDomain(), true)
}

// UnappliedPaymentService implements domain.UnappliedPaymentService.
type UnappliedPaymentService struct {
	db       *DB
	invoices *InvoiceService
	// Stripe refunds unapplied payments; nil when Stripe is off.
	Stripe domain.PaymentGateway
}

// NewUnappliedPaymentService returns the service on db.
func NewUnappliedPaymentService(db *DB) *UnappliedPaymentService {
	return &UnappliedPaymentService{db: db, invoices: NewInvoiceService(db)}
}

// FindUnappliedPayments implements domain.UnappliedPaymentService.
func (s *UnappliedPaymentService) FindUnappliedPayments(ctx context.Context, f domain.UnappliedFilter) (domain.Page[domain.UnappliedPayment], error) {
	q := s.db.reader(ctx).Model(&unappliedRow{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var rows []unappliedRow
	if err := page(q, f.Page).Find(&rows).Error; err != nil {
		return domain.Page[domain.UnappliedPayment]{}, translate(err)
	}
	return finishPage(rows, f.Page, (*unappliedRow).toDomain), nil
}

// lockUnapplied reads the row, locked on PostgreSQL, and refuses one that
// is resolved unless its status is one of also.
func lockUnapplied(tx *gorm.DB, id string, also ...string) (*unappliedRow, error) {
	var row unappliedRow
	if err := forUpdate(tx).Take(&row, "id = ?", id).Error; err != nil {
		if domain.ErrorCode(translate(err)) == domain.ENOTFOUND {
			return nil, domain.Errorf(domain.ENOTFOUND, "unapplied payment %s not found", id)
		}
		return nil, err
	}
	if row.Status == domain.UnappliedOpen {
		return &row, nil
	}
	for _, st := range also {
		if row.Status == st {
			return &row, nil
		}
	}
	return nil, domain.Conflictf(domain.EUNAPPLIEDRESOLVED, "unapplied payment %s is %s", id, row.Status)
}

// ApplyUnappliedPayment implements domain.UnappliedPaymentService. The
// payment is recorded by the same function as every payment, keyed by the
// PaymentIntent, and the intent now points at the invoice and payment, so
// Stripe's later refunds and disputes of it apply there.
func (s *UnappliedPaymentService) ApplyUnappliedPayment(ctx context.Context, id, invoiceID string) (*domain.UnappliedPayment, error) {
	if invoiceID == "" {
		return nil, fieldError("invoice_id", "is required")
	}
	var out domain.UnappliedPayment
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := lockUnapplied(tx, id)
		if err != nil {
			return err
		}
		inv, err := lockInvoice(tx, invoiceID, true)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			return fieldError("invoice_id", "no invoice "+invoiceID)
		} else if err != nil {
			return err
		}
		if inv.Currency != row.Currency {
			return fieldError("invoice_id", "invoice "+invoiceID+" is in "+inv.Currency+"; the payment is in "+row.Currency)
		}
		loc, _ := domain.LoadZone(inv.Timezone)
		paidOn, today := domain.DateOf(row.ReceivedAt, loc), domain.DateOf(s.db.now(), loc)
		if issued := dateOf(inv.IssueDate); !issued.IsZero() && paidOn.Before(issued) {
			paidOn = issued
		}
		if paidOn.After(today) {
			paidOn = today
		}
		p := domain.PaymentInput{Amount: row.Amount, PaidOn: paidOn, Method: "card", Reference: row.PaymentIntentID,
			Source: domain.PaymentStripe, Key: row.PaymentIntentID}
		var pay domain.Payment
		if err := s.invoices.recordPaymentTx(ctx, tx, inv.ID, p, &pay); err != nil {
			return err
		}
		now := s.db.now()
		row.Status, row.AppliedInvoiceID, row.PaymentID, row.ResolvedAt = domain.UnappliedApplied, inv.ID, pay.ID, &now
		if err := tx.Model(&unappliedRow{}).Where("id = ?", id).Updates(map[string]any{"status": row.Status,
			"applied_invoice_id": inv.ID, "payment_id": pay.ID, "resolved_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Model(&intentRow{}).Where("id = ?", row.PaymentIntentID).
			Updates(map[string]any{"invoice_id": inv.ID, "payment_id": pay.ID, "updated_at": now}).Error; err != nil {
			return err
		}
		out = row.toDomain()
		return s.db.emit(ctx, tx, "payment.unapplied_applied", inv.ClientID, inv.ID, out, false)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// RefundUnappliedPayment implements domain.UnappliedPaymentService: the
// row is marked refunding in one transaction (so it can no longer be
// applied), Stripe refunds outside any transaction, and the refund id is
// stored in another. A retry after a failure or crash asks Stripe again
// with the same idempotency key and gets the same refund.
func (s *UnappliedPaymentService) RefundUnappliedPayment(ctx context.Context, id string) (*domain.UnappliedPayment, error) {
	if s.Stripe == nil {
		return nil, &domain.Error{Code: domain.ESTRIPENOTCONFIGURED, Kind: domain.EUNAVAILABLE, Message: "Stripe is not configured: set STRIPE_SECRET_KEY"}
	}
	var row *unappliedRow
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if row, err = lockUnapplied(tx, id, domain.UnappliedRefunding); err != nil {
			return err
		}
		return tx.Model(&unappliedRow{}).Where("id = ?", id).Update("status", domain.UnappliedRefunding).Error
	})
	if err != nil {
		return nil, err
	}
	refundID, err := s.Stripe.RefundPaymentIntent(ctx, row.PaymentIntentID, row.Amount, "remit-unapplied-"+row.ID)
	if err != nil {
		return nil, err
	}
	var out domain.UnappliedPayment
	err = s.db.tx(ctx, func(tx *gorm.DB) error {
		cur, err := lockUnapplied(tx, id, domain.UnappliedRefunding, domain.UnappliedRefunded)
		if err != nil {
			return err
		}
		if cur.Status == domain.UnappliedRefunding {
			now := s.db.now()
			cur.Status, cur.RefundID, cur.ResolvedAt = domain.UnappliedRefunded, refundID, &now
			if err := tx.Model(&unappliedRow{}).Where("id = ?", id).
				Updates(map[string]any{"status": cur.Status, "refund_id": refundID, "resolved_at": now}).Error; err != nil {
				return err
			}
			if err := s.db.emit(ctx, tx, "payment.unapplied_refunded", cur.ClientID, cur.InvoiceID, cur.toDomain(), false); err != nil {
				return err
			}
		}
		out = cur.toDomain()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
