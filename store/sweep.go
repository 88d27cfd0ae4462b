package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// latestZone is the zone whose calendar is furthest ahead (UTC+14): no
// invoice anywhere has reached a day that it has not.
var latestZone = time.FixedZone("UTC+14", 14*3600)

// The most charges one page of the sweep posts, so that its transaction,
// which holds the writer, stays short: an invoice posts at most
// sweepChargesPerInvoice of its charges in a page and the next page carries
// on with it; a page stops taking invoices once SweepChargesPerPage charges
// are queued (the last invoice may add up to sweepChargesPerInvoice more).
const (
	sweepChargesPerInvoice = 500
	// SweepChargesPerPage bounds the charges one page of the sweep posts.
	SweepChargesPerPage = 2000
)

// noticeRow is the notices table.
type noticeRow struct {
	InvoiceID string `gorm:"primaryKey"`
	Key       string `gorm:"primaryKey"`
	ClientID  string
	DueOn     string
	Skipped   bool
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (noticeRow) TableName() string { return "notices" }

// SweepService implements domain.SweepStore.
type SweepService struct{ db *DB }

// NewSweepService returns the sweep's store on db.
func NewSweepService(db *DB) *SweepService { return &SweepService{db: db} }

// ledgerBatch is what the sweep loads at once for a page of invoices.
type ledgerBatch struct {
	payments map[string][]paymentRow
	refunds  map[string][]refundRow
	charges  map[string][]chargeRow
	notices  map[string]map[string]bool
	rates    domain.RateTable
	kinds    map[string]string // client kind by invoice id
	notes    map[string][]creditNoteAlloc
}

func loadBatch(tx *gorm.DB, ids []string) (*ledgerBatch, error) {
	b := &ledgerBatch{payments: map[string][]paymentRow{}, refunds: map[string][]refundRow{}, charges: map[string][]chargeRow{},
		notices: map[string]map[string]bool{}, rates: domain.RateTable{}, kinds: map[string]string{},
		notes: map[string][]creditNoteAlloc{}}
	// One IN list per table.
	in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")"
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	// Only the columns the rules and the comparison with their result read.
	err := rawQuery(tx, `SELECT id, invoice_id, amount, paid_on, external_key, alloc_compensation, alloc_fees, alloc_interest,
		alloc_principal, alloc_credit FROM payments WHERE invoice_id IN `+in, args,
		func(scan func(dest ...any) error) error {
			var p paymentRow
			if err := scan(&p.ID, &p.InvoiceID, &p.Amount, &p.PaidOn, &p.ExternalKey, &p.AllocCompensation, &p.AllocFees, &p.AllocInterest,
				&p.AllocPrincipal, &p.AllocCredit); err != nil {
				return err
			}
			b.payments[p.InvoiceID] = append(b.payments[p.InvoiceID], p)
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = rawQuery(tx, `SELECT id, payment_id, invoice_id, amount, refunded_on, external_key, rev_compensation, rev_fees, rev_interest,
		rev_principal, rev_credit FROM refunds WHERE invoice_id IN `+in, args,
		func(scan func(dest ...any) error) error {
			var r refundRow
			if err := scan(&r.ID, &r.PaymentID, &r.InvoiceID, &r.Amount, &r.RefundedOn, &r.ExternalKey, &r.RevCompensation, &r.RevFees,
				&r.RevInterest, &r.RevPrincipal, &r.RevCredit); err != nil {
				return err
			}
			b.refunds[r.InvoiceID] = append(b.refunds[r.InvoiceID], r)
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = rawQuery(tx, "SELECT invoice_id, key, kind, amount, posted_on, paid, waived_amount, waive_reason, waived_on FROM charges WHERE invoice_id IN "+in, args,
		func(scan func(dest ...any) error) error {
			var c chargeRow
			if err := scan(&c.InvoiceID, &c.Key, &c.Kind, &c.Amount, &c.PostedOn, &c.Paid, &c.WaivedAmount, &c.WaiveReason, &c.WaivedOn); err != nil {
				return err
			}
			b.charges[c.InvoiceID] = append(b.charges[c.InvoiceID], c)
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = rawQuery(tx, "SELECT invoice_id, key FROM notices WHERE invoice_id IN "+in, args,
		func(scan func(dest ...any) error) error {
			var invoiceID, key string
			if err := scan(&invoiceID, &key); err != nil {
				return err
			}
			if b.notices[invoiceID] == nil {
				b.notices[invoiceID] = map[string]bool{}
			}
			b.notices[invoiceID][key] = true
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = rawQuery(tx, "SELECT i.id, c.kind FROM invoices i JOIN clients c ON c.id = i.client_id WHERE i.id IN "+in, args,
		func(scan func(dest ...any) error) error {
			var invoiceID, kind string
			if err := scan(&invoiceID, &kind); err != nil {
				return err
			}
			b.kinds[invoiceID] = kind
			return nil
		})
	if err != nil {
		return nil, err
	}
	notes, err := loadCreditNoteAllocs(tx, args)
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		b.notes[n.InvoiceID] = append(b.notes[n.InvoiceID], n)
	}
	var rates []struct{ Series, EffectiveFrom, Rate string }
	if err := tx.Table("reference_rates").Select("series, effective_from, rate").Find(&rates).Error; err != nil {
		return nil, err
	}
	for _, r := range rates {
		d, err := domain.ParseDate(r.EffectiveFrom)
		if err != nil {
			return nil, err
		}
		b.rates[r.Series] = append(b.rates[r.Series], domain.RatePoint{EffectiveFrom: d, Rate: r.Rate})
	}
	return b, nil
}

// facts builds an invoice's InvoiceFacts from the batch (the same facts
// loadFacts reads one invoice at a time).
func (b *ledgerBatch) facts(row *invoiceRow, ag domain.Agreement) domain.InvoiceFacts {
	f := domain.InvoiceFacts{InvoiceID: row.ID, Currency: row.Currency, Principal: row.Total, DueDate: dateOf(row.DueDate), Agreement: ag,
		Rates: b.rates, ClientKind: b.kinds[row.ID], CreditNotes: creditNoteFacts(b.notes[row.ID])}
	f.Payments, f.Refunds, f.Waivers = factsOf(b.payments[row.ID], b.refunds[row.ID], b.charges[row.ID])
	if row.CreditApplied > 0 {
		f.PrincipalReductions = []domain.Reduction{{On: dateOf(row.IssueDate), Amount: row.CreditApplied}}
	}
	return f
}

// onlyNew reports whether bringing the invoice in line with l takes no
// more than posting the charges in due, none of them paid or waived: the
// posted charges, payments and refunds already agree with the ledger. Any
// other difference (a fact recorded late) goes through reconcile.
func (b *ledgerBatch) onlyNew(id string, l *domain.Ledger, due []domain.DueCharge) bool {
	for _, d := range due {
		if d.Correction {
			return false
		}
		if c, _ := l.Charge(d.Key); c.Paid != 0 || c.Waived != 0 {
			return false
		}
	}
	for _, c := range b.charges[id] {
		want, ok := l.Charge(c.Key)
		if domain.AdjustedKey(c.Key) == c.Key && (!ok || want.Paid != c.Paid || want.Waived != c.WaivedAmount) {
			return false
		}
	}
	for _, p := range b.payments[id] {
		if l.Payments[p.ID] != (domain.Allocation{Compensation: p.AllocCompensation, Fees: p.AllocFees, Interest: p.AllocInterest,
			Principal: p.AllocPrincipal, Credit: p.AllocCredit}) {
			return false
		}
	}
	for _, n := range b.notes[id] {
		if a := l.CreditNotes[n.ID]; a.Principal != n.AllocPrincipal || a.Credit != n.AllocCredit {
			return false
		}
	}
	for _, r := range b.refunds[id] {
		if l.Refunds[r.ID] != (domain.Allocation{Compensation: r.RevCompensation, Fees: r.RevFees, Interest: r.RevInterest,
			Principal: r.RevPrincipal, Credit: r.RevCredit}) {
			return false
		}
	}
	return true
}

// posted returns the invoice's charges as the comparison with the rules
// reads them.
func (b *ledgerBatch) posted(id string) []domain.Charge {
	rows := b.charges[id]
	out := make([]domain.Charge, len(rows))
	for i := range rows {
		out[i] = domain.Charge{Key: rows[i].Key, Kind: domain.ChargeKind(rows[i].Kind), Amount: rows[i].Amount}
	}
	return out
}

// pageQuery selects the next page of invoices with work due, in the order
// of the invoices_next_action index, (next_action_on, id), so that a page
// reads only its own rows. SQLite is told not to use the status index (the
// unary +), which its planner, without statistics, would otherwise prefer.
// On PostgreSQL the page locks its invoices until it commits and passes
// over those locked by others: a payment being recorded (whose own
// transaction brings the invoice up to date), or another replica's page,
// so that replicas sweeping at once share the work instead of repeating it.
func (s *SweepService) pageQuery() string {
	if s.db.dialect == Postgres {
		return invoiceSelect + " WHERE next_action_on <= ? AND (next_action_on, id) > (?, ?) AND status IN (?, ?)" +
			" ORDER BY next_action_on, id LIMIT ? FOR NO KEY UPDATE SKIP LOCKED"
	}
	return invoiceSelect + " WHERE next_action_on <= ? AND (next_action_on, id) > (?, ?) AND +status IN (?, ?) ORDER BY next_action_on, id LIMIT ?"
}

// SweepPage implements domain.SweepStore. The cursor is the last invoice's
// next action day and id, joined by a space. An invoice the page moves to a
// later day may come round again in the same sweep; its day has then not
// come, so it is passed over and not counted twice. A page posts a bounded
// number of charges (SweepChargesPerPage): it ends early, before the rows
// it did not reach, and an invoice with more charges due than one page
// takes posts the earliest and keeps its next action day; the cursor then
// points just before it, with its id as a third part, so that the next page
// carries on with it without counting it again.
func (s *SweepService) SweepPage(ctx context.Context, now time.Time, after string, limit int) (string, domain.SweepReport, error) {
	var (
		report domain.SweepReport
		cursor string
	)
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		report, cursor = domain.SweepReport{}, "" // a retried page starts afresh
		maxDay := domain.DateOf(now, latestZone).String()
		afterDay, afterID, _ := strings.Cut(after, " ")
		afterID, continuing, _ := strings.Cut(afterID, " ")
		var rows []invoiceRow
		err := rawQuery(tx, s.pageQuery(), []any{maxDay, afterDay, afterID, domain.InvoiceStatusOpen, domain.InvoiceStatusUncollectible, limit},
			func(scan func(dest ...any) error) error {
				rows = append(rows, invoiceRow{})
				return scan(rows[len(rows)-1].fields()...)
			})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		last := &rows[len(rows)-1]
		cursor = *last.NextActionOn + " " + last.ID
		ids := make([]string, len(rows))
		for i := range rows {
			ids[i] = rows[i].ID
		}
		batch, err := loadBatch(tx, ids)
		if err != nil {
			return err
		}
		// Offboarded clients get no more reminders or suspension steps; their
		// open invoices stay collectable, so charges still post.
		clientIDs := make([]string, 0, len(rows))
		for i := range rows {
			clientIDs = append(clientIDs, rows[i].ClientID)
		}
		var gone []string
		if err := tx.Model(&clientRow{}).Where("id IN ? AND status = ?", clientIDs, domain.ClientOffboarded).Pluck("id", &gone).Error; err != nil {
			return err
		}
		offboarded := make(map[string]bool, len(gone))
		for _, id := range gone {
			offboarded[id] = true
		}
		w := &sweepWriter{db: s.db, ctx: ctx, now: s.db.now()}
		suspend := map[string]string{} // client -> invoice that crossed the line
		// An invoice that cannot be processed is skipped with its error and
		// tried again next run (its next action day stays); the others go on.
		keyOf := func(i int) string {
			if i < 0 {
				return afterDay + " " + afterID
			}
			return *rows[i].NextActionOn + " " + rows[i].ID
		}
		var unfinished *invoiceRow // posted only part of its charges
		accepted, err := acceptedVersions(tx, heldVersions(rows))
		if err != nil {
			return err
		}
		for i := range rows {
			row := &rows[i]
			if len(w.charges) >= SweepChargesPerPage {
				cursor = keyOf(i - 1) // the rest of the rows come in the next page
				break
			}
			// The invoice a page left unfinished was counted by that page.
			examined := row.ID != continuing
			loc, err := domain.LoadZone(row.Timezone)
			if err != nil {
				if examined {
					report.Examined++
				}
				report.Fail(row.ID, err)
				continue
			}
			asOf := domain.DateOf(now, loc)
			if next := dateOf(row.NextActionOn); next.After(asOf) {
				continue // its day has not come in its own time zone
			}
			if examined {
				report.Examined++
			}
			ag, err := row.agreement()
			if err != nil {
				report.Fail(row.ID, fmt.Errorf("the invoice's agreement cannot be read: %w", err))
				continue
			}
			if row.Disputed || row.Processing > 0 {
				report.Skip(row.ID, domain.SkipPaused, "paused: disputed or payment processing")
				continue
			}
			if ag.EnforceOnlyIfAccepted && !accepted[ag.ID] {
				// Reminders still go out; fees and interest wait for the
				// client's acceptance (then the ledger posts them all).
				report.Skip(row.ID, domain.SkipAwaitingAcceptance, fmt.Sprintf(
					"fees and interest held back: agreement version %d (%s) is enforced only once the client accepts it", ag.Version, ag.ID))
				ag = ag.HeldBack(false)
			}
			l, err := domain.ComputeLedger(batch.facts(row, ag), asOf)
			var missing *domain.MissingRateError
			if errors.As(err, &missing) {
				report.Skip(row.ID, domain.SkipMissingRate, fmt.Sprintf("missing reference rate %s for %s", missing.Series, missing.On))
				continue
			}
			if err != nil {
				report.Fail(row.ID, err)
				continue
			}
			due := domain.ChargeDifferences(l.Charges, batch.posted(row.ID), row.Currency)
			reconciled := !batch.onlyNew(row.ID, l, due)
			if reconciled {
				// A fact was recorded after charges it changes: correct the
				// ledger now, with the same code path as the late fact, in a
				// savepoint of its own so that a failure stays this invoice's.
				err := tx.Transaction(func(sp *gorm.DB) error { return s.db.reconcile(ctx, sp, row, asOf, true, nil) })
				if err != nil {
					report.Fail(row.ID, err)
					continue
				}
				for _, d := range due {
					report.Posted(string(d.Kind), d.Amount)
				}
			} else {
				fresh, err := postable(row, due, batch.charges[row.ID])
				if err != nil {
					report.Fail(row.ID, err)
					continue
				}
				if len(fresh) > sweepChargesPerInvoice {
					fresh, unfinished = fresh[:sweepChargesPerInvoice], row
				}
				for _, d := range fresh {
					w.addCharge(row, d)
				}
			}
			principalPaid := row.PrincipalPaid >= row.Total
			// A written-off invoice, or one of an offboarded client, still
			// accrues what the terms say, but nobody is chased for it.
			quiet := offboarded[row.ClientID] || row.Status == domain.InvoiceStatusUncollectible
			if !quiet {
				s.notices(w, row, ag, asOf, batch.notices[row.ID], principalPaid, w.counts(row.ID))
			}
			if _, line := domain.SuspensionDays(ag, dateOf(row.DueDate)); !line.IsZero() && !asOf.Before(line) && !principalPaid && !quiet {
				suspend[row.ClientID] = row.ID
			}
			if unfinished != nil {
				// Still due: the next page carries on with it.
				w.setNext(row, dateOf(row.NextActionOn))
				cursor = keyOf(i-1) + " " + row.ID
				break
			}
			if !reconciled { // reconcile set it
				w.setNext(row, domain.NextActionOn(ag, dateOf(row.DueDate), asOf, principalPaid))
			}
		}
		failed, err := w.flush(tx, &report)
		if err != nil {
			return err
		}
		if unfinished != nil && failed[unfinished.ID] {
			cursor = *unfinished.NextActionOn + " " + unfinished.ID // move on; the next run tries it again
		}
		// Clients in id order, so that pages suspending the same clients
		// at once lock them in one order.
		for _, clientID := range slices.Sorted(maps.Keys(suspend)) {
			invoiceID := suspend[clientID]
			if failed[invoiceID] {
				continue // its rows were rolled back; the next run decides
			}
			res := tx.Model(&clientRow{}).Where("id = ? AND status = ?", clientID, domain.ClientActive).
				Updates(map[string]any{"status": domain.ClientSuspended, "suspension_source": "billing", "updated_at": s.db.now()})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				report.Suspensions++
				if err := s.db.emit(ctx, tx, "client.suspended", clientID, invoiceID, map[string]any{"reason": "invoice past the suspension line", "invoice_id": invoiceID}, true); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return cursor, report, err
}

// postable returns the charges of due not yet posted, or an EOVERFLOW
// error when adding them would take the invoice's totals past int64.
func postable(row *invoiceRow, due []domain.DueCharge, posted []chargeRow) ([]domain.DueCharge, error) {
	on := make(map[string]bool, len(posted))
	for _, c := range posted {
		on[c.Key] = true
	}
	var fresh []domain.DueCharge
	added := int64(0)
	for _, d := range due {
		if on[d.Key] {
			continue
		}
		var err error
		if added, err = domain.Sum(added, d.Amount); err != nil {
			return nil, err
		}
		fresh = append(fresh, d)
	}
	if _, err := domain.Sum(row.ChargesTotal, added); err != nil {
		return nil, domain.Overflowf("posting %d minor units of charges would take the charges total %d past an int64",
			added, row.ChargesTotal)
	}
	if _, err := domain.Sum(row.BalanceDue, added); err != nil {
		return nil, domain.Overflowf("posting %d minor units of charges would take the balance due %d past an int64",
			added, row.BalanceDue)
	}
	return fresh, nil
}

// notices queues the reminders, the overdue notice and the suspension
// warning whose day has come. After a gap only the latest reminder goes
// out; older ones are recorded as skipped so they never do.
func (s *SweepService) notices(w *sweepWriter, row *invoiceRow, ag domain.Agreement, asOf domain.Date, sent map[string]bool, principalPaid bool, r *domain.SweepReport) {
	if principalPaid {
		return
	}
	due := dateOf(row.DueDate)
	var fresh []domain.ReminderDue
	for _, rd := range domain.RemindersDue(ag.WithDefaults().ReminderOffsets, due, asOf) {
		if !sent[rd.Key] {
			fresh = append(fresh, rd)
		}
	}
	for i, rd := range fresh {
		latest := i == len(fresh)-1
		w.addNotice(row, rd.Key, rd.On, !latest)
		if latest {
			r.Reminders++
			w.addEvent(row, "invoice.reminder", map[string]any{"number": row.Number, "offset_days": rd.Offset, "due_date": due,
				"balance_due": row.BalanceDue, "currency": row.Currency})
		}
	}
	if day1 := domain.DayOneOverdue(due, ag.GraceDays); !asOf.Before(day1) && !sent[domain.NoticeOverdue] {
		r.Overdue++
		w.addNotice(row, domain.NoticeOverdue, day1, false)
		w.addEvent(row, "invoice.overdue", map[string]any{"number": row.Number, "due_date": due, "balance_due": row.BalanceDue, "currency": row.Currency})
	}
	if warn, suspend := domain.SuspensionDays(ag, due); !warn.IsZero() && !asOf.Before(warn) && asOf.Before(suspend) && !sent[domain.NoticeSuspensionWarning] {
		r.Warnings++
		w.addNotice(row, domain.NoticeSuspensionWarning, warn, false)
		w.addEvent(row, "client.suspension_warning", map[string]any{"invoice_id": row.ID, "number": row.Number, "suspend_on": suspend,
			"balance_due": row.BalanceDue, "currency": row.Currency})
	}
}

// sweepWriter collects a page's writes and flushes them in a few statements.
type sweepWriter struct {
	db      *DB
	ctx     context.Context
	now     time.Time
	charges []chargeRow
	owners  map[string]*invoiceRow
	notices []noticeRow
	events  []eventRow
	outbox  []outboxRow
	next    map[string]*string
	order   []string                       // invoices in the order first touched
	count   map[string]*domain.SweepReport // notices counted per invoice
}

// touch records that the page writes something for the invoice.
func (w *sweepWriter) touch(row *invoiceRow) {
	if w.owners == nil {
		w.owners = map[string]*invoiceRow{}
	}
	if _, ok := w.owners[row.ID]; !ok {
		w.owners[row.ID] = row
		w.order = append(w.order, row.ID)
	}
}

// counts returns the invoice's own report, where its notices are counted:
// it joins the page's report only once the invoice's rows are written.
func (w *sweepWriter) counts(invoiceID string) *domain.SweepReport {
	if w.count == nil {
		w.count = map[string]*domain.SweepReport{}
	}
	r := w.count[invoiceID]
	if r == nil {
		r = &domain.SweepReport{}
		w.count[invoiceID] = r
	}
	return r
}

func (w *sweepWriter) addCharge(row *invoiceRow, d domain.DueCharge) {
	c := chargeRow{ID: w.db.newID("chg"), InvoiceID: row.ID, Kind: string(d.Kind), Key: d.Key, Amount: d.Amount,
		PostedOn: d.PostOn.String(), PeriodFrom: dateCol(d.From), PeriodTo: dateCol(d.To), Days: d.Days,
		Description: d.Description, Facts: factsCol(d.Facts), CreatedAt: w.now}
	if len(d.Breakdown) > 0 {
		if b, err := json.Marshal(d.Breakdown); err == nil {
			c.Breakdown = string(b)
		}
	}
	w.touch(row)
	w.charges = append(w.charges, c)
}

func (w *sweepWriter) addNotice(row *invoiceRow, key string, on domain.Date, skipped bool) {
	w.touch(row)
	w.notices = append(w.notices, noticeRow{InvoiceID: row.ID, Key: key, ClientID: row.ClientID, DueOn: on.String(), Skipped: skipped, CreatedAt: w.now})
}

// addEvent queues an audit event and its outbox row (the sweep's events are
// all notices).
func (w *sweepWriter) addEvent(row *invoiceRow, typ string, data any) {
	w.events, w.outbox = w.appendEvent(w.events, w.outbox, row, typ, data)
}

func (w *sweepWriter) appendEvent(events []eventRow, outbox []outboxRow, row *invoiceRow, typ string,
	data any) ([]eventRow, []outboxRow) {
	raw, err := json.Marshal(data)
	if err != nil {
		return events, outbox
	}
	id := row.ID
	ev := eventRow{ID: w.db.newID("evt"), Type: typ, ClientID: row.ClientID, InvoiceID: &id, Actor: domain.SystemActor.Name, Data: string(raw), CreatedAt: w.now}
	ob := outboxRow{ID: w.db.newID("obx"), EventID: ev.ID, Type: typ, ClientID: row.ClientID, InvoiceID: &id, CreatedAt: w.now}
	return append(events, ev), append(outbox, ob)
}

func (w *sweepWriter) setNext(row *invoiceRow, d domain.Date) {
	if w.next == nil {
		w.next = map[string]*string{}
	}
	w.touch(row)
	w.next[row.ID] = dateCol(d)
}

// flush writes the page in a savepoint. When the database refuses a row,
// the page is written again one invoice at a time, each in a savepoint of
// its own: an invoice whose rows fail is rolled back alone (its next action
// day stays due, so the next run tries it again), reported as failed, and
// returned in failed; every other invoice is written.
func (w *sweepWriter) flush(tx *gorm.DB, r *domain.SweepReport) (failed map[string]bool, err error) {
	page, err := w.writeIn(tx, nil)
	if err == nil {
		r.Add(page)
		return nil, nil
	}
	if w.ctx.Err() != nil {
		return nil, err
	}
	failed = map[string]bool{}
	for _, id := range w.order {
		one, err := w.writeIn(tx, map[string]bool{id: true})
		if err != nil {
			if w.ctx.Err() != nil {
				return nil, err
			}
			failed[id] = true
			r.Fail(id, err)
			continue
		}
		r.Add(one)
	}
	return failed, nil
}

// writeIn writes the rows of the invoices in only (all when nil) in a
// savepoint, rolled back when a statement fails, and returns what they did.
func (w *sweepWriter) writeIn(tx *gorm.DB, only map[string]bool) (done domain.SweepReport, err error) {
	err = tx.Transaction(func(tx *gorm.DB) error {
		done, err = w.write(tx, only)
		return err
	})
	return done, err
}

// write writes charges first (their unique key (invoice_id, key) lets only
// new ones in), then the events of the charges that went in, notices, and
// each invoice's cached totals and next action day, all with multi-row
// statements.
func (w *sweepWriter) write(tx *gorm.DB, only map[string]bool) (domain.SweepReport, error) {
	var r domain.SweepReport
	in := func(invoiceID string) bool { return only == nil || only[invoiceID] }
	rows := make([][]any, 0, len(w.charges))
	var charges []chargeRow
	for _, c := range w.charges {
		if in(c.InvoiceID) {
			charges = append(charges, c)
			rows = append(rows, []any{c.ID, c.InvoiceID, c.Kind, c.Key, c.Amount, c.PostedOn, c.PeriodFrom, c.PeriodTo, c.Days,
				c.Description, c.Breakdown, c.Facts, 0, 0, "", c.CreatedAt})
		}
	}
	var ids []string
	if err := insertRows(tx, "charges", []string{"id", "invoice_id", "kind", "key", "amount", "posted_on", "period_from", "period_to", "days",
		"description", "breakdown", "facts", "paid", "waived_amount", "waive_reason", "created_at"}, rows, "ON CONFLICT (invoice_id, key) DO NOTHING RETURNING id", &ids); err != nil {
		return r, err
	}
	inserted := make(map[string]bool, len(ids))
	for _, id := range ids {
		inserted[id] = true
	}
	var events []eventRow
	var outbox []outboxRow
	for i := range w.events {
		if in(*w.events[i].InvoiceID) {
			events, outbox = append(events, w.events[i]), append(outbox, w.outbox[i])
		}
	}
	added := map[string]int64{}
	for _, c := range charges {
		if !inserted[c.ID] {
			continue
		}
		added[c.InvoiceID] += c.Amount // postable checked the invoice's sum
		if r.ChargesPosted == nil {
			r.ChargesPosted = map[string]int{}
		}
		r.ChargesPosted[c.Kind]++
		r.AmountPosted = domain.SaturatingAdd(r.AmountPosted, c.Amount)
		events, outbox = w.appendEvent(events, outbox, w.owners[c.InvoiceID], "charge.posted", c.toDomain())
	}
	rows = rows[:0]
	for _, n := range w.notices {
		if in(n.InvoiceID) {
			rows = append(rows, []any{n.InvoiceID, n.Key, n.ClientID, n.DueOn, n.Skipped, n.CreatedAt})
		}
	}
	if err := insertRows(tx, "notices", []string{"invoice_id", "key", "client_id", "due_on", "skipped", "created_at"}, rows, "ON CONFLICT DO NOTHING", nil); err != nil {
		return r, err
	}
	rows = rows[:0]
	for i := range events {
		rows = append(rows, events[i].values())
	}
	if err := insertRows(tx, "events", eventCols, rows, "", nil); err != nil {
		return r, err
	}
	rows = rows[:0]
	for i := range outbox {
		rows = append(rows, outbox[i].values())
	}
	if err := insertRows(tx, "outbox", outboxCols, rows, "", nil); err != nil {
		return r, err
	}
	if err := w.updateInvoices(tx, added, in); err != nil {
		return r, err
	}
	for id, c := range w.count {
		if in(id) {
			r.Add(*c)
		}
	}
	return r, nil
}

// updateInvoices sets every swept invoice's next action day and adds what
// was posted to its totals. One prepared statement per invoice measured
// faster on SQLite than one UPDATE ... FROM (VALUES ...) per page.
func (w *sweepWriter) updateInvoices(tx *gorm.DB, added map[string]int64, in func(invoiceID string) bool) error {
	for id, next := range w.next {
		if !in(id) {
			continue
		}
		var err error
		if a := added[id]; a != 0 {
			_, err = rawExec(tx, "UPDATE invoices SET next_action_on = ?, charges_total = charges_total + ?, balance_due = balance_due + ?, updated_at = ? WHERE id = ?",
				nullable(next), a, a, w.now, id)
		} else {
			_, err = rawExec(tx, "UPDATE invoices SET next_action_on = ? WHERE id = ?", nullable(next), id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ReinstateClients implements domain.SweepStore.
func (s *SweepService) ReinstateClients(ctx context.Context, now time.Time) (int, error) {
	var ids []string
	if err := s.db.reader(ctx).Model(&clientRow{}).Where("status = ? AND suspension_source = ?", domain.ClientSuspended, "billing").
		Pluck("id", &ids).Error; err != nil {
		return 0, translate(err)
	}
	n := 0
	for _, id := range ids {
		err := s.db.tx(ctx, func(tx *gorm.DB) error {
			ok, err := s.db.reinstateIfClear(ctx, tx, id, now)
			if ok {
				n++
			}
			return err
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// reinstateIfClear reinstates a client the sweep suspended once no invoice
// of theirs is past its suspension line unpaid. It reports whether it did.
func (db *DB) reinstateIfClear(ctx context.Context, tx *gorm.DB, clientID string, now time.Time) (bool, error) {
	var c clientRow
	if err := rawScan(tx, "SELECT status, suspension_source FROM clients WHERE id = ?", []any{clientID}, &c.Status, &c.SuspensionSource); err != nil {
		return false, err
	}
	if c.Status != domain.ClientSuspended || c.SuspensionSource != "billing" {
		return false, nil
	}
	var rows []invoiceRow
	if err := tx.Where("client_id = ? AND status IN ? AND balance_due > 0", clientID,
		[]string{domain.InvoiceStatusOpen, domain.InvoiceStatusUncollectible}).Find(&rows).Error; err != nil {
		return false, err
	}
	for i := range rows {
		ag, err := rows[i].agreement()
		if err != nil {
			return false, err
		}
		loc, _ := domain.LoadZone(rows[i].Timezone)
		if _, line := domain.SuspensionDays(ag, dateOf(rows[i].DueDate)); !line.IsZero() && !domain.DateOf(now, loc).Before(line) {
			return false, nil
		}
	}
	res := tx.Model(&clientRow{}).Where("id = ? AND status = ? AND suspension_source = ?", clientID, domain.ClientSuspended, "billing").
		Updates(map[string]any{"status": domain.ClientActive, "suspension_source": "", "updated_at": db.now()})
	if res.Error != nil || res.RowsAffected == 0 {
		return false, res.Error
	}
	return true, db.emit(ctx, tx, "client.reinstated", clientID, "", map[string]any{"reason": "every invoice past the suspension line is paid"}, true)
}

// heldVersions lists the agreement versions of rows enforced only once accepted.
func heldVersions(rows []invoiceRow) []string {
	var ids []string
	for i := range rows {
		if ag, err := rows[i].agreement(); err == nil && ag.EnforceOnlyIfAccepted && !slices.Contains(ids, ag.ID) {
			ids = append(ids, ag.ID)
		}
	}
	return ids
}
