package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/remit/remit/domain"
)

// chargeRow is the charges table; (invoice_id, key) is unique.
type chargeRow struct {
	ID           string
	InvoiceID    string
	Kind         string
	Key          string
	Amount       int64
	PostedOn     string
	PeriodFrom   *string
	PeriodTo     *string
	Days         int
	Description  string
	Breakdown    string
	Paid         int64
	WaivedAmount int64
	WaiveReason  string
	CreatedAt    time.Time `gorm:"autoCreateTime:false"`
}

func (chargeRow) TableName() string { return "charges" }

func (r *chargeRow) unpaid() int64 { return r.Amount - r.WaivedAmount - r.Paid }

func (r *chargeRow) toDomain() domain.Charge {
	c := domain.Charge{ID: r.ID, InvoiceID: r.InvoiceID, Kind: domain.ChargeKind(r.Kind), Key: r.Key, Amount: r.Amount,
		PostedOn: dateOf(&r.PostedOn), PeriodFrom: dateOf(r.PeriodFrom), PeriodTo: dateOf(r.PeriodTo), Days: r.Days,
		Description: r.Description, Paid: r.Paid, Waived: r.WaiveReason != "", WaivedAmount: r.WaivedAmount,
		WaiveReason: r.WaiveReason, CreatedAt: r.CreatedAt.UTC()}
	if r.Breakdown != "" {
		_ = json.Unmarshal([]byte(r.Breakdown), &c.Breakdown)
	}
	return c
}

// paymentRow is the payments table; external_key is unique.
type paymentRow struct {
	ID                string
	InvoiceID         string
	ClientID          string
	Amount            int64
	Currency          string
	PaidOn            string
	Method            string
	Reference         string
	Source            string
	ExternalKey       string
	AllocCompensation int64
	AllocFees         int64
	AllocInterest     int64
	AllocPrincipal    int64
	AllocCredit       int64
	Refunded          int64
	CreatedAt         time.Time `gorm:"autoCreateTime:false"`
}

func (paymentRow) TableName() string { return "payments" }

// paymentCols are the payments table's columns in the order of
// paymentRow.fields and paymentRow.values.
var paymentCols = []string{"id", "invoice_id", "client_id", "amount", "currency", "paid_on", "method", "reference", "source", "external_key",
	"alloc_compensation", "alloc_fees", "alloc_interest", "alloc_principal", "alloc_credit", "refunded", "created_at"}

// paymentSelect reads whole payment rows; add the WHERE clause.
var paymentSelect = "SELECT " + strings.Join(paymentCols, ", ") + " FROM payments"

func (r *paymentRow) fields() []any {
	return []any{&r.ID, &r.InvoiceID, &r.ClientID, &r.Amount, &r.Currency, &r.PaidOn, &r.Method, &r.Reference, &r.Source, &r.ExternalKey,
		&r.AllocCompensation, &r.AllocFees, &r.AllocInterest, &r.AllocPrincipal, &r.AllocCredit, &r.Refunded, &r.CreatedAt}
}

func (r *paymentRow) values() []any {
	return []any{r.ID, r.InvoiceID, r.ClientID, r.Amount, r.Currency, r.PaidOn, r.Method, r.Reference, r.Source, r.ExternalKey,
		r.AllocCompensation, r.AllocFees, r.AllocInterest, r.AllocPrincipal, r.AllocCredit, r.Refunded, r.CreatedAt}
}

func (r *paymentRow) toDomain() domain.Payment {
	return domain.Payment{ID: r.ID, InvoiceID: r.InvoiceID, ClientID: r.ClientID, Amount: r.Amount, Currency: r.Currency,
		PaidOn: dateOf(&r.PaidOn), Method: r.Method, Reference: r.Reference, Source: r.Source, Refunded: r.Refunded,
		Allocation: domain.Allocation{Compensation: r.AllocCompensation, Fees: r.AllocFees, Interest: r.AllocInterest,
			Principal: r.AllocPrincipal, Credit: r.AllocCredit},
		CreatedAt: r.CreatedAt.UTC()}
}

// refundRow is the refunds table; external_key is unique.
type refundRow struct {
	ID              string
	PaymentID       string
	InvoiceID       string
	Amount          int64
	RefundedOn      string
	Reason          string
	ExternalKey     string
	RevCompensation int64
	RevFees         int64
	RevInterest     int64
	RevPrincipal    int64
	RevCredit       int64
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
}

func (refundRow) TableName() string { return "refunds" }

func (r *refundRow) toDomain() domain.Refund {
	return domain.Refund{ID: r.ID, PaymentID: r.PaymentID, InvoiceID: r.InvoiceID, Amount: r.Amount, RefundedOn: dateOf(&r.RefundedOn),
		Reason: r.Reason, Reversal: domain.Allocation{Compensation: r.RevCompensation, Fees: r.RevFees, Interest: r.RevInterest,
			Principal: r.RevPrincipal, Credit: r.RevCredit}, CreatedAt: r.CreatedAt.UTC()}
}

