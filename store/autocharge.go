package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// planAutoCharges writes an auto-charged invoice's attempts: one per day of
// domain.AutoChargeRetryDays after its due date.
func (db *DB) planAutoCharges(tx *gorm.DB, invoiceID string, due domain.Date) error {
	now := db.now()
	rows := make([][]any, len(domain.AutoChargeRetryDays))
	for i, days := range domain.AutoChargeRetryDays {
		rows[i] = []any{invoiceID, i, due.AddDays(days).String(), domain.AutoChargePending, now}
	}
	return insertRows(tx, "invoice_auto_charges", []string{"invoice_id", "attempt", "charge_on", "status", "created_at"}, rows,
		"ON CONFLICT (invoice_id, attempt) DO NOTHING", nil)
}

// AutoChargeService implements domain.AutoChargeStore.
type AutoChargeService struct {
	db *DB
}

// NewAutoChargeService returns the auto-charge store on db.
func NewAutoChargeService(db *DB) *AutoChargeService { return &AutoChargeService{db: db} }

// planClientAutoCharges writes the attempts of the open invoices of
// auto-charged clients issued since auto-charge was turned on that have
// none yet, at most limit invoices per call. Planning here rather than at
// issue keeps the issue path free of it.
func (s *AutoChargeService) planClientAutoCharges(ctx context.Context, limit int) error {
	type plan struct{ id, due string }
	var plans []plan
	err := rawQuery(s.db.reader(ctx), `SELECT i.id, i.due_date FROM invoices i JOIN clients c ON c.id = i.client_id
		WHERE c.auto_charge_since IS NOT NULL AND i.status = ? AND i.balance_due > 0 AND i.issue_date >= c.auto_charge_since
		AND NOT EXISTS (SELECT 1 FROM invoice_auto_charges a WHERE a.invoice_id = i.id) ORDER BY i.id LIMIT ?`,
		[]any{domain.InvoiceStatusOpen, limit}, func(scan func(dest ...any) error) error {
			var p plan
			if err := scan(&p.id, &p.due); err != nil {
				return err
			}
			plans = append(plans, p)
			return nil
		})
	if err != nil || len(plans) == 0 {
		return translate(err)
	}
	return s.db.tx(ctx, func(tx *gorm.DB) error {
		for _, p := range plans {
			if err := s.db.planAutoCharges(tx, p.id, dateOf(&p.due)); err != nil {
				return err
			}
		}
		return nil
	})
}

// DueAutoCharges implements domain.AutoChargeStore.
func (s *AutoChargeService) DueAutoCharges(ctx context.Context, now time.Time, limit int) ([]domain.AutoChargeAttempt, error) {
	if err := s.planClientAutoCharges(ctx, limit); err != nil {
		return nil, err
	}
	// No time zone is a day ahead of UTC or more: nothing later than horizon is due.
	horizon := domain.DateOf(now, time.UTC).AddDays(1)
	var out []domain.AutoChargeAttempt
	latest := map[string]int{} // invoice -> index in out
	err := rawQuery(s.db.reader(ctx), `SELECT a.invoice_id, a.attempt, a.charge_on, i.client_id, COALESCE(i.number, ''),
		i.currency, i.balance_due, i.timezone
		FROM invoice_auto_charges a JOIN invoices i ON i.id = a.invoice_id
		WHERE a.status = ? AND a.charge_on <= ? AND i.status = ? AND i.balance_due > 0 AND i.processing = 0 AND NOT i.disputed
		ORDER BY a.invoice_id, a.attempt`, []any{domain.AutoChargePending, horizon.String(), domain.InvoiceStatusOpen},
		func(scan func(dest ...any) error) error {
			var a domain.AutoChargeAttempt
			var chargeOn, zone string
			if err := scan(&a.InvoiceID, &a.Attempt, &chargeOn, &a.ClientID, &a.Number, &a.Currency, &a.Amount, &zone); err != nil {
				return err
			}
			a.ChargeOn = dateOf(&chargeOn)
			loc, err := domain.LoadZone(zone)
			if err != nil || a.ChargeOn.After(domain.DateOf(now, loc)) {
				return nil
			}
			// After downtime several attempts may be due: only the latest is made.
			if i, ok := latest[a.InvoiceID]; ok {
				out[i] = a
				return nil
			}
			if len(out) >= limit {
				return nil
			}
			latest[a.InvoiceID] = len(out)
			out = append(out, a)
			return nil
		})
	return out, translate(err)
}

// ClaimAutoCharge implements domain.AutoChargeStore.
func (s *AutoChargeService) ClaimAutoCharge(ctx context.Context, a domain.AutoChargeAttempt) (bool, error) {
	claimed := false
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		now := s.db.now()
		n, err := rawExec(tx,
			"UPDATE invoice_auto_charges SET status = ?, attempted_at = ? WHERE invoice_id = ? AND attempt = ? AND status = ?",
			domain.AutoChargeAttempting, now, a.InvoiceID, a.Attempt, domain.AutoChargePending)
		if err != nil || n != 1 {
			return err
		}
		claimed = true
		_, err = rawExec(tx, "UPDATE invoice_auto_charges SET status = ? WHERE invoice_id = ? AND attempt < ? AND status = ?",
			domain.AutoChargeSkipped, a.InvoiceID, a.Attempt, domain.AutoChargePending)
		return err
	})
	return claimed, err
}

// RecordAutoCharge implements domain.AutoChargeStore.
func (s *AutoChargeService) RecordAutoCharge(ctx context.Context, a domain.AutoChargeAttempt, r *domain.AutoChargeResult) error {
	return s.db.tx(ctx, func(tx *gorm.DB) error {
		if r == nil {
			_, err := rawExec(tx, "UPDATE invoice_auto_charges SET status = ? WHERE invoice_id = ? AND attempt = ? AND status = ?",
				domain.AutoChargePending, a.InvoiceID, a.Attempt, domain.AutoChargeAttempting)
			return err
		}
		if _, err := rawExec(tx,
			"UPDATE invoice_auto_charges SET status = ?, payment_intent_id = ?, reason = ? WHERE invoice_id = ? AND attempt = ?",
			r.Status, r.PaymentIntentID, r.Reason, a.InvoiceID, a.Attempt); err != nil {
			return err
		}
		data := map[string]any{"number": a.Number, "attempt": a.Attempt + 1, "attempts": len(domain.AutoChargeRetryDays),
			"amount": a.Amount, "currency": a.Currency, "payment_intent_id": r.PaymentIntentID, "status": r.Status}
		if r.Status != domain.AutoChargeFailed {
			return s.db.emit(ctx, tx, "invoice.auto_charge_attempted", a.ClientID, a.InvoiceID, data, false)
		}
		data["reason"], data["pay_url"] = r.Reason, r.PayURL
		if next := a.Attempt + 1; next < len(domain.AutoChargeRetryDays) {
			data["next_attempt_on"] = a.ChargeOn.AddDays(domain.AutoChargeRetryDays[next] - domain.AutoChargeRetryDays[a.Attempt])
		}
		return s.db.emit(ctx, tx, domain.EventInvoiceAutoChargeFailed, a.ClientID, a.InvoiceID, data, true)
	})
}
