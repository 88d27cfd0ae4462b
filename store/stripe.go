package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/remit/remit/domain"
)

// stripeEventRow is the stripe_events table: one row per Stripe event id.
type stripeEventRow struct {
	ID          string
	Type        string
	APIVersion  string
	Created     time.Time
	IntentID    string
	Payload     string
	Outcome     string
	ProcessedAt time.Time
}

func (stripeEventRow) TableName() string { return "stripe_events" }

// stripeCustomerRow is the stripe_customers table.
type stripeCustomerRow struct {
	ClientID   string `gorm:"primaryKey"`
	CustomerID string
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
}

func (stripeCustomerRow) TableName() string { return "stripe_customers" }

// intentRow is the stripe_payment_intents table: what the events so far say
// about one PaymentIntent, merged so that any order gives the same row.
type intentRow struct {
	ID            string `gorm:"primaryKey"`
	InvoiceID     *string
	Amount        int64
	Currency      string
	Status        string
	StatusAt      *time.Time
	PaymentID     *string
	ChargeID      string
	Refunded      int64
	DisputeID     string
	DisputeStatus string
	DisputeAmount int64
	LastEventAt   *time.Time
	CreatedAt     time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt     time.Time `gorm:"autoUpdateTime:false"`
}

func (intentRow) TableName() string { return "stripe_payment_intents" }

// counts reports whether the intent holds its invoice in processing, and
// whether it holds it disputed.
func (r *intentRow) counts() (processing, disputed bool) {
	if r.InvoiceID == nil {
		return false, false
	}
	return r.Status == domain.IntentProcessing, r.DisputeStatus == domain.DisputeOpen
}

// intentRank orders PaymentIntent statuses: succeeded is final; the others
// follow the newest event, the rank breaking ties between equal timestamps.
func intentRank(status string) int {
	switch status {
	case domain.IntentFailed:
		return 1
	case domain.IntentCanceled:
		return 2
	case domain.IntentProcessing:
		return 3
	case domain.IntentSucceeded:
		return 4
	}
	return 0
}

// disputeRank orders dispute states: none, open, closed (any outcome).
func disputeRank(status string) int {
	switch status {
	case "":
		return 0
	case domain.DisputeOpen:
		return 1
	}
	return 2
}

// StripeService implements domain.StripeLedger.
type StripeService struct {
	db       *DB
	invoices *InvoiceService
}

// NewStripeService returns the Stripe ledger on db.
func NewStripeService(db *DB) *StripeService {
	return &StripeService{db: db, invoices: NewInvoiceService(db)}
}

// FindStripeCustomer implements domain.StripeLedger.
func (s *StripeService) FindStripeCustomer(ctx context.Context, clientID string) (string, error) {
	var rows []stripeCustomerRow
	if err := s.db.reader(ctx).Where("client_id = ?", clientID).Limit(1).Find(&rows).Error; err != nil {
		return "", translate(err)
	}
	if len(rows) == 0 {
		return "", nil
	}
	return rows[0].CustomerID, nil
}

// SaveStripeCustomer implements domain.StripeLedger: the first id stored
// for a client stays, so two racing checkouts end up with one Customer.
func (s *StripeService) SaveStripeCustomer(ctx context.Context, clientID, customerID string) (string, error) {
	var out string
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		if _, err := findClient(tx, clientID); err != nil {
			return err
		}
		row := stripeCustomerRow{ClientID: clientID, CustomerID: customerID, CreatedAt: s.db.now()}
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "client_id"}}, DoNothing: true}).Create(&row).Error; err != nil {
			return err
		}
		var stored stripeCustomerRow
		if err := tx.Take(&stored, "client_id = ?", clientID).Error; err != nil {
			return err
		}
		out = stored.CustomerID
		return nil
	})
	return out, err
}