// creditRow is the client_credits ledger.
type creditRow struct {
	ID        string
	ClientID  string
	Amount    int64
	Currency  string
	Kind      string
	InvoiceID *string
	PaymentID *string
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (creditRow) TableName() string { return "client_credits" }

// addCredit writes a line of the client's credit ledger.
func (db *DB) addCredit(tx *gorm.DB, clientID, currency string, amount int64, kind, invoiceID, paymentID string) error {
	row := creditRow{ID: db.newID("crd"), ClientID: clientID, Amount: amount, Currency: currency, Kind: kind, CreatedAt: db.now()}
	if invoiceID != "" {
		row.InvoiceID = &invoiceID
	}
	if paymentID != "" {
		row.PaymentID = &paymentID
	}
	return tx.Create(&row).Error
}

// lockCredit locks a client's credit (the client's row) until the
// transaction ends, on PostgreSQL; SQLite's single writer already
// serialises. Every use of credit (applying it to an invoice, refunding the
// payment that created it) reads the balance and writes its line under
// this lock, so two uses cannot both spend the same credit. Lock order: an
// invoice's row before its client's. FOR NO KEY UPDATE leaves rows that
// refer to the client (new invoices, credit lines) free to be inserted.
func lockCredit(tx *gorm.DB, clientID string) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	var id string
	return rawScan(tx, "SELECT id FROM clients WHERE id = ? FOR NO KEY UPDATE", []any{clientID}, &id)
}

func creditBalance(tx *gorm.DB, clientID, currency string) (int64, error) {
	var n int64
	err := rawScan(tx, "SELECT COALESCE(SUM(amount), 0) FROM client_credits WHERE client_id = ? AND currency = ?", []any{clientID, currency}, &n)
	return n, err
}

// ClientCredit implements domain.InvoiceService.
func (s *InvoiceService) ClientCredit(ctx context.Context, clientID string) (int64, error) {
	c, err := findClient(s.db.reader(ctx), clientID)
	if err != nil {
		return 0, err
	}
	n, err := creditBalance(s.db.reader(ctx), clientID, c.Currency)
	return n, translate(err)
}

// applyCredit uses the client's credit to pay down a newly issued invoice.
// It returns how much it applied.
func (s *InvoiceService) applyCredit(ctx context.Context, tx *gorm.DB, row *invoiceRow) (int64, error) {
	avail, err := creditBalance(tx, row.ClientID, row.Currency)
	if err != nil || avail <= 0 {
		return 0, err
	}
	if s.db.dialect == Postgres {
		// There is credit to use: read it again under the lock, as a
		// concurrent use may have taken it.
		if err := lockCredit(tx, row.ClientID); err != nil {
			return 0, err
		}
		if avail, err = creditBalance(tx, row.ClientID, row.Currency); err != nil || avail <= 0 {
			return 0, err
		}
	}
	use := min(avail, row.Total)
	if use <= 0 {
		return 0, nil
	}
	if err := s.db.addCredit(tx, row.ClientID, row.Currency, -use, "applied", row.ID, ""); err != nil {
		return 0, err
	}
	return use, s.db.emit(ctx, tx, "credit.applied", row.ClientID, row.ID, map[string]any{"amount": use, "currency": row.Currency}, false)
}

// ledgerTotals are the sums of an invoice's ledger rows that its money
// columns cache.
type ledgerTotals struct {
	Charges       int64 // posted charges less waivers
	Paid          int64 // payments allocated to the invoice less refunds
	CreditCreated int64 // overpayments turned into client credit less refunds
	CreditApplied int64 // client credit used here
	PrincipalPaid int64 // the part of Paid and CreditApplied that went to principal
}

// totals returns the sums the row's columns hold.
func (r *invoiceRow) totals() ledgerTotals {
	return ledgerTotals{Charges: r.ChargesTotal, Paid: r.AmountPaid, CreditCreated: r.CreditCreated,
		CreditApplied: r.CreditApplied, PrincipalPaid: r.PrincipalPaid}
}

