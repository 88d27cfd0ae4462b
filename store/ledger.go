package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

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
	Facts        *string // domain.ChargeFacts as JSON
	Paid         int64
	WaivedAmount int64
	WaiveReason  string
	WaivedOn     *string
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
	if r.Facts != nil {
		var f domain.ChargeFacts
		if json.Unmarshal([]byte(*r.Facts), &f) == nil {
			c.Facts = &f
		}
	}
	return c
}

// factsCol is a charge's facts for its column, nil when it has none.
func factsCol(f *domain.ChargeFacts) *string {
	if f == nil {
		return nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil
	}
	s := string(b)
	return &s
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
	if err := s.db.addCredit(tx, row.ClientID, row.Currency, -use, domain.CreditApplied, row.ID, ""); err != nil {
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
	PrincipalPaid int64 // the part of Paid, CreditApplied and Credited that went to principal
	Credited      int64 // principal credit notes took off
}

// totals returns the sums the row's columns hold.
func (r *invoiceRow) totals() ledgerTotals {
	return ledgerTotals{Charges: r.ChargesTotal, Paid: r.AmountPaid, CreditCreated: r.CreditCreated,
		CreditApplied: r.CreditApplied, PrincipalPaid: r.PrincipalPaid, Credited: r.Credited}
}

// sumLedger adds up an invoice's ledger rows.
func sumLedger(tx *gorm.DB, id string) (ledgerTotals, error) {
	var charges, paid, paidCredit, paidPrincipal, refunded, refundedCredit, refPrincipal, creditApplied, credited int64
	err := rawScan(tx, `SELECT
		(SELECT COALESCE(SUM(amount - waived_amount), 0) FROM charges WHERE invoice_id = ?),
		(SELECT COALESCE(SUM(alloc_compensation + alloc_fees + alloc_interest + alloc_principal), 0) FROM payments WHERE invoice_id = ?),
		(SELECT COALESCE(SUM(alloc_credit), 0) FROM payments WHERE invoice_id = ?),
		(SELECT COALESCE(SUM(alloc_principal), 0) FROM payments WHERE invoice_id = ?),
		(SELECT COALESCE(SUM(rev_compensation + rev_fees + rev_interest + rev_principal), 0) FROM refunds WHERE invoice_id = ?),
		(SELECT COALESCE(SUM(rev_credit), 0) FROM refunds WHERE invoice_id = ?),
		(SELECT COALESCE(SUM(rev_principal), 0) FROM refunds WHERE invoice_id = ?),
		(SELECT COALESCE(-SUM(amount), 0) FROM client_credits WHERE invoice_id = ? AND kind IN ('applied', 'released')),
		(SELECT COALESCE(SUM(alloc_principal), 0) FROM credit_notes WHERE invoice_id = ?)`,
		[]any{id, id, id, id, id, id, id, id, id}, &charges, &paid, &paidCredit, &paidPrincipal, &refunded, &refundedCredit, &refPrincipal,
		&creditApplied, &credited)
	return ledgerTotals{Charges: charges, Paid: paid - refunded, CreditCreated: paidCredit - refundedCredit, CreditApplied: creditApplied,
		PrincipalPaid: paidPrincipal - refPrincipal + creditApplied + credited, Credited: credited}, err
}

// refresh brings an invoice's ledger in line with its dated facts as of
// today (reconcile) and moves it between open and paid. A void or draft
// invoice owes nothing: its columns are summed from its rows. day is when
// a full payment happened, for an invoice without terms.
func (db *DB) refresh(ctx context.Context, tx *gorm.DB, id string, day domain.Date) (*invoiceRow, error) {
	return db.refreshThen(ctx, tx, id, day, nil)
}

// refreshThen is refresh that calls then (when not nil) once the ledger
// rows are written and before the invoice moves between open and paid, so
// the fact's own event comes before the invoice's.
func (db *DB) refreshThen(ctx context.Context, tx *gorm.DB, id string, day domain.Date, then func() error) (*invoiceRow, error) {
	row, err := lockInvoice(tx, id, false)
	if err != nil {
		return nil, err
	}
	if row.Agreement != nil && row.Status != domain.InvoiceStatusVoid && row.Status != domain.InvoiceStatusDraft {
		loc, _ := domain.LoadZone(row.Timezone)
		return row, db.reconcile(ctx, tx, row, domain.DateOf(db.now(), loc), false, then)
	}
	if then != nil {
		if err := then(); err != nil {
			return nil, err
		}
	}
	t, err := sumLedger(tx, id)
	if err != nil {
		return nil, err
	}
	return row, db.settle(ctx, tx, row, t, day, nil)
}

// settle sets the row's money columns to the ledger totals t, moves the
// invoice between open and paid (day is when a full payment happened), sets
// its next action day (next, when the caller knows it; else the earlier of
// the day already set, whose work the sweep has not done, and the next day
// a rule needs the invoice) and writes it. A caller that knows what its
// change added to the ledger passes the row's totals plus that instead of
// summing the ledger again.
func (db *DB) settle(ctx context.Context, tx *gorm.DB, row *invoiceRow, t ledgerTotals, day domain.Date, next *domain.Date) error {
	row.ChargesTotal, row.AmountPaid, row.CreditCreated, row.CreditApplied, row.PrincipalPaid, row.Credited =
		t.Charges, t.Paid, t.CreditCreated, t.CreditApplied, t.PrincipalPaid, t.Credited
	balance, err := domain.Sum(row.Total, row.ChargesTotal, -row.AmountPaid, -row.CreditApplied, -row.Credited)
	if err != nil {
		return err
	}
	row.BalanceDue = balance
	if row.Status == domain.InvoiceStatusVoid {
		row.BalanceDue = 0
	}
	becamePaid, reopened := false, false
	pending := dateOf(row.NextActionOn)
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
		switch ag, err := row.agreement(); {
		case next != nil:
			row.NextActionOn = dateCol(*next)
		case err == nil && row.Agreement != nil:
			loc, _ := domain.LoadZone(row.Timezone)
			today := domain.DateOf(db.now(), loc)
			d := domain.NextActionOn(ag, dateOf(row.DueDate), today.AddDays(-1), row.PrincipalPaid >= row.Total)
			if !pending.IsZero() && (d.IsZero() || pending.Before(d)) {
				d = pending // work the sweep has not done yet stays due
			}
			if reopened {
				d = today // owed again: the sweep looks at it today
			}
			row.NextActionOn = dateCol(d)
		}
	}
	row.UpdatedAt = db.now()
	if _, err := rawExec(tx, `UPDATE invoices SET status = ?, paid_on = ?, charges_total = ?, amount_paid = ?, credit_applied = ?,
		credit_created = ?, principal_paid = ?, credited = ?, balance_due = ?, next_action_on = ?, updated_at = ? WHERE id = ?`,
		row.Status, nullable(row.PaidOn), row.ChargesTotal, row.AmountPaid, row.CreditApplied, row.CreditCreated, row.PrincipalPaid,
		row.Credited, row.BalanceDue, nullable(row.NextActionOn), row.UpdatedAt, row.ID); err != nil {
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

// ledgerRows are an invoice's ledger rows and the dated facts they hold.
type ledgerRows struct {
	facts         domain.InvoiceFacts
	creditApplied int64
	charges       []chargeRow
	payments      []paymentRow
	refunds       []refundRow
	notes         []creditNoteAlloc
}

// loadFacts gathers what the enforcement rules need about an issued
// invoice: its dated facts, with the rows they come from.
func (db *DB) loadFacts(tx *gorm.DB, row *invoiceRow) (*ledgerRows, error) {
	ag, err := row.agreement()
	if err != nil {
		return nil, err
	}
	if ag, err = enforced(tx, ag); err != nil {
		return nil, err
	}
	lr := &ledgerRows{facts: domain.InvoiceFacts{InvoiceID: row.ID, Currency: row.Currency, Principal: row.Total,
		DueDate: dateOf(row.DueDate), Agreement: ag}}
	if err := rawQuery(tx, paymentSelect+" WHERE invoice_id = ? ORDER BY paid_on, id", []any{row.ID}, func(scan func(dest ...any) error) error {
		lr.payments = append(lr.payments, paymentRow{})
		return scan(lr.payments[len(lr.payments)-1].fields()...)
	}); err != nil {
		return nil, err
	}
	if err := tx.Where("invoice_id = ?", row.ID).Order("refunded_on, id").Find(&lr.refunds).Error; err != nil {
		return nil, err
	}
	if err := tx.Where("invoice_id = ?", row.ID).Order("posted_on, id").Find(&lr.charges).Error; err != nil {
		return nil, err
	}
	lr.facts.Payments, lr.facts.Refunds, lr.facts.Waivers = factsOf(lr.payments, lr.refunds, lr.charges)
	if err := rawScan(tx, "SELECT kind FROM clients WHERE id = ?", []any{row.ClientID}, &lr.facts.ClientKind); err != nil {
		return nil, err
	}
	if lr.notes, err = loadCreditNoteAllocs(tx, []any{row.ID}); err != nil {
		return nil, err
	}
	lr.facts.CreditNotes = creditNoteFacts(lr.notes)
	// Credit applied at issue may not be on the row yet.
	if err := rawScan(tx, "SELECT COALESCE(-SUM(amount), 0) FROM client_credits WHERE invoice_id = ? AND kind IN ('applied', 'released')",
		[]any{row.ID}, &lr.creditApplied); err != nil {
		return nil, err
	}
	if lr.creditApplied > 0 {
		lr.facts.PrincipalReductions = []domain.Reduction{{On: dateOf(row.IssueDate), Amount: lr.creditApplied}}
	}
	if ag.Interest != nil && ag.Interest.Preset != "" {
		if lr.facts.Rates, err = loadRates(tx, domain.PresetSeries(ag.Interest.Preset)); err != nil {
			return nil, err
		}
	}
	return lr, nil
}

// factsOf reads the dated facts out of ledger rows: payments, refunds, and
// the waivers of charges.
func factsOf(pays []paymentRow, refs []refundRow, charges []chargeRow) ([]domain.PaymentFact, []domain.RefundFact, []domain.WaiverFact) {
	var (
		ps []domain.PaymentFact
		rs []domain.RefundFact
		ws []domain.WaiverFact
	)
	for _, p := range pays {
		ps = append(ps, domain.PaymentFact{ID: p.ID, On: dateOf(&p.PaidOn), Amount: p.Amount, Order: p.ExternalKey})
	}
	for _, r := range refs {
		rs = append(rs, domain.RefundFact{ID: r.ID, PaymentID: r.PaymentID, On: dateOf(&r.RefundedOn), Amount: r.Amount, Order: r.ExternalKey})
	}
	for _, c := range charges {
		if c.WaiveReason != "" && domain.AdjustedKey(c.Key) == c.Key {
			on := dateOf(c.WaivedOn)
			if on.IsZero() {
				on = dateOf(&c.PostedOn)
			}
			ws = append(ws, domain.WaiverFact{Key: c.Key, On: on})
		}
	}
	return ps, rs, ws
}

// reconcile brings an invoice's ledger in line with what its dated facts
// come to on asOf (domain.ComputeLedger), whatever order they were recorded
// in: it posts the charges that are due and not posted, posts a correction
// under its own key where a posted charge differs (never editing what was
// posted), re-allocates payments and refunds, moves the credit they
// created, and sets the invoice's figures, status and next action day. The
// sweep (sweep true) has done every rule's work through asOf; other callers
// leave the sweep's pending work due. A reference rate that is not loaded
// leaves the ledger as it is, but for the figures.
func (db *DB) reconcile(ctx context.Context, tx *gorm.DB, row *invoiceRow, asOf domain.Date, sweep bool, then func() error) error {
	lr, err := db.loadFacts(tx, row)
	if err != nil {
		return err
	}
	l, err := domain.ComputeLedger(lr.facts, asOf)
	var missing *domain.MissingRateError
	if errors.As(err, &missing) {
		// The sweep reports the missing rate; the facts still count once
		// it is loaded.
		t, err := sumLedger(tx, row.ID)
		if err != nil {
			return err
		}
		if then != nil {
			if err := then(); err != nil {
				return err
			}
		}
		return db.settle(ctx, tx, row, t, asOf, nil)
	}
	if err != nil {
		return err
	}
	if err := db.writeCharges(ctx, tx, row, lr, l, asOf); err != nil {
		return err
	}
	t, err := db.writeAllocations(ctx, tx, row, lr, l)
	if err != nil {
		return err
	}
	if then != nil {
		if err := then(); err != nil {
			return err
		}
	}
	settled := l.SettledOn
	if settled.IsZero() {
		settled = asOf
	} else if row.Status == domain.InvoiceStatusPaid {
		row.PaidOn = dateCol(settled) // a late fact moves the day it was paid
	}
	var next *domain.Date
	if sweep {
		ag, _ := row.agreement()
		n := domain.NextActionOn(ag, dateOf(row.DueDate), asOf, l.PrincipalOutstanding == 0)
		next = &n
	}
	return db.settle(ctx, tx, row, t, settled, next)
}

// writeCharges posts what the ledger l has and the rows lack, and sets what
// is paid and waived of each charge on its own row (corrections carry none).
func (db *DB) writeCharges(ctx context.Context, tx *gorm.DB, row *invoiceRow, lr *ledgerRows, l *domain.Ledger, asOf domain.Date) error {
	posted := make([]domain.Charge, len(lr.charges))
	corrections := map[string]int{}
	for i := range lr.charges {
		posted[i] = lr.charges[i].toDomain()
		if k := domain.AdjustedKey(lr.charges[i].Key); k != lr.charges[i].Key {
			corrections[k]++
		}
	}
	state := func(key string) (paid, waived int64) {
		if c, ok := l.Charge(key); ok {
			return c.Paid, c.Waived
		}
		return 0, 0
	}
	for _, d := range domain.ChargeDifferences(l.Charges, posted, row.Currency) {
		c := chargeRow{ID: db.newID("chg"), InvoiceID: row.ID, Kind: string(d.Kind), Key: d.Key, Amount: d.Amount,
			PostedOn: d.PostOn.String(), PeriodFrom: dateCol(d.From), PeriodTo: dateCol(d.To), Days: d.Days,
			Description: d.Description, Facts: factsCol(d.Facts), CreatedAt: db.now()}
		event := domain.EventChargePosted
		if d.Correction {
			corrections[d.Key]++
			c.Key, c.PostedOn, event = domain.AdjustmentKey(d.Key, corrections[d.Key]), asOf.String(), domain.EventChargeAdjusted
		} else {
			c.Paid, c.WaivedAmount = state(d.Key)
		}
		if len(d.Breakdown) > 0 {
			b, err := json.Marshal(d.Breakdown)
			if err != nil {
				return err
			}
			c.Breakdown = string(b)
		}
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		dc := c.toDomain()
		if err := db.emit(ctx, tx, event, row.ClientID, row.ID, dc, true); err != nil {
			return err
		}
	}
	for i := range lr.charges {
		c := &lr.charges[i]
		if domain.AdjustedKey(c.Key) != c.Key {
			continue
		}
		paid, waived := state(c.Key)
		if paid == c.Paid && waived == c.WaivedAmount {
			continue
		}
		if _, err := rawExec(tx, "UPDATE charges SET paid = ?, waived_amount = ? WHERE id = ?", paid, waived, c.ID); err != nil {
			return err
		}
	}
	return nil
}

// writeAllocations sets each payment's allocation and each refund's
// reversal to the ledger's, moves the client credit they created to match,
// and returns the invoice's totals.
func (db *DB) writeAllocations(ctx context.Context, tx *gorm.DB, row *invoiceRow, lr *ledgerRows, l *domain.Ledger) (ledgerTotals, error) {
	t := ledgerTotals{CreditApplied: lr.creditApplied, PrincipalPaid: lr.creditApplied}
	var err error
	for i := range l.Charges {
		if t.Charges, err = domain.Sum(t.Charges, l.Charges[i].Amount-l.Charges[i].Waived); err != nil {
			return t, err
		}
	}
	credit := map[string]int64{} // credit each payment created, less refunds
	for i := range lr.payments {
		p := &lr.payments[i]
		a := l.Payments[p.ID]
		if t.Paid, err = domain.Sum(t.Paid, a.Compensation, a.Fees, a.Interest, a.Principal); err != nil {
			return t, err
		}
		t.PrincipalPaid += a.Principal
		t.CreditCreated += a.Credit
		credit[p.ID] += a.Credit
		before := domain.Allocation{Compensation: p.AllocCompensation, Fees: p.AllocFees, Interest: p.AllocInterest, Principal: p.AllocPrincipal, Credit: p.AllocCredit}
		if before == a {
			continue
		}
		if _, err := rawExec(tx, `UPDATE payments SET alloc_compensation = ?, alloc_fees = ?, alloc_interest = ?, alloc_principal = ?,
			alloc_credit = ? WHERE id = ?`, a.Compensation, a.Fees, a.Interest, a.Principal, a.Credit, p.ID); err != nil {
			return t, err
		}
		if before.Total() != 0 {
			if err := db.emit(ctx, tx, domain.EventPaymentReallocated, row.ClientID, row.ID,
				map[string]any{"payment_id": p.ID, "before": before, "after": a}, false); err != nil {
				return t, err
			}
		}
	}
	for i := range lr.refunds {
		r := &lr.refunds[i]
		a := l.Refunds[r.ID]
		t.Paid -= a.Compensation + a.Fees + a.Interest + a.Principal
		t.PrincipalPaid -= a.Principal
		t.CreditCreated -= a.Credit
		credit[r.PaymentID] -= a.Credit
		before := domain.Allocation{Compensation: r.RevCompensation, Fees: r.RevFees, Interest: r.RevInterest, Principal: r.RevPrincipal, Credit: r.RevCredit}
		if before == a {
			continue
		}
		if _, err := rawExec(tx, `UPDATE refunds SET rev_compensation = ?, rev_fees = ?, rev_interest = ?, rev_principal = ?,
			rev_credit = ? WHERE id = ?`, a.Compensation, a.Fees, a.Interest, a.Principal, a.Credit, r.ID); err != nil {
			return t, err
		}
	}
	for _, n := range lr.notes {
		a := l.CreditNotes[n.ID]
		t.Credited += a.Principal
		t.PrincipalPaid += a.Principal
		t.CreditCreated += a.Credit
		credit[n.ID] += a.Credit
		if a.Principal == n.AllocPrincipal && a.Credit == n.AllocCredit {
			continue
		}
		if _, err := rawExec(tx, "UPDATE credit_notes SET alloc_principal = ?, alloc_credit = ? WHERE id = ?", a.Principal, a.Credit, n.ID); err != nil {
			return t, err
		}
	}
	return t, db.moveCredit(ctx, tx, row, credit)
}

// moveCredit makes the client credit each payment created (less its
// refunds) what want says: a first overpayment is written as such, a
// change as an adjustment. Credit the client has already spent cannot be
// taken back: that is a conflict, and nothing is written.
func (db *DB) moveCredit(ctx context.Context, tx *gorm.DB, row *invoiceRow, want map[string]int64) error {
	if len(want) == 0 {
		return nil
	}
	ids := make([]any, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	have := map[string]int64{}
	entries := map[string]int{}
	in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")"
	if err := rawQuery(tx, "SELECT payment_id, amount FROM client_credits WHERE payment_id IN "+in, ids, func(scan func(dest ...any) error) error {
		var id string
		var amount int64
		if err := scan(&id, &amount); err != nil {
			return err
		}
		have[id] += amount
		entries[id]++
		return nil
	}); err != nil {
		return err
	}
	changed := false
	for _, p := range sortedKeys(want) {
		diff := want[p] - have[p]
		if diff == 0 {
			continue
		}
		if !changed {
			// The client's credit changes: under its lock (invoice, then client).
			if err := lockCredit(tx, row.ClientID); err != nil {
				return err
			}
		}
		kind := domain.CreditAdjusted
		switch {
		case strings.HasPrefix(p, creditNotePrefix+"_"):
			kind = domain.CreditCreditNote // what a credit note created, and any change of it
		case entries[p] == 0 && diff > 0:
			kind = domain.CreditOverpayment
		case diff < 0 && want[p] >= 0 && entries[p] > 0 && have[p] > 0:
			kind = domain.CreditRefund
		}
		if err := db.addCredit(tx, row.ClientID, row.Currency, diff, kind, row.ID, p); err != nil {
			return err
		}
		changed = true
	}
	if !changed {
		return nil
	}
	balance, err := creditBalance(tx, row.ClientID, row.Currency)
	if err != nil {
		return err
	}
	if balance < 0 {
		return domain.Conflictf(domain.ECONFLICT, "the client has already spent %s of the credit this change takes back",
			domain.FormatMoney(-balance, row.Currency))
	}
	return nil
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
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
	var created bool
	if err := s.recordPaymentOnce(ctx, tx, invoiceID, p, out, &created); err != nil || !created {
		return err
	}
	// A payment that leaves part of the invoice to pay gets a receipt; one
	// that pays it in full is told by invoice.paid.
	var number, currency, status string
	var balance int64
	if err := rawScan(tx, "SELECT number, currency, status, balance_due FROM invoices WHERE id = ?", []any{invoiceID},
		&number, &currency, &status, &balance); err != nil {
		return err
	}
	if status != domain.InvoiceStatusOpen && status != domain.InvoiceStatusUncollectible || balance <= 0 {
		return nil
	}
	return s.db.emit(ctx, tx, domain.EventPaymentReceived, out.ClientID, invoiceID, map[string]any{
		"number": number, "currency": currency, "amount": out.Amount, "paid_on": out.PaidOn, "balance_due": balance,
	}, true)
}

// recordPaymentOnce records the payment unless its key was recorded before;
// created says whether it wrote one.
func (s *InvoiceService) recordPaymentOnce(ctx context.Context, tx *gorm.DB, invoiceID string, p domain.PaymentInput, out *domain.Payment, created *bool) error {
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
	}
	loc, _ := domain.LoadZone(row.Timezone)
	today := domain.DateOf(s.db.now(), loc)
	if p.PaidOn.IsZero() {
		p.PaidOn = today
	}
	if row.Status == domain.InvoiceStatusPaid && p.PaidOn.After(dateOf(row.PaidOn)) {
		// Money dated on or before the day the invoice was paid is a late
		// fact and counts (what it overpays becomes credit); money after it
		// is a mistake.
		return domain.Conflictf(domain.EINVOICEPAID, "invoice %s was paid on %s", invoiceID, dateOf(row.PaidOn))
	}
	if p.PaidOn.After(today) {
		return fieldError("paid_on", "must not be in the future (today is "+today.String()+" in "+row.Timezone+")")
	}
	if p.PaidOn.Before(dateOf(row.IssueDate)) {
		return fieldError("paid_on", "must not be before the issue date "+dateOf(row.IssueDate).String())
	}
	// The first payment, dated before day 1 overdue, of an invoice with
	// nothing charged goes to principal (the rest is credit): settle the row
	// from its own totals. Anything else is allocated by reconcile, as of
	// the payment's date, with every other fact.
	simple := row.ChargesTotal == 0 && p.PaidOn.Before(dateOf(row.OverdueFrom))
	if simple {
		var found int
		if err := rawQuery(tx, "SELECT 1 FROM payments WHERE invoice_id = ? LIMIT 1", []any{invoiceID}, func(scan func(dest ...any) error) error {
			return scan(&found)
		}); err != nil {
			return err
		}
		simple = found == 0
	}
	pay := paymentRow{ID: s.db.newID("pay"), InvoiceID: invoiceID, ClientID: row.ClientID, Amount: p.Amount, Currency: row.Currency,
		PaidOn: p.PaidOn.String(), Method: p.Method, Reference: p.Reference, Source: p.Source, ExternalKey: p.Key, CreatedAt: s.db.now()}
	var alloc domain.Allocation
	if simple {
		alloc = domain.Allocate(domain.AllocationPrincipalFirst, p.Amount, domain.Outstanding{Principal: max(0, row.Total-row.PrincipalPaid)})
		pay.AllocPrincipal, pay.AllocCredit = alloc.Principal, alloc.Credit
	}
	if _, err := rawExec(tx, valuesSQL("payments", paymentCols, 1), pay.values()...); err != nil {
		return err
	}
	*created = true
	if !simple {
		_, err := s.db.refreshThen(ctx, tx, invoiceID, p.PaidOn, func() error {
			if err := rawScan(tx, paymentSelect+" WHERE id = ?", []any{pay.ID}, pay.fields()...); err != nil {
				return err
			}
			*out = pay.toDomain()
			return s.db.emit(ctx, tx, "payment.recorded", row.ClientID, invoiceID, *out, false)
		})
		return err
	}
	if alloc.Credit > 0 {
		if err := s.db.addCredit(tx, row.ClientID, row.Currency, alloc.Credit, domain.CreditOverpayment, invoiceID, pay.ID); err != nil {
			return err
		}
	}
	*out = pay.toDomain()
	if err := s.db.emit(ctx, tx, "payment.recorded", row.ClientID, invoiceID, *out, false); err != nil {
		return err
	}
	t := row.totals()
	if t.Paid, err = domain.Sum(t.Paid, alloc.Principal); err != nil {
		return err
	}
	if t.CreditCreated, err = domain.Sum(t.CreditCreated, alloc.Credit); err != nil {
		return err
	}
	t.PrincipalPaid += alloc.Principal // at most the total
	return s.db.settle(ctx, tx, row, t, p.PaidOn, nil)
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
// order, the credit the payment created, then principal, interest, fees
// and compensation, as of its date, and reopens the invoice when it was paid.
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
	ref := refundRow{ID: s.db.newID("rfd"), PaymentID: pay.ID, InvoiceID: pay.InvoiceID, Amount: r.Amount, RefundedOn: r.RefundedOn.String(),
		Reason: r.Reason, ExternalKey: r.Key, CreatedAt: s.db.now()}
	if row.Status == domain.InvoiceStatusVoid {
		// A void invoice owes nothing: what it was paid is all credit.
		ref.RevCredit = r.Amount
		if err := lockCredit(tx, row.ClientID); err != nil {
			return err
		}
		if err := s.db.addCredit(tx, row.ClientID, row.Currency, -r.Amount, domain.CreditRefund, pay.InvoiceID, pay.ID); err != nil {
			return err
		}
	}
	if err := tx.Create(&ref).Error; err != nil {
		return err
	}
	if err := tx.Model(&paymentRow{}).Where("id = ?", pay.ID).Update("refunded", pay.Refunded+r.Amount).Error; err != nil {
		return err
	}
	// reconcile works out what the refund takes back, as of its date.
	_, err = s.db.refreshThen(ctx, tx, pay.InvoiceID, domain.Date{}, func() error {
		if err := tx.Take(&ref, "id = ?", ref.ID).Error; err != nil {
			return err
		}
		*out = ref.toDomain()
		return s.db.emit(ctx, tx, "payment.refunded", row.ClientID, pay.InvoiceID, *out, false)
	})
	if domain.ErrorCode(err) == domain.ECONFLICT {
		return fieldError("amount", "takes back client credit this payment created that the client has spent since")
	}
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
		if base := domain.AdjustedKey(c.Key); base != c.Key {
			return domain.Conflictf(domain.ECONFLICT, "charge %s corrects %s; waive that charge instead", chargeID, base)
		}
		// The waiver is a dated fact: it forgives what is unpaid of the
		// charge today, and reconcile works out how much that is.
		// waived_on also dates the exception for the client health report.
		loc, _ := domain.LoadZone(row.Timezone)
		waivedOn := domain.DateOf(s.db.now(), loc).String()
		if err := tx.Model(&chargeRow{}).Where("id = ?", c.ID).Updates(map[string]any{"waive_reason": reason, "waived_on": waivedOn}).Error; err != nil {
			return err
		}
		_, err = s.db.refreshThen(ctx, tx, invoiceID, domain.Date{}, func() error {
			if err := tx.Take(&c, "id = ?", c.ID).Error; err != nil {
				return err
			}
			out = c.toDomain()
			return s.db.emit(ctx, tx, "charge.waived", row.ClientID, invoiceID, out, false)
		})
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
	lr, err := s.db.loadFacts(tx, row)
	if err != nil {
		return domain.Quote{}, err
	}
	q, err := domain.Accrual(lr.facts, asOf)
	var missing *domain.MissingRateError
	if errors.As(err, &missing) {
		return domain.Quote{}, domain.Unprocessablef(domain.EMISSINGRATE, "%s; load it with PUT /v1/reference_rates/%s",
			missing.Error(), missing.Series)
	}
	if row.Status == domain.InvoiceStatusVoid {
		return domain.Quote{AsOf: asOf, Principal: row.Total}, err
	}
	return q, err
}