// ApplyStripeEvent implements domain.StripeLedger. The event row is
// inserted first: a concurrent delivery of the same id waits on it and then
// finds it, so an event applies once on one replica or many.
func (s *StripeService) ApplyStripeEvent(ctx context.Context, ev domain.StripeEvent) (domain.StripeEventResult, error) {
	ctx = domain.WithActor(ctx, domain.Actor{Name: "stripe"})
	var res domain.StripeEventResult
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		res = domain.StripeEventResult{}
		row := stripeEventRow{ID: ev.ID, Type: ev.Type, APIVersion: ev.APIVersion, Created: ev.Created.UTC(),
			IntentID: ev.IntentID, Payload: string(ev.Payload), ProcessedAt: s.db.now()}
		ins := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoNothing: true}).Create(&row)
		if ins.Error != nil {
			return ins.Error
		}
		if ins.RowsAffected == 0 {
			res.Duplicate, res.Outcome = true, "duplicate"
			return nil
		}
		a := &applier{s: s, tx: tx, ev: ev}
		if err := a.apply(ctx); err != nil {
			return err
		}
		res.Outcome, res.PaymentID, res.UnappliedPaymentID = a.outcome(), a.paymentID, a.unappliedID
		return tx.Model(&stripeEventRow{}).Where("id = ?", ev.ID).Update("outcome", res.Outcome).Error
	})
	return res, err
}

// applier applies one event inside its transaction and notes what it did.
type applier struct {
	s         *StripeService
	tx        *gorm.DB
	ev        domain.StripeEvent
	notes     []string
	paymentID string
	// unappliedID is the unapplied payment the event recorded, if any.
	unappliedID string
}

func (a *applier) note(format string, args ...any) {
	a.notes = append(a.notes, fmt.Sprintf(format, args...))
}

func (a *applier) outcome() string {
	if len(a.notes) == 0 {
		return "no_change"
	}
	return strings.Join(a.notes, "; ")
}

// apply merges the event into its PaymentIntent's row, then brings the
// invoice in line with the row: processing, payment, refunds, dispute.
// Locks are taken in one order, intent then invoice, and the invoice is
// locked before any write that checks a foreign key to it: on PostgreSQL
// that check takes a share lock, and two events of one invoice that each
// held one and then asked for the row lock would deadlock.
func (a *applier) apply(ctx context.Context) error {
	tx, ev := a.tx, a.ev
	intentID := ev.IntentID
	if intentID == "" && ev.ChargeID != "" {
		var known []intentRow
		if err := tx.Where("charge_id = ?", ev.ChargeID).Limit(1).Find(&known).Error; err != nil {
			return err
		}
		if len(known) > 0 {
			intentID = known[0].ID
		}
	}
	if intentID == "" {
		a.note("ignored: no PaymentIntent")
		return nil
	}
	now := a.s.db.now()
	row, err := lockIntent(tx, intentID, now)
	if err != nil {
		return err
	}
	before := *row
	var inv *invoiceRow
	switch {
	case row.InvoiceID != nil:
		if ev.InvoiceID != "" && ev.InvoiceID != *row.InvoiceID {
			a.note("ignored: metadata names invoice %s, the intent belongs to %s", ev.InvoiceID, *row.InvoiceID)
		}
		if inv, err = lockInvoice(tx, *row.InvoiceID, true); err != nil {
			return err
		}
	case ev.InvoiceID != "":
		inv, err = lockInvoice(tx, ev.InvoiceID, true)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			a.note("ignored: no invoice %s", ev.InvoiceID)
		} else if err != nil {
			return err
		} else {
			row.InvoiceID = &inv.ID
		}
	}
	a.merge(row)
	row.UpdatedAt = now
	if inv == nil {
		if len(a.notes) == 0 {
			a.note("remembered: invoice not known yet")
		}
		if err := tx.Save(row).Error; err != nil {
			return err
		}
		if ev.InvoiceID != "" && row.InvoiceID == nil {
			// Collected for an invoice Remit does not have: keep the money.
			return a.unapplied(ctx, row, domain.UnappliedUnknownInvoice, ev.InvoiceID, "")
		}
		return nil
	}
	if err := a.settle(ctx, inv, &before, row); err != nil {
		return err
	}
	return tx.Save(row).Error
}

// lockIntent returns the intent's row, inserted when new, locked on
// PostgreSQL until the transaction ends.
func lockIntent(tx *gorm.DB, id string, now time.Time) (*intentRow, error) {
	q := tx
	if tx.Dialector.Name() == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var rows []intentRow
	if err := q.Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil || len(rows) == 1 {
		if err != nil {
			return nil, err
		}
		return &rows[0], nil
	}
	// New: insert it (a concurrent event of the same intent may win the
	// insert; this one then waits for it and reads its row).
	if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "id"}}, DoNothing: true}).
		Create(&intentRow{ID: id, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		return nil, err
	}
	var row intentRow
	if err := q.Take(&row, "id = ?", id).Error; err != nil {
		return nil, err
	}
	return &row, nil
}