// sumLedger adds up an invoice's ledger rows.
func sumLedger(tx *gorm.DB, id string) (ledgerTotals, error) {
	var charges, paid, paidCredit, paidPrincipal, refunded, refundedCredit, refPrincipal, creditApplied int64
	err := rawScan(tx, `SELECT
		(SELECT COALESCE(SUM(amount - waived_amount), 0) FROM charges WHERE invoice_id = ?),
		(SELECT COALESCE(SUM(alloc_compensation + alloc_fees + alloc_interest + alloc_principal), 0) FROM payments WHERE invoice_id = ?),
		(SELECT COALESCE(SUM(alloc_credit), 0) FROM payments WHERE invoice_id = ?),
		(SELECT COALESCE(SUM(alloc_principal), 0) FROM payments WHERE invoice_id = ?),
		(SELECT COALESCE(SUM(rev_compensation + rev_fees + rev_interest + rev_principal), 0) FROM refunds WHERE invoice_id = ?),
		(SELECT COALESCE(SUM(rev_credit), 0) FROM refunds WHERE invoice_id = ?),
		(SELECT COALESCE(SUM(rev_principal), 0) FROM refunds WHERE invoice_id = ?),
		(SELECT COALESCE(-SUM(amount), 0) FROM client_credits WHERE invoice_id = ? AND kind IN ('applied', 'released'))`,
		[]any{id, id, id, id, id, id, id, id}, &charges, &paid, &paidCredit, &paidPrincipal, &refunded, &refundedCredit, &refPrincipal, &creditApplied)
	return ledgerTotals{Charges: charges, Paid: paid - refunded, CreditCreated: paidCredit - refundedCredit, CreditApplied: creditApplied,
		PrincipalPaid: paidPrincipal - refPrincipal + creditApplied}, err
}

// refresh recomputes an invoice's money columns from its ledger rows and
// moves it between open and paid; day is when a full payment happened.
// With settle, it is the one place that writes those columns, so they
// always agree with the ledger.
func (db *DB) refresh(ctx context.Context, tx *gorm.DB, id string, day domain.Date) (*invoiceRow, error) {
	row, err := lockInvoice(tx, id, false)
	if err != nil {
		return nil, err
	}
	t, err := sumLedger(tx, id)
	if err != nil {
		return nil, err
	}
	return row, db.settle(ctx, tx, row, t, day)
}

// settle sets the row's money columns to the ledger totals t, moves the
// invoice between open and paid (day is when a full payment happened), and
// writes it. A caller that knows what its change added to the ledger
// passes the row's totals plus that instead of summing the ledger again.
func (db *DB) settle(ctx context.Context, tx *gorm.DB, row *invoiceRow, t ledgerTotals, day domain.Date) error {
	row.ChargesTotal, row.AmountPaid, row.CreditCreated, row.CreditApplied, row.PrincipalPaid =
		t.Charges, t.Paid, t.CreditCreated, t.CreditApplied, t.PrincipalPaid
	row.BalanceDue = row.Total + row.ChargesTotal - row.AmountPaid - row.CreditApplied
	if row.Status == domain.InvoiceStatusVoid {
		row.BalanceDue = 0
	}
	becamePaid, reopened := false, false
	switch {
	case (row.Status == domain.InvoiceStatusOpen || row.Status == domain.InvoiceStatusUncollectible) && row.BalanceDue <= 0:
		if day.IsZero() {
			loc, _ := domain.LoadZone(row.Timezone)
			day = domain.DateOf(db.now(), loc)
		}
		row.Status, row.PaidOn, becamePaid = domain.InvoiceStatusPaid, dateCol(day), true
	case row.Status == domain.InvoiceStatusPaid && row.BalanceDue > 0:
		row.Status, row.PaidOn, reopened = domain.InvoiceStatusOpen, nil, true
	}
	row.NextActionOn = nil
	if (row.Status == domain.InvoiceStatusOpen || row.Status == domain.InvoiceStatusUncollectible) && row.BalanceDue > 0 {
		// Let the sweep look again from today: a payment or refund may
		// have moved what is due (fees stop, interest restarts).
		if ag, err := row.agreement(); err == nil && row.Agreement != nil {
			loc, _ := domain.LoadZone(row.Timezone)
			today := domain.DateOf(db.now(), loc)
			next := domain.NextActionOn(ag, dateOf(row.DueDate), today.AddDays(-1), row.PrincipalPaid >= row.Total)
			row.NextActionOn = dateCol(next)
		}
	}
	row.UpdatedAt = db.now()
	if _, err := rawExec(tx, `UPDATE invoices SET status = ?, paid_on = ?, charges_total = ?, amount_paid = ?, credit_applied = ?,
		credit_created = ?, principal_paid = ?, balance_due = ?, next_action_on = ?, updated_at = ? WHERE id = ?`,
		row.Status, nullable(row.PaidOn), row.ChargesTotal, row.AmountPaid, row.CreditApplied, row.CreditCreated, row.PrincipalPaid,
		row.BalanceDue, nullable(row.NextActionOn), row.UpdatedAt, row.ID); err != nil {
		return err
	}
	if becamePaid {
		if err := db.emit(ctx, tx, "invoice.paid", row.ClientID, row.ID, map[string]any{
			"number": row.Number, "paid_on": dateOf(row.PaidOn), "total": row.Total, "charges_total": row.ChargesTotal,
			"amount_paid": row.AmountPaid, "currency": row.Currency,
		}, true); err != nil {
			return err
		}
		if err := db.afterInvoicePaid(ctx, tx, row); err != nil {
			return err
		}
		if _, err := db.reinstateIfClear(ctx, tx, row.ClientID, db.Now()); err != nil {
			return err
		}
	}
	if reopened {
		return db.afterInvoiceReopened(ctx, tx, row)
	}
	return nil
}