// merge folds the event's facts into row. Every rule is order-free:
// succeeded is final, other statuses follow the newest event, refunded
// takes the largest total, a dispute only moves from open to closed.
func (a *applier) merge(row *intentRow) {
	ev := a.ev
	if row.Currency == "" {
		row.Currency = ev.Currency
	}
	if row.ChargeID == "" {
		row.ChargeID = ev.ChargeID
	}
	created := ev.Created.UTC()
	if ev.Status != "" && row.Status != domain.IntentSucceeded {
		newer := row.StatusAt == nil || created.After(*row.StatusAt) ||
			(created.Equal(*row.StatusAt) && intentRank(ev.Status) > intentRank(row.Status))
		if ev.Status == domain.IntentSucceeded || newer {
			row.Status, row.StatusAt = ev.Status, &created
			if ev.Status == domain.IntentSucceeded {
				row.Amount = ev.Amount
			}
		}
	}
	if ev.AmountRefunded > row.Refunded {
		row.Refunded = ev.AmountRefunded
	}
	if ev.DisputeStatus != "" && disputeRank(ev.DisputeStatus) > disputeRank(row.DisputeStatus) {
		row.DisputeID, row.DisputeStatus = ev.DisputeID, ev.DisputeStatus
	}
	if ev.DisputeAmount > 0 && row.DisputeAmount == 0 {
		row.DisputeAmount = ev.DisputeAmount
	}
	if row.LastEventAt == nil || created.After(*row.LastEventAt) {
		row.LastEventAt = &created
	}
}

// settle makes the invoice agree with the intent's row. The order matters:
// processing ends before the payment is recorded, and the payment is
// recorded as if its own dispute had not been opened yet, since in Stripe a
// charge is only disputed after it succeeded.
func (a *applier) settle(ctx context.Context, inv *invoiceRow, before, row *intentRow) error {
	tx, db := a.tx, a.s.db
	invoiceID := inv.ID
	if row.Currency != "" && row.Currency != inv.Currency {
		a.note("ignored: paid in %s, the invoice is in %s", row.Currency, inv.Currency)
		return a.unapplied(ctx, row, domain.UnappliedCurrencyMismatch, inv.ID, inv.ClientID)
	}
	wasProcessing, wasDisputed := before.counts()
	isProcessing, isDisputed := row.counts()

	if wasProcessing != isProcessing {
		delta := 1
		if !isProcessing {
			delta = -1
		}
		if err := tx.Exec("UPDATE invoices SET processing = CASE WHEN processing + ? < 0 THEN 0 ELSE processing + ? END, updated_at = ? WHERE id = ?",
			delta, delta, db.now(), invoiceID).Error; err != nil {
			return err
		}
		if err := db.emit(ctx, tx, "invoice.payment_processing", inv.ClientID, invoiceID,
			map[string]any{"payment_intent": row.ID, "processing": isProcessing, "status": row.Status}, false); err != nil {
			return err
		}
		a.note("processing %t", isProcessing)
	} else if a.ev.Status != "" && a.ev.Status != row.Status {
		a.note("status %s ignored, intent is %s", a.ev.Status, row.Status)
	}

	if row.Status == domain.IntentSucceeded && row.PaymentID == nil {
		if wasDisputed {
			// Record the payment as it would have been before its own dispute.
			if err := a.setDisputed(invoiceID, row.ID, false); err != nil {
				return err
			}
		}
		if err := a.recordPayment(ctx, inv, row); err != nil {
			return err
		}
		if wasDisputed {
			if err := a.setDisputed(invoiceID, row.ID, true); err != nil {
				return err
			}
		}
	}
	if row.PaymentID != nil && (row.Refunded > 0 || row.DisputeStatus == domain.DisputeLost) {
		if err := a.recordRefunds(ctx, inv, row); err != nil {
			return err
		}
	}

	if wasDisputed != isDisputed {
		if err := a.setDisputed(invoiceID, row.ID, isDisputed); err != nil {
			return err
		}
		typ := domain.EventInvoiceDisputeOpened
		if !isDisputed {
			typ = domain.EventInvoiceDisputeClosed
		}
		if err := db.emit(ctx, tx, typ, inv.ClientID, invoiceID, map[string]any{
			"payment_intent": row.ID, "dispute": row.DisputeID, "status": row.DisputeStatus, "amount": row.DisputeAmount}, true); err != nil {
			return err
		}
		a.note("dispute %s", row.DisputeStatus)
	}
	return nil
}

// unapplied records a succeeded intent's money that no invoice takes as an
// unapplied payment (once per intent), for an admin to apply or refund.
func (a *applier) unapplied(ctx context.Context, row *intentRow, reason, invoiceID, clientID string) error {
	if row.Status != domain.IntentSucceeded || row.PaymentID != nil || row.Amount <= 0 {
		return nil
	}
	id, err := a.s.db.recordUnapplied(ctx, a.tx, row, reason, invoiceID, clientID)
	if err != nil || id == "" {
		return err
	}
	a.unappliedID = id
	a.note("kept as unapplied payment %s (%s)", id, reason)
	return nil
}

// setDisputed sets the invoice's disputed flag: on, or off unless another
// of its PaymentIntents is still disputed.
func (a *applier) setDisputed(invoiceID, intentID string, on bool) error {
	if on {
		return a.tx.Exec("UPDATE invoices SET disputed = ?, updated_at = ? WHERE id = ?", true, a.s.db.now(), invoiceID).Error
	}
	var others int64
	if err := a.tx.Model(&intentRow{}).Where("invoice_id = ? AND id <> ? AND dispute_status = ?", invoiceID, intentID, domain.DisputeOpen).
		Count(&others).Error; err != nil {
		return err
	}
	return a.tx.Exec("UPDATE invoices SET disputed = ?, updated_at = ? WHERE id = ?", others > 0, a.s.db.now(), invoiceID).Error
}

// stripeDay is the day of t in the invoice's time zone, kept between the
// issue date and today, so a payment is never dated in the future or
// before its invoice (Stripe's clock and Remit's may disagree).
func (a *applier) stripeDay(inv *invoiceRow, t time.Time, notBefore domain.Date) domain.Date {
	loc, _ := domain.LoadZone(inv.Timezone)
	day, today := domain.DateOf(t, loc), domain.DateOf(a.s.db.now(), loc)
	if day.After(today) {
		day = today
	}
	if issued := dateOf(inv.IssueDate); !issued.IsZero() && day.Before(issued) {
		day = issued
	}
	if !notBefore.IsZero() && day.Before(notBefore) {
		day = notBefore
	}
	return day
}

// recordPayment records the intent's payment, keyed by the PaymentIntent id.
// On an open invoice it is allocated as a manual payment is; an invoice that
// is already paid, void or a draft cannot take it, so it becomes client
// credit: money Stripe collected is never dropped.
func (a *applier) recordPayment(ctx context.Context, inv *invoiceRow, row *intentRow) error {
	if row.Amount <= 0 {
		a.note("ignored: succeeded with no amount")
		return nil
	}
	p := domain.PaymentInput{Amount: row.Amount, PaidOn: a.stripeDay(inv, *row.StatusAt, domain.Date{}), Method: "card",
		Reference: row.ID, Source: domain.PaymentStripe, Key: row.ID}
	if err := p.Validate(); err != nil {
		a.note("ignored: %s", domain.ErrorMessage(err))
		return nil
	}
	var pay domain.Payment
	switch inv.Status {
	case domain.InvoiceStatusOpen, domain.InvoiceStatusUncollectible:
		err := a.s.invoices.recordPaymentTx(ctx, a.tx, inv.ID, p, &pay)
		var de *domain.Error
		if errors.As(err, &de) {
			// A rule refused it (checked before anything was written): keep
			// the event with the reason rather than make Stripe retry forever.
			a.note("payment not recorded: %s", de.Message)
			return nil
		}
		if err != nil {
			return err
		}
		a.note("payment recorded")
	default:
		if err := a.recordCredit(ctx, inv, p, &pay); err != nil {
			return err
		}
		a.note("payment recorded as credit: invoice is %s", inv.Status)
	}
	row.PaymentID, a.paymentID = &pay.ID, pay.ID
	return nil
}