// loadFacts gathers what the enforcement rules need about an issued invoice,
// and how much of its charges has been paid.
func (db *DB) loadFacts(tx *gorm.DB, row *invoiceRow) (domain.InvoiceFacts, int64, error) {
	ag, err := row.agreement()
	if err != nil {
		return domain.InvoiceFacts{}, 0, err
	}
	f := domain.InvoiceFacts{InvoiceID: row.ID, Currency: row.Currency, Principal: row.Total, DueDate: dateOf(row.DueDate), Agreement: ag}
	var pays []paymentRow
	if err := tx.Where("invoice_id = ?", row.ID).Find(&pays).Error; err != nil {
		return f, 0, err
	}
	var chargesPaid int64
	for _, p := range pays {
		on := dateOf(&p.PaidOn)
		if p.AllocPrincipal != 0 {
			f.PrincipalReductions = append(f.PrincipalReductions, domain.Reduction{On: on, Amount: p.AllocPrincipal})
		}
		if p.AllocInterest != 0 {
			f.InterestPaid = append(f.InterestPaid, domain.Reduction{On: on, Amount: p.AllocInterest})
		}
		chargesPaid += p.AllocCompensation + p.AllocFees + p.AllocInterest
	}
	var refs []refundRow
	if err := tx.Where("invoice_id = ?", row.ID).Find(&refs).Error; err != nil {
		return f, 0, err
	}
	for _, r := range refs {
		on := dateOf(&r.RefundedOn)
		if r.RevPrincipal != 0 {
			f.PrincipalReductions = append(f.PrincipalReductions, domain.Reduction{On: on, Amount: -r.RevPrincipal})
		}
		if r.RevInterest != 0 {
			f.InterestPaid = append(f.InterestPaid, domain.Reduction{On: on, Amount: -r.RevInterest})
		}
		chargesPaid -= r.RevCompensation + r.RevFees + r.RevInterest
	}
	if row.CreditApplied > 0 {
		f.PrincipalReductions = append(f.PrincipalReductions, domain.Reduction{On: dateOf(row.IssueDate), Amount: row.CreditApplied})
	}
	var charges []chargeRow
	if err := tx.Where("invoice_id = ?", row.ID).Find(&charges).Error; err != nil {
		return f, 0, err
	}
	for _, c := range charges {
		f.Posted = append(f.Posted, domain.PostedCharge{Key: c.Key, Kind: domain.ChargeKind(c.Kind), Amount: c.Amount,
			PostedOn: dateOf(&c.PostedOn), Waived: c.WaiveReason != ""})
	}
	if ag.Interest != nil && ag.Interest.Preset != "" {
		rates, err := loadRates(tx, domain.PresetSeries(ag.Interest.Preset))
		if err != nil {
			return f, 0, err
		}
		f.Rates = rates
	}
	return f, chargesPaid, nil
}

// loadRates reads one reference series.
func loadRates(tx *gorm.DB, series string) (domain.RateTable, error) {
	var rows []struct {
		EffectiveFrom string
		Rate          string
	}
	if err := tx.Table("reference_rates").Select("effective_from, rate").Where("series = ?", series).Find(&rows).Error; err != nil {
		return nil, err
	}
	t := domain.RateTable{}
	for _, r := range rows {
		d, err := domain.ParseDate(r.EffectiveFrom)
		if err != nil {
			return nil, err
		}
		t[series] = append(t[series], domain.RatePoint{EffectiveFrom: d, Rate: r.Rate})
	}
	return t, nil
}

// postCharges inserts the due charges that are not on the ledger yet (the
// unique key (invoice_id, key) makes a second insert a no-op, on one replica
// or many) and returns the ones this call posted.
func (db *DB) postCharges(ctx context.Context, tx *gorm.DB, row *invoiceRow, due []domain.DueCharge) ([]domain.Charge, error) {
	var posted []domain.Charge
	for _, d := range due {
		c := chargeRow{ID: db.newID("chg"), InvoiceID: row.ID, Kind: string(d.Kind), Key: d.Key, Amount: d.Amount,
			PostedOn: d.PostOn.String(), PeriodFrom: dateCol(d.From), PeriodTo: dateCol(d.To), Days: d.Days,
			Description: d.Description, CreatedAt: db.now()}
		if len(d.Breakdown) > 0 {
			b, err := json.Marshal(d.Breakdown)
			if err != nil {
				return nil, err
			}
			c.Breakdown = string(b)
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&c)
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 0 {
			continue
		}
		dc := c.toDomain()
		posted = append(posted, dc)
		if err := db.emit(ctx, tx, "charge.posted", row.ClientID, row.ID, dc, true); err != nil {
			return nil, err
		}
	}
	return posted, nil
}

// postDueCharges posts every charge the invoice owes by asOf and refreshes
// its balance; the sweep and payments call it. A missing reference rate is
// returned as *domain.MissingRateError and nothing is posted.
func (db *DB) postDueCharges(ctx context.Context, tx *gorm.DB, row *invoiceRow, asOf domain.Date) ([]domain.Charge, error) {
	f, _, err := db.loadFacts(tx, row)
	if err != nil {
		return nil, err
	}
	due, err := domain.ChargesDue(f, asOf)
	if err != nil {
		return nil, err
	}
	posted, err := db.postCharges(ctx, tx, row, due)
	if err != nil || len(posted) == 0 {
		return posted, err
	}
	_, err = db.refresh(ctx, tx, row.ID, domain.Date{})
	return posted, err
}

// outstanding returns what is unpaid of each kind of charge and of principal.
func outstanding(tx *gorm.DB, row *invoiceRow) (domain.Outstanding, []chargeRow, error) {
	var charges []chargeRow
	if err := tx.Where("invoice_id = ?", row.ID).Order("posted_on, id").Find(&charges).Error; err != nil {
		return domain.Outstanding{}, nil, err
	}
	o := domain.Outstanding{Principal: max(0, row.Total-row.PrincipalPaid)}
	for _, c := range charges {
		switch domain.ChargeKind(c.Kind) {
		case domain.ChargeCompensation:
			o.Compensation += c.unpaid()
		case domain.ChargeLateFee:
			o.Fees += c.unpaid()
		case domain.ChargeInterest:
			o.Interest += c.unpaid()
		}
	}
	return o, charges, nil
}

// spreadOverCharges records amount against the charges of kind, oldest first
// (or takes it back, newest first, when amount is negative).
func spreadOverCharges(tx *gorm.DB, charges []chargeRow, kind domain.ChargeKind, amount int64) error {
	n := len(charges)
	for i := 0; i < n && amount != 0; i++ {
		c := &charges[i]
		if amount < 0 {
			c = &charges[n-1-i]
		}
		if domain.ChargeKind(c.Kind) != kind {
			continue
		}
		var delta int64
		if amount > 0 {
			delta = min(amount, c.unpaid())
		} else {
			delta = -min(-amount, c.Paid)
		}
		if delta == 0 {
			continue
		}
		c.Paid += delta
		amount -= delta
		if err := tx.Model(&chargeRow{}).Where("id = ?", c.ID).Update("paid", c.Paid).Error; err != nil {
			return err
		}
	}
	return nil
}