// recordCredit records a payment for an invoice that cannot take one, all
// of it as client credit.
func (a *applier) recordCredit(ctx context.Context, inv *invoiceRow, p domain.PaymentInput, out *domain.Payment) error {
	db := a.s.db
	pay := paymentRow{ID: db.newID("pay"), InvoiceID: inv.ID, ClientID: inv.ClientID, Amount: p.Amount, Currency: inv.Currency,
		PaidOn: p.PaidOn.String(), Method: p.Method, Reference: p.Reference, Source: p.Source, ExternalKey: p.Key,
		AllocCredit: p.Amount, CreatedAt: db.now()}
	if err := a.tx.Create(&pay).Error; err != nil {
		return err
	}
	if err := db.addCredit(a.tx, inv.ClientID, inv.Currency, p.Amount, domain.CreditOverpayment, inv.ID, pay.ID); err != nil {
		return err
	}
	*out = pay.toDomain()
	if err := db.emit(ctx, a.tx, "payment.recorded", inv.ClientID, inv.ID, *out, false); err != nil {
		return err
	}
	_, err := db.refresh(ctx, a.tx, inv.ID, p.PaidOn)
	return err
}

// recordRefunds brings the payment's Stripe refunds up to the largest
// refunded total Stripe reported, keyed by the refund ids the event lists
// and the rest by the total reached, and reverses a lost dispute (keyed by
// the dispute id). Nothing is ever refunded beyond what Stripe reported.
func (a *applier) recordRefunds(ctx context.Context, inv *invoiceRow, row *intentRow) error {
	tx := a.tx
	var pay paymentRow
	if err := tx.Take(&pay, "id = ?", *row.PaymentID).Error; err != nil {
		return err
	}
	var recorded int64
	if err := tx.Model(&refundRow{}).Where("payment_id = ? AND external_key LIKE ?", pay.ID, "stripe:refund:%").
		Select("COALESCE(SUM(amount), 0)").Scan(&recorded).Error; err != nil {
		return err
	}
	// Dated by the newest event of the intent, so that a refund applied
	// late (it came before its payment) gets the date it would have had.
	refundedOn := a.stripeDay(inv, *row.LastEventAt, dateOf(&pay.PaidOn))
	refund := func(key string, amount int64, reason string) (bool, error) {
		amount = min(amount, pay.Amount-pay.Refunded)
		if amount <= 0 {
			return false, nil
		}
		var n int64
		if err := tx.Model(&refundRow{}).Where("external_key = ?", key).Count(&n).Error; err != nil || n > 0 {
			return false, err
		}
		var out domain.Refund
		err := a.s.invoices.refundPaymentTx(ctx, tx, pay.ID, domain.RefundInput{Amount: amount, RefundedOn: refundedOn, Reason: reason, Key: key}, &out)
		if code := domain.ErrorCode(err); code == domain.EINVALID {
			// The client spent the credit this payment created: the refund
			// waits for the next event (or an operator) instead of failing Stripe.
			a.note("refund of %d not recorded: %s", amount, domain.ErrorMessage(err))
			return false, nil
		} else if err != nil {
			return false, err
		}
		pay.Refunded += amount
		a.note("refund of %d recorded", amount)
		return true, nil
	}
	// Listed refunds oldest first, each by its id, while they fit the total.
	for i := len(a.ev.Refunds) - 1; i >= 0; i-- {
		r := a.ev.Refunds[i]
		if r.ID == "" || r.Amount <= 0 || recorded+r.Amount > row.Refunded {
			continue
		}
		done, err := refund("stripe:refund:"+r.ID, r.Amount, "Stripe refund "+r.ID)
		if err != nil {
			return err
		}
		if done {
			recorded += r.Amount
		}
	}
	if rest := row.Refunded - recorded; rest > 0 {
		key := "stripe:refund:" + row.ChargeID + ":" + strconv.FormatInt(row.Refunded, 10)
		if _, err := refund(key, rest, "Stripe refund of charge "+row.ChargeID); err != nil {
			return err
		}
	}
	if row.DisputeStatus == domain.DisputeLost && row.DisputeID != "" {
		amount := row.DisputeAmount
		if amount == 0 {
			amount = pay.Amount
		}
		if _, err := refund("stripe:dispute:"+row.DisputeID, amount, "Stripe dispute "+row.DisputeID+" lost"); err != nil {
			return err
		}
	}
	return nil
}