// RecordPayment implements domain.InvoiceService.
func (s *InvoiceService) RecordPayment(ctx context.Context, invoiceID string, p domain.PaymentInput) (*domain.Payment, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var out domain.Payment
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		return s.recordPaymentTx(ctx, tx, invoiceID, p, &out)
	})
	if domain.ErrorCode(err) == domain.ECONFLICT && p.Key != "" {
		// A concurrent request recorded the same payment first: answer with it.
		var existing paymentRow
		if s.db.reader(ctx).Where("external_key = ? AND invoice_id = ?", p.Key, invoiceID).Limit(1).Find(&existing).Error == nil && existing.ID != "" {
			out, err = existing.toDomain(), nil
		}
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// recordPaymentTx is RecordPayment inside the caller's transaction (the
// Stripe ledger records a payment in the transaction of its event); it
// leaves the payment, or the one recorded before under the same key, in out.
func (s *InvoiceService) recordPaymentTx(ctx context.Context, tx *gorm.DB, invoiceID string, p domain.PaymentInput, out *domain.Payment) error {
	var existing paymentRow
	err := rawScan(tx, paymentSelect+" WHERE external_key = ?", []any{p.Key}, existing.fields()...)
	switch {
	case err == nil:
		if existing.InvoiceID != invoiceID || existing.Amount != p.Amount {
			return domain.Conflictf(domain.ECONFLICT, "payment key %q was already used for another payment", p.Key)
		}
		*out = existing.toDomain()
		return nil
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return err
	}
	row, err := lockInvoice(tx, invoiceID, true)
	if err != nil {
		return err
	}
	switch row.Status {
	case domain.InvoiceStatusDraft:
		return domain.Conflictf(domain.EINVOICENOTOPEN, "invoice %s is a draft; issue it before recording payments", invoiceID)
	case domain.InvoiceStatusVoid:
		return domain.Conflictf(domain.EINVOICEVOID, "invoice %s is void", invoiceID)
	case domain.InvoiceStatusPaid:
		return domain.Conflictf(domain.EINVOICEPAID, "invoice %s is already paid", invoiceID)
	}
	loc, _ := domain.LoadZone(row.Timezone)
	today := domain.DateOf(s.db.now(), loc)
	if p.PaidOn.IsZero() {
		p.PaidOn = today
	}
	if p.PaidOn.After(today) {
		return fieldError("paid_on", "must not be in the future (today is "+today.String()+" in "+row.Timezone+")")
	}
	if p.PaidOn.Before(dateOf(row.IssueDate)) {
		return fieldError("paid_on", "must not be before the issue date "+dateOf(row.IssueDate).String())
	}
	// Before day 1 overdue nothing can be charged: skip the ledger reads,
	// and settle the row from its own totals and this payment.
	mayCharge := row.ChargesTotal != 0 || !p.PaidOn.Before(dateOf(row.OverdueFrom))
	if mayCharge {
		if err := s.postChargesBeforePayment(ctx, tx, row, p); err != nil {
			return err
		}
		if row, err = lockInvoice(tx, invoiceID, false); err != nil {
			return err
		}
	}
	o := domain.Outstanding{Principal: max(0, row.Total-row.PrincipalPaid)}
	var charges []chargeRow
	if mayCharge {
		if o, charges, err = outstanding(tx, row); err != nil {
			return err
		}
	}
	ag, err := row.agreement()
	if err != nil {
		return err
	}
	alloc := domain.Allocate(ag.WithDefaults().Allocation, p.Amount, o)
	for kind, amount := range map[domain.ChargeKind]int64{domain.ChargeCompensation: alloc.Compensation, domain.ChargeLateFee: alloc.Fees, domain.ChargeInterest: alloc.Interest} {
		if err := spreadOverCharges(tx, charges, kind, amount); err != nil {
			return err
		}
	}
	pay := paymentRow{ID: s.db.newID("pay"), InvoiceID: invoiceID, ClientID: row.ClientID, Amount: p.Amount, Currency: row.Currency,
		PaidOn: p.PaidOn.String(), Method: p.Method, Reference: p.Reference, Source: p.Source, ExternalKey: p.Key,
		AllocCompensation: alloc.Compensation, AllocFees: alloc.Fees, AllocInterest: alloc.Interest, AllocPrincipal: alloc.Principal,
		AllocCredit: alloc.Credit, CreatedAt: s.db.now()}
	if _, err := rawExec(tx, valuesSQL("payments", paymentCols, 1), pay.values()...); err != nil {
		return err
	}
	if alloc.Credit > 0 {
		if err := s.db.addCredit(tx, row.ClientID, row.Currency, alloc.Credit, "overpayment", invoiceID, pay.ID); err != nil {
			return err
		}
	}
	*out = pay.toDomain()
	if err := s.db.emit(ctx, tx, "payment.recorded", row.ClientID, invoiceID, *out, false); err != nil {
		return err
	}
	if mayCharge {
		_, err = s.db.refresh(ctx, tx, invoiceID, p.PaidOn)
		return err
	}
	t := row.totals()
	t.Paid += alloc.Compensation + alloc.Fees + alloc.Interest + alloc.Principal
	t.PrincipalPaid += alloc.Principal
	t.CreditCreated += alloc.Credit
	return s.db.settle(ctx, tx, row, t, p.PaidOn)
}

// postChargesBeforePayment posts what the invoice owed by the payment day,
// so the payment is allocated against it; when the payment settles the
// whole payoff, the final interest posting for the days of the current
// month is posted too (ENFORCEMENT.md section 5).
func (s *InvoiceService) postChargesBeforePayment(ctx context.Context, tx *gorm.DB, row *invoiceRow, p domain.PaymentInput) error {
	if row.Agreement == nil || row.Disputed || row.Processing > 0 {
		return nil
	}
	f, chargesPaid, err := s.db.loadFacts(tx, row)
	if err != nil {
		return err
	}
	var missing *domain.MissingRateError
	due, err := domain.ChargesDue(f, p.PaidOn)
	if errors.As(err, &missing) {
		return nil // the sweep reports the missing rate; the payment still counts
	}
	if err != nil {
		return err
	}
	q, err := domain.Accrual(f, chargesPaid, p.PaidOn)
	if err != nil {
		return err
	}
	if q.PrincipalOutstanding > 0 && p.Amount >= q.Payoff {
		// Settled in full on PaidOn: the rules close the month at that day.
		f.PrincipalReductions = append(f.PrincipalReductions, domain.Reduction{On: p.PaidOn, Amount: q.PrincipalOutstanding})
		if due, err = domain.ChargesDue(f, p.PaidOn); err != nil {
			return err
		}
	}
	_, err = s.db.postCharges(ctx, tx, row, due)
	return err
}

// FindPayments implements domain.InvoiceService.
func (s *InvoiceService) FindPayments(ctx context.Context, invoiceID string) ([]domain.Payment, error) {
	if _, err := lockInvoice(s.db.reader(ctx), invoiceID, false); err != nil {
		return nil, err
	}
	var rows []paymentRow
	if err := s.db.reader(ctx).Where("invoice_id = ?", invoiceID).Order("paid_on, id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Payment, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// RefundPayment implements domain.InvoiceService. A refund takes back, in
// order, unused credit the payment created, then principal, interest, fees
// and compensation, and reopens the invoice when it was paid.
func (s *InvoiceService) RefundPayment(ctx context.Context, paymentID string, r domain.RefundInput) (*domain.Refund, error) {
	f := domain.FieldErrors{}
	if r.Amount <= 0 || r.Amount > domain.MaxAmount {
		f.Add("amount", "must be a positive integer in minor units")
	}
	if r.Key == "" {
		f.Add("key", "is required")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var out domain.Refund
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		return s.refundPaymentTx(ctx, tx, paymentID, r, &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// refundPaymentTx is RefundPayment inside the caller's transaction (the
// Stripe ledger records Stripe's refunds in the transaction of their event);
// it leaves the refund, or the one recorded before under the same key, in out.
func (s *InvoiceService) refundPaymentTx(ctx context.Context, tx *gorm.DB, paymentID string, r domain.RefundInput, out *domain.Refund) error {
	var existing refundRow
	if err := tx.Where("external_key = ?", r.Key).Limit(1).Find(&existing).Error; err != nil {
		return err
	}
	if existing.ID != "" {
		*out = existing.toDomain()
		return nil
	}
	var pay paymentRow
	if err := tx.Take(&pay, "id = ?", paymentID).Error; err != nil {
		if domain.ErrorCode(translate(err)) == domain.ENOTFOUND {
			return domain.Errorf(domain.ENOTFOUND, "payment %s not found", paymentID)
		}
		return err
	}
	row, err := lockInvoice(tx, pay.InvoiceID, true)
	if err != nil {
		return err
	}
	// Read the payment again under the invoice's lock: a concurrent refund
	// of it may have committed since.
	if err := tx.Take(&pay, "id = ?", paymentID).Error; err != nil {
		return err
	}
	if left := pay.Amount - pay.Refunded; r.Amount > left {
		return fieldError("amount", "is more than the "+domain.FormatMoney(left, pay.Currency)+" of this payment not yet refunded")
	}
	loc, _ := domain.LoadZone(row.Timezone)
	if r.RefundedOn.IsZero() {
		r.RefundedOn = domain.DateOf(s.db.now(), loc)
	}
	if r.RefundedOn.Before(dateOf(&pay.PaidOn)) {
		return fieldError("refunded_on", "must not be before the payment date "+pay.PaidOn)
	}
	var prior struct{ Comp, Fees, Interest, Principal, Credit int64 }
	if err := tx.Raw(`SELECT COALESCE(SUM(rev_compensation),0) AS comp, COALESCE(SUM(rev_fees),0) AS fees,
		COALESCE(SUM(rev_interest),0) AS interest, COALESCE(SUM(rev_principal),0) AS principal, COALESCE(SUM(rev_credit),0) AS credit
		FROM refunds WHERE payment_id = ?`, paymentID).Scan(&prior).Error; err != nil {
		return err
	}
	var credit int64
	if pay.AllocCredit > prior.Credit {
		// The refund may take back credit: read it under its lock.
		if err := lockCredit(tx, row.ClientID); err != nil {
			return err
		}
		if credit, err = creditBalance(tx, row.ClientID, row.Currency); err != nil {
			return err
		}
	}
	left := r.Amount
	take := func(avail int64) int64 {
		n := max(0, min(left, avail))
		left -= n
		return n
	}
	rev := domain.Allocation{}
	rev.Credit = take(min(pay.AllocCredit-prior.Credit, credit))
	rev.Principal = take(pay.AllocPrincipal - prior.Principal)
	rev.Interest = take(pay.AllocInterest - prior.Interest)
	rev.Fees = take(pay.AllocFees - prior.Fees)
	rev.Compensation = take(pay.AllocCompensation - prior.Comp)
	if left > 0 {
		// The rest came back as credit that was used since; take it from the client's credit.
		return fieldError("amount", "the client has spent the credit this payment created; refund at most "+
			domain.FormatMoney(r.Amount-left, pay.Currency))
	}
	_, charges, err := outstanding(tx, row)
	if err != nil {
		return err
	}
	for kind, amount := range map[domain.ChargeKind]int64{domain.ChargeCompensation: rev.Compensation, domain.ChargeLateFee: rev.Fees, domain.ChargeInterest: rev.Interest} {
		if err := spreadOverCharges(tx, charges, kind, -amount); err != nil {
			return err
		}
	}
	ref := refundRow{ID: s.db.newID("rfd"), PaymentID: pay.ID, InvoiceID: pay.InvoiceID, Amount: r.Amount, RefundedOn: r.RefundedOn.String(),
		Reason: r.Reason, ExternalKey: r.Key, RevCompensation: rev.Compensation, RevFees: rev.Fees, RevInterest: rev.Interest,
		RevPrincipal: rev.Principal, RevCredit: rev.Credit, CreatedAt: s.db.now()}
	if err := tx.Create(&ref).Error; err != nil {
		return err
	}
	if err := tx.Model(&paymentRow{}).Where("id = ?", pay.ID).Update("refunded", pay.Refunded+r.Amount).Error; err != nil {
		return err
	}
	if rev.Credit > 0 {
		if err := s.db.addCredit(tx, row.ClientID, row.Currency, -rev.Credit, "refund", pay.InvoiceID, pay.ID); err != nil {
			return err
		}
	}
	*out = ref.toDomain()
	if err := s.db.emit(ctx, tx, "payment.refunded", row.ClientID, pay.InvoiceID, *out, false); err != nil {
		return err
	}
	_, err = s.db.refresh(ctx, tx, pay.InvoiceID, domain.Date{})
	return err
}

// FindCharges implements domain.InvoiceService.
func (s *InvoiceService) FindCharges(ctx context.Context, invoiceID string) ([]domain.Charge, error) {
	if _, err := lockInvoice(s.db.reader(ctx), invoiceID, false); err != nil {
		return nil, err
	}
	var rows []chargeRow
	if err := s.db.reader(ctx).Where("invoice_id = ?", invoiceID).Order("posted_on, id").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Charge, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// WaiveCharge implements domain.InvoiceService. The charge row stays (its
// unique key keeps the sweep from posting it again); what was unpaid of it
// is waived.
func (s *InvoiceService) WaiveCharge(ctx context.Context, invoiceID, chargeID, reason string) (*domain.Charge, error) {
	f := domain.FieldErrors{}
	if len(reason) == 0 || len(reason) > domain.MaxTextLen {
		f.Add("reason", "is required (why the charge is waived), at most %d characters", domain.MaxTextLen)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var out domain.Charge
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := lockInvoice(tx, invoiceID, true)
		if err != nil {
			return err
		}
		var c chargeRow
		if err := tx.Take(&c, "id = ? AND invoice_id = ?", chargeID, invoiceID).Error; err != nil {
			if domain.ErrorCode(translate(err)) == domain.ENOTFOUND {
				return domain.Errorf(domain.ENOTFOUND, "charge %s not found on invoice %s", chargeID, invoiceID)
			}
			return err
		}
		if c.WaiveReason != "" {
			out = c.toDomain()
			return nil
		}
		c.WaivedAmount, c.WaiveReason = c.Amount-c.Paid, reason
		// waived_on dates the exception for the client health report.
		loc, _ := domain.LoadZone(row.Timezone)
		waivedOn := domain.DateOf(s.db.now(), loc).String()
		if err := tx.Model(&chargeRow{}).Where("id = ?", c.ID).Updates(map[string]any{"waived_amount": c.WaivedAmount, "waive_reason": reason, "waived_on": waivedOn}).Error; err != nil {
			return err
		}
		out = c.toDomain()
		if err := s.db.emit(ctx, tx, "charge.waived", row.ClientID, invoiceID, out, false); err != nil {
			return err
		}
		_, err = s.db.refresh(ctx, tx, invoiceID, domain.Date{})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Quote implements domain.InvoiceService: the payoff on asOf, day-accurate,
// from the ledger as it stands, writing nothing.
func (s *InvoiceService) Quote(ctx context.Context, invoiceID string, asOf domain.Date) (domain.Quote, error) {
	tx := s.db.reader(ctx)
	row, err := lockInvoice(tx, invoiceID, false)
	if err != nil {
		return domain.Quote{}, err
	}
	if row.Agreement == nil {
		return domain.Quote{}, domain.Conflictf(domain.EINVOICENOTOPEN, "invoice %s is a draft; it owes nothing yet", invoiceID)
	}
	if asOf.Before(dateOf(row.IssueDate)) {
		return domain.Quote{}, fieldError("as_of", "must not be before the issue date "+dateOf(row.IssueDate).String())
	}
	f, chargesPaid, err := s.db.loadFacts(tx, row)
	if err != nil {
		return domain.Quote{}, err
	}
	q, err := domain.Accrual(f, chargesPaid, asOf)
	var missing *domain.MissingRateError
	if errors.As(err, &missing) {
		return domain.Quote{}, domain.Unprocessablef("missing_reference_rate", "%s; load it with PUT /v1/reference_rates/%s", missing.Error(), missing.Series)
	}
	if row.Status == domain.InvoiceStatusVoid {
		return domain.Quote{AsOf: asOf, Principal: row.Total}, err
	}
	return q, err
}
