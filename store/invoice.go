package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

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
	Credited      int64
	SupplyDate    *string
	SupplyEndDate *string
	ReverseCharge bool
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
// The value is shared with other invoices of the same version: read only.
func (r *invoiceRow) agreement() (domain.Agreement, error) {
	if r.Agreement == nil {
		return domain.Agreement{}, nil
	}
	return parsedTerms.parse(*r.Agreement)
}

// invoiceCols are the invoices table's columns in the order of
// invoiceRow.fields and invoiceRow.values.
var invoiceCols = []string{"id", "client_id", "number", "status", "currency", "timezone", "memo", "issue_date", "due_date",
	"overdue_from", "overdue_at", "paid_on", "subtotal", "tax", "total", "charges_total", "amount_paid", "credit_applied",
	"credit_created", "principal_paid", "balance_due", "credited", "supply_date", "supply_end_date", "reverse_charge", "agreement_id", "agreement", "disputed", "processing", "next_action_on",
	"created_at", "updated_at", "issued_at"}

// invoiceSelect reads whole invoice rows; add the WHERE clause.
var invoiceSelect = "SELECT " + strings.Join(invoiceCols, ", ") + " FROM invoices"

// fields returns pointers to the row's fields for scanning invoiceCols.
func (r *invoiceRow) fields() []any {
	return []any{&r.ID, &r.ClientID, &r.Number, &r.Status, &r.Currency, &r.Timezone, &r.Memo, &r.IssueDate, &r.DueDate,
		&r.OverdueFrom, &r.OverdueAt, &r.PaidOn, &r.Subtotal, &r.Tax, &r.Total, &r.ChargesTotal, &r.AmountPaid, &r.CreditApplied,
		&r.CreditCreated, &r.PrincipalPaid, &r.BalanceDue, &r.Credited, &r.SupplyDate, &r.SupplyEndDate, &r.ReverseCharge, &r.AgreementID, &r.Agreement, &r.Disputed, &r.Processing, &r.NextActionOn,
		&r.CreatedAt, &r.UpdatedAt, &r.IssuedAt}
}

// values returns the row's values for inserting invoiceCols.
func (r *invoiceRow) values() []any {
	return []any{r.ID, r.ClientID, nullable(r.Number), r.Status, r.Currency, r.Timezone, r.Memo, nullable(r.IssueDate), nullable(r.DueDate),
		nullable(r.OverdueFrom), nullable(r.OverdueAt), nullable(r.PaidOn), r.Subtotal, r.Tax, r.Total, r.ChargesTotal, r.AmountPaid, r.CreditApplied,
		r.CreditCreated, r.PrincipalPaid, r.BalanceDue, r.Credited, nullable(r.SupplyDate), nullable(r.SupplyEndDate), r.ReverseCharge,
		nullable(r.AgreementID), nullable(r.Agreement), r.Disputed, r.Processing, nullable(r.NextActionOn),
		r.CreatedAt, r.UpdatedAt, nullable(r.IssuedAt)}
}

// nullable returns *p, or nil (SQL NULL) for a nil pointer.
func nullable[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// lineCols are the invoice_lines columns in the order of lineRow.values.
var lineCols = []string{"invoice_id", "position", "description", "quantity", "unit_amount", "tax_rate", "amount", "tax"}

// toDomain converts the row; today is the date in the invoice's time zone,
// for days_overdue.
func (r *invoiceRow) toDomain(lines []lineRow, now time.Time) domain.Invoice {
	inv := domain.Invoice{
		ID: r.ID, ClientID: r.ClientID, Status: r.Status, Currency: r.Currency, Timezone: r.Timezone, Memo: r.Memo,
		IssueDate: dateOf(r.IssueDate), DueDate: dateOf(r.DueDate), PaidOn: dateOf(r.PaidOn),
		Subtotal: r.Subtotal, Tax: r.Tax, Total: r.Total, ChargesTotal: r.ChargesTotal, AmountPaid: r.AmountPaid,
		CreditApplied: r.CreditApplied, CreditCreated: r.CreditCreated, BalanceDue: r.BalanceDue, Credited: r.Credited,
		SupplyDate: dateOf(r.SupplyDate), SupplyEndDate: dateOf(r.SupplyEndDate), ReverseCharge: r.ReverseCharge,
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
	// Everything that needs no database happens before taking the writer.
	row, lines, err := s.draftRows(d)
	if err != nil {
		return nil, err
	}
	late := heldWrite(ctx)
	if late != nil && late.grouped && !d.Issue {
		return nil, late.refuse() // a draft is several statements
	}
	if _, inTx := ctx.Value(txKey{}).(*gorm.DB); d.Issue && s.db.issuer != nil && !inTx {
		if inv, grouped, err := s.issueGrouped(ctx, d, row, lines); grouped || err != nil {
			return inv, err
		}
	}
	if late != nil && late.grouped {
		return nil, late.refuse() // credit to apply, in a transaction of its own
	}
	credited := false
	err = s.db.tx(ctx, func(tx *gorm.DB) error {
		if err := s.checkClient(tx, d, row); err != nil {
			return err
		}
		if !d.Issue {
			return s.writeInvoice(ctx, tx, row, lines)
		}
		ag, err := s.open(tx, row)
		if err != nil {
			return err
		}
		avail, err := creditBalance(tx, row.ClientID, row.Currency)
		if err != nil {
			return err
		}
		if avail > 0 {
			// Credit may pay the invoice in full, and invoice.paid names
			// its number: take it first.
			if err := s.takeNumber(tx, row); err != nil {
				return err
			}
		}
		if err := s.writeOpened(ctx, tx, row, lines, ag); err != nil || avail <= 0 {
			return err
		}
		credited, err = s.useCredit(ctx, tx, row)
		return err
	})
	if err != nil {
		return nil, err
	}
	if credited {
		// Client credit changed the figures written.
		return s.FindInvoiceByID(ctx, row.ID)
	}
	inv := row.toDomain(lines, s.db.now())
	return &inv, nil
}

// draftRows validates d and returns its invoice and line rows, a draft.
func (s *InvoiceService) draftRows(d domain.InvoiceDraft) (*invoiceRow, []lineRow, error) {
	lines, subtotal, tax, err := d.Validate()
	if err != nil {
		return nil, nil, err
	}
	now := s.db.now()
	row := &invoiceRow{
		ID: s.db.newID("inv"), Status: domain.InvoiceStatusDraft, Memo: d.Memo, IssueDate: dateCol(d.IssueDate), DueDate: dateCol(d.DueDate),
		Subtotal: subtotal, Tax: tax, Total: subtotal + tax, BalanceDue: subtotal + tax, CreatedAt: now, UpdatedAt: now,
		SupplyDate: dateCol(d.SupplyDate), SupplyEndDate: dateCol(d.SupplyEndDate), ReverseCharge: d.ReverseCharge,
	}
	return row, lineRows(row.ID, lines), nil
}

// lineRows returns the rows of an invoice's priced lines.
func lineRows(invoiceID string, lines []domain.InvoiceLine) []lineRow {
	rows := make([]lineRow, len(lines))
	for i, l := range lines {
		rows[i] = lineRow{InvoiceID: invoiceID, Position: i, Description: l.Description, Quantity: l.Quantity,
			UnitAmount: l.UnitAmount, TaxRate: l.TaxRate, Amount: l.Amount, Tax: l.Tax}
	}
	return rows
}

// writeInvoice writes a draft, its lines and invoice.created.
func (s *InvoiceService) writeInvoice(ctx context.Context, tx *gorm.DB, row *invoiceRow, lines []lineRow) error {
	if _, err := rawExec(tx, valuesSQL("invoices", invoiceCols, 1), row.values()...); err != nil {
		return err
	}
	if err := insertLines(tx, lines); err != nil {
		return err
	}
	return s.db.emit(ctx, tx, "invoice.created", row.ClientID, row.ID, map[string]any{"total": row.Total, "currency": row.Currency}, false)
}

// writeOpened writes an invoice opened at creation (see open), once and
// already numbered, with its lines, invoice.created and invoice.issued
// with its outbox row. A row without a number takes the next one of its
// series; on PostgreSQL everything goes in one statement, so the series'
// row lock, which every issuer in the business queues on, is held from
// that statement to the commit and no longer (see numberedSQL).
func (s *InvoiceService) writeOpened(ctx context.Context, tx *gorm.DB, row *invoiceRow, lines []lineRow, ag domain.Agreement) error {
	if s.db.dialect != Postgres {
		created, issued, outbox, announce := s.openedEvents(ctx, row, ag)
		if row.Number == nil {
			if err := s.takeNumber(tx, row); err != nil {
				return err
			}
		}
		var err error
		if issued.Data, err = announce(*row.Number); err != nil {
			return err
		}
		if _, err := rawExec(tx, valuesSQL("invoices", invoiceCols, 1), row.values()...); err != nil {
			return err
		}
		if err := insertLines(tx, lines); err != nil {
			return err
		}
		if err := insertRows(tx, "events", eventCols, [][]any{created.values(), issued.values()}, "", nil); err != nil {
			return err
		}
		_, err = rawExec(tx, valuesSQL("outbox", outboxCols, 1), outbox.values()...)
		return err
	}
	query, args, err := s.openedStatement(ctx, row, lines, ag)
	if err != nil {
		return err
	}
	if late := heldWrite(ctx); late != nil && row.Number == nil {
		// A request with an Idempotency-Key: the statement runs with the
		// storing of its response (lateWrite).
		token, err := late.hold(nil, "", query, args, true)
		row.Number = &token
		return err
	}
	var number string
	if err := rawScan(tx, query, args, &number); err != nil {
		return err
	}
	row.Number = &number
	return nil
}

// issueGrouped issues an invoice at creation on PostgreSQL through the
// issuer (group issuing), outside a transaction of its own: the reads
// before the write lock nothing (as in a transaction of READ COMMITTED),
// and the write is one statement. It reports false, and does nothing, when
// the client has credit to apply: that invoice is issued in a transaction
// of its own (see CreateInvoice).
func (s *InvoiceService) issueGrouped(ctx context.Context, d domain.InvoiceDraft, draft *invoiceRow, lines []lineRow) (*domain.Invoice, bool, error) {
	row := *draft
	rd := s.db.reader(ctx)
	// What issuing reads, in one statement: the client, its credit in the
	// invoice's currency, and the agreement in force on the latest day the
	// issue date can be (the draft's, else today anywhere on earth).
	bound := d.IssueDate
	if bound.IsZero() {
		bound = domain.DateOf(s.db.now(), time.UTC).AddDays(1)
	}
	var c clientRow
	var avail int64
	var a struct {
		id, clientID, from, terms *string
		version                   *int
		createdAt                 *time.Time
	}
	err := rawScan(rd, issueReadsSQL, []any{d.Currency, bound.String(), d.ClientID},
		&c.ID, &c.Status, &c.Currency, &c.Timezone, &c.TaxID, &avail, &a.id, &a.clientID, &a.version, &a.from, &a.terms, &a.createdAt)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, true, noClient(d.ClientID)
	}
	if err != nil {
		return nil, true, translate(err)
	}
	if err := admitClient(d, &c, &row); err != nil {
		return nil, true, err
	}
	if avail > 0 {
		return nil, false, nil
	}
	ag, err := s.openUnder(&row, func(day domain.Date) (domain.Agreement, string, error) {
		switch {
		case a.id == nil:
			// No version before the bound, so none before the day.
			return parsedTerms.version(&agreementRow{})
		case *a.from <= day.String():
			// The latest version up to the bound starts by the day.
			return parsedTerms.version(&agreementRow{ID: *a.id, ClientID: *a.clientID, Version: *a.version,
				EffectiveFrom: *a.from, Terms: *a.terms, CreatedAt: *a.createdAt})
		}
		return agreementTerms(rd, row.ClientID, day)
	})
	if err != nil {
		return nil, true, translate(err)
	}
	query, args, err := s.openedStatement(ctx, &row, lines, ag)
	if err != nil {
		return nil, true, err
	}
	if late := heldWrite(ctx); late != nil {
		// A request with an Idempotency-Key (IdempotentGrouped): the write
		// goes with its response.
		token, err := late.hold(s.db.issuer, seriesOf(&row), query, args, true)
		if err != nil {
			return nil, true, err
		}
		row.Number = &token
		inv := row.toDomain(lines, s.db.now())
		return &inv, true, nil
	}
	number, err := s.db.issuer.run(ctx, seriesOf(&row), rebindPostgres(query), args)
	if err != nil {
		return nil, true, err
	}
	row.Number = &number
	inv := row.toDomain(lines, s.db.now())
	return &inv, true, nil
}

// issueReadsSQL is what issueGrouped reads: the client (its id the last
// argument), its credit in the currency (the first argument, else the
// client's) and the latest agreement version in force by a day (the
// second), NULL when there is none.
const issueReadsSQL = `SELECT c.id, c.status, c.currency, c.timezone, c.tax_id,
	(SELECT COALESCE(SUM(amount), 0) FROM client_credits WHERE client_id = c.id AND currency = COALESCE(NULLIF(?, ''), c.currency)),
	a.id, a.client_id, a.version, a.effective_from, a.terms, a.created_at
	FROM clients c LEFT JOIN LATERAL (SELECT id, client_id, version, effective_from, terms, created_at FROM agreements
		WHERE client_id = c.id AND effective_from <= ? ORDER BY effective_from DESC, version DESC LIMIT 1) a ON true
	WHERE c.id = ?`

// openedStatement returns PostgreSQL's one statement that writes an
// invoice opened at creation (see writeOpened and numberedSQL), with its
// arguments; it returns the number.
func (s *InvoiceService) openedStatement(ctx context.Context, row *invoiceRow, lines []lineRow, ag domain.Agreement) (string, []any, error) {
	created, issued, outbox, announce := s.openedEvents(ctx, row, ag)
	// The announcement's JSON is built around the number the statement
	// takes: the text before it and the text after it.
	data, err := announce(numberHole)
	if err != nil {
		return "", nil, err
	}
	hole, _ := json.Marshal(numberHole)
	before, after, ok := strings.Cut(data, string(hole))
	if !ok {
		return "", nil, fmt.Errorf("invoice.issued of %s: no place for the number in %s", row.ID, data)
	}
	args := make([]any, 0, 2+len(invoiceCols)+len(lines)*len(lineCols)+2*len(eventCols)+len(outboxCols)+2)
	if row.Number == nil {
		args = append(args, seriesOf(row))
	} else {
		args = append(args, *row.Number)
	}
	v := row.values()
	args = append(args, v[:2]...)
	args = append(args, v[3:]...) // the number comes from the statement
	for _, l := range lines {
		args = append(args, l.InvoiceID, l.Position, l.Description, l.Quantity, l.UnitAmount, l.TaxRate, l.Amount, l.Tax)
	}
	args = append(args, created.values()...)
	ev := issued.values()
	args = append(args, ev[:6]...)
	args = append(args, before, after, issued.CreatedAt)
	args = append(args, outbox.values()...)
	return numberedSQL(len(lines), row.Number == nil), args, nil
}

// openedEvents returns the rows an invoice opened at creation writes
// beside itself: invoice.created, invoice.issued (its data left to
// announce, given the number) and the latter's outbox row.
func (s *InvoiceService) openedEvents(ctx context.Context, row *invoiceRow, ag domain.Agreement) (eventRow, eventRow, outboxRow, func(number string) (string, error)) {
	created := s.db.newEvent(ctx, "invoice.created", row.ClientID, row.ID, fmt.Appendf(nil, `{"currency":%q,"total":%d}`, row.Currency, row.Total))
	issued := s.db.newEvent(ctx, "invoice.issued", row.ClientID, row.ID, nil)
	outbox := outboxRow{ID: s.db.newID("obx"), EventID: issued.ID, Type: issued.Type, ClientID: row.ClientID,
		InvoiceID: issued.InvoiceID, CreatedAt: issued.CreatedAt}
	announce := func(number string) (string, error) {
		raw, err := json.Marshal(map[string]any{"number": number, "issue_date": dateOf(row.IssueDate), "due_date": dateOf(row.DueDate),
			"total": row.Total, "currency": row.Currency, "agreement_version": ag.Version,
			"terms_source": domain.Invoice{Agreement: &ag}.TermsSource()})
		return string(raw), err
	}
	return created, issued, outbox, announce
}

// numberHole stands for the number in JSON built before the number is known.
const numberHole = "\x00number\x00"

// seriesOf is the numbering series of an opened invoice: INV-YYYY of its
// issue year.
func seriesOf(row *invoiceRow) string {
	return fmt.Sprintf("INV-%04d", dateOf(row.IssueDate).Year())
}

// numberedTail ends numberedSQL's statement.
const numberedTail = " SELECT number FROM n"

// numberedSQL returns PostgreSQL's one statement that writes an opened
// invoice (see writeOpened) with n lines, cached per shape. With take it
// bumps the series' counter (the first argument is the series) and numbers
// the invoice with it, as nextNumber does; otherwise the first argument is
// the number. It returns the number.
func numberedSQL(n int, take bool) string {
	key := valuesKey{"numbered", strconv.FormatBool(take), n}
	if q, ok := valuesQueries.Load(key); ok {
		return q.(string)
	}
	var sb strings.Builder
	if take {
		sb.WriteString(`WITH n AS (INSERT INTO invoice_counters (series, last_number) VALUES (?, 1)
	ON CONFLICT (series) DO UPDATE SET last_number = invoice_counters.last_number + 1
	RETURNING series || '-' || CASE WHEN last_number < 10000 THEN lpad(last_number::text, 4, '0') ELSE last_number::text END AS number)`)
	} else {
		sb.WriteString("WITH n AS (SELECT ?::text AS number)")
	}
	cols := strings.Join(invoiceCols, ", ")
	sb.WriteString(", i AS (INSERT INTO invoices (" + cols + ") SELECT ?, ?, n.number" + strings.Repeat(", ?", len(invoiceCols)-3) + " FROM n)")
	sb.WriteString(", l AS (" + valuesSQL("invoice_lines", lineCols, n) + ")")
	sb.WriteString(", c AS (" + valuesSQL("events", eventCols, 1) + ")")
	sb.WriteString(", e AS (INSERT INTO events (" + strings.Join(eventCols, ", ") + ")" +
		" SELECT ?, ?, ?, ?, ?, ?, ? || to_json(n.number)::text || ?, ? FROM n)")
	sb.WriteString(", o AS (" + valuesSQL("outbox", outboxCols, 1) + ")")
	sb.WriteString(numberedTail)
	q := sb.String()
	valuesQueries.Store(key, q)
	return q
}

// createInvoiceTx stores d as a draft in tx and returns its id (the
// project ledger links it to a milestone, then calls issue).
func (s *InvoiceService) createInvoiceTx(ctx context.Context, tx *gorm.DB, d domain.InvoiceDraft) (string, error) {
	d.Issue = false
	row, lines, err := s.draftRows(d)
	if err != nil {
		return "", err
	}
	if err := s.checkClient(tx, d, row); err != nil {
		return "", err
	}
	return row.ID, s.writeInvoice(ctx, tx, row, lines)
}

// checkClient checks the draft's client and currency and fills row with them.
func (s *InvoiceService) checkClient(tx *gorm.DB, d domain.InvoiceDraft, row *invoiceRow) error {
	var c clientRow
	err := rawScan(tx, "SELECT id, status, currency, timezone, tax_id FROM clients WHERE id = ?", []any{d.ClientID},
		&c.ID, &c.Status, &c.Currency, &c.Timezone, &c.TaxID)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return noClient(d.ClientID)
	}
	if err != nil {
		return err
	}
	return admitClient(d, &c, row)
}

// noClient refuses a draft whose client does not exist.
func noClient(id string) error {
	return &domain.Error{Code: domain.EINVALID, Message: "client_id: no client " + id, Fields: map[string]string{"client_id": "no such client"}}
}

// admitClient checks that the draft may bill client c in its currency and
// fills row with them.
func admitClient(d domain.InvoiceDraft, c *clientRow, row *invoiceRow) error {
	if c.Status == domain.ClientOffboarded {
		return domain.Conflictf(domain.ECLIENTOFFBOARDED, "client %s is offboarded and read-only", c.ID)
	}
	if d.ReverseCharge && c.TaxID == "" {
		return fieldError("reverse_charge", "the client has no tax_id: the reverse charge applies to a business client identified for VAT")
	}
	cur := d.Currency
	switch {
	case cur == "":
		cur = c.Currency
	case !domain.ValidCurrency(cur):
		return fieldError("currency", "must be an ISO 4217 currency code in upper case, such as EUR")
	case cur != c.Currency && !d.CurrencyOverride:
		return fieldError("currency", fmt.Sprintf("differs from the client's currency %s; send \"currency_override\": true to bill in %s anyway", c.Currency, cur))
	}
	row.ClientID, row.Currency, row.Timezone = c.ID, cur, c.Timezone
	return nil
}

// insertLines writes an invoice's lines in one statement.
func insertLines(tx *gorm.DB, lines []lineRow) error {
	rows := make([][]any, len(lines))
	for i, l := range lines {
		rows[i] = []any{l.InvoiceID, l.Position, l.Description, l.Quantity, l.UnitAmount, l.TaxRate, l.Amount, l.Tax}
	}
	return insertRows(tx, "invoice_lines", lineCols, rows, "", nil)
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
	err = rawQuery(tx, "SELECT "+strings.Join(lineCols, ", ")+" FROM invoice_lines WHERE invoice_id = ? ORDER BY position", []any{id},
		func(scan func(dest ...any) error) error {
			var l lineRow
			if err := scan(&l.InvoiceID, &l.Position, &l.Description, &l.Quantity, &l.UnitAmount, &l.TaxRate, &l.Amount, &l.Tax); err != nil {
				return err
			}
			lines = append(lines, l)
			return nil
		})
	if err != nil {
		return nil, translate(err)
	}
	inv := row.toDomain(lines, s.db.now())
	return &inv, nil
}

// lockInvoice reads an invoice row; with forUpdate it locks it on PostgreSQL
// (SQLite's single writer already serialises).
func lockInvoice(tx *gorm.DB, id string, forUpdate bool) (*invoiceRow, error) {
	q := invoiceSelect + " WHERE id = ?"
	if forUpdate && tx.Dialector.Name() == "postgres" {
		q += " FOR UPDATE"
	}
	var row invoiceRow
	if err := rawScan(tx, q, []any{id}, row.fields()...); err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
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
		if u.SupplyDate != nil {
			row.SupplyDate = dateCol(*u.SupplyDate)
		}
		if u.SupplyEndDate != nil {
			row.SupplyEndDate = dateCol(*u.SupplyEndDate)
		}
		if u.ReverseCharge != nil {
			row.ReverseCharge = *u.ReverseCharge
		}
		domain.CheckSupply(f, dateOf(row.SupplyDate), dateOf(row.SupplyEndDate))
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
		if row.ReverseCharge {
			if err := checkReverseCharge(tx, f, row, u.Lines); err != nil {
				return err
			}
		}
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
			if err := insertLines(tx, lineRows(id, lines)); err != nil {
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
	ag, err := s.open(tx, row)
	if err != nil {
		return err
	}
	if err := s.takeNumber(tx, row); err != nil {
		return err
	}
	if err := tx.Save(row).Error; err != nil {
		return err
	}
	if err := s.db.emit(ctx, tx, "invoice.issued", row.ClientID, row.ID, map[string]any{
		"number": row.Number, "issue_date": dateOf(row.IssueDate), "due_date": dateOf(row.DueDate), "total": row.Total,
		"currency": row.Currency, "agreement_version": ag.Version, "terms_source": domain.Invoice{Agreement: &ag}.TermsSource(),
	}, true); err != nil {
		return err
	}
	_, err = s.useCredit(ctx, tx, row)
	return err
}

// open opens a draft in memory: it fixes the issue and due dates in the
// client's time zone and the agreement in force on the issue date, and
// returns that agreement. The number is left to takeNumber or writeOpened.
func (s *InvoiceService) open(tx *gorm.DB, row *invoiceRow) (domain.Agreement, error) {
	return s.openUnder(row, func(day domain.Date) (domain.Agreement, string, error) {
		return agreementTerms(tx, row.ClientID, day)
	})
}

// openUnder is open with the agreement in force on a day, and its JSON,
// given by terms.
func (s *InvoiceService) openUnder(row *invoiceRow, terms func(day domain.Date) (domain.Agreement, string, error)) (domain.Agreement, error) {
	loc, err := domain.LoadZone(row.Timezone)
	if err != nil {
		return domain.Agreement{}, err
	}
	now := s.db.now()
	issued := dateOf(row.IssueDate)
	if issued.IsZero() {
		issued = domain.DateOf(now, loc)
	}
	ag, agreed, err := terms(issued)
	if err != nil {
		return ag, err
	}
	due := dateOf(row.DueDate)
	if due.IsZero() {
		if due, err = domain.DueDate(ag.PaymentTerms, issued); err != nil {
			return ag, err
		}
	}
	if due.Before(issued) {
		return ag, fieldError("due_date", "must not be before issue_date")
	}
	overdue := domain.DayOneOverdue(due, ag.GraceDays)
	overdueAt := overdue.Midnight(loc).UTC()
	row.Status, row.IssueDate, row.DueDate = domain.InvoiceStatusOpen, dateCol(issued), dateCol(due)
	row.OverdueFrom, row.OverdueAt, row.Agreement, row.IssuedAt, row.UpdatedAt = dateCol(overdue), &overdueAt, &agreed, &now, now
	if ag.ID != "" {
		row.AgreementID = &ag.ID
	}
	row.NextActionOn = dateCol(domain.NextActionOn(ag, due, issued.AddDays(-1), row.Total == 0))
	return ag, nil
}

// takeNumber gives an opened invoice the next number of its series.
func (s *InvoiceService) takeNumber(tx *gorm.DB, row *invoiceRow) error {
	number, err := nextNumber(tx, seriesOf(row))
	if err != nil {
		return err
	}
	row.Number = &number
	return nil
}

// useCredit applies the client's credit to a newly opened invoice, and
// reports whether credit changed the row.
func (s *InvoiceService) useCredit(ctx context.Context, tx *gorm.DB, row *invoiceRow) (bool, error) {
	applied, err := s.applyCredit(ctx, tx, row)
	if err != nil || applied == 0 {
		// Without credit the figures written stand (balance = total).
		return false, err
	}
	_, err = s.db.refresh(ctx, tx, row.ID, dateOf(row.IssueDate))
	return true, err
}

// nextNumber returns the next number of a series, gapless: the counter row
// is bumped inside the issuing transaction, so a rollback gives it back and
// concurrent issuers queue on the row (PostgreSQL) or the writer (SQLite).
func nextNumber(tx *gorm.DB, series string) (string, error) {
	var n int64
	if err := rawScan(tx, `INSERT INTO invoice_counters (series, last_number) VALUES (?, 1)
		ON CONFLICT (series) DO UPDATE SET last_number = invoice_counters.last_number + 1 RETURNING last_number`, []any{series}, &n); err != nil {
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
			if err := s.db.addCredit(tx, row.ClientID, row.Currency, row.CreditApplied, domain.CreditReleased, row.ID, ""); err != nil {
				return err
			}
		}
		if row.Status != domain.InvoiceStatusDraft {
			// An issued invoice is not deleted: a credit note for what is
			// not yet credited cancels it (drafts have no number to cancel).
			if err := s.creditInFull(ctx, tx, row); err != nil {
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

// creditInFull issues the credit note that cancels an issued invoice being
// voided: for the total not yet credited, dated today (or the issue date,
// if later), all of it taken off the principal.
func (s *InvoiceService) creditInFull(ctx context.Context, tx *gorm.DB, row *invoiceRow) error {
	var credited int64
	if err := rawScan(tx, "SELECT COALESCE(SUM(amount), 0) FROM credit_notes WHERE invoice_id = ?", []any{row.ID}, &credited); err != nil {
		return err
	}
	amount := row.Total - credited
	if amount <= 0 {
		return nil
	}
	loc, err := domain.LoadZone(row.Timezone)
	if err != nil {
		return err
	}
	on := domain.DateOf(s.db.now(), loc)
	if issued := dateOf(row.IssueDate); on.Before(issued) {
		on = issued
	}
	id, err := s.db.issueCreditNote(ctx, tx, row, on, "The invoice is void.", nil, amount, 0, amount)
	if err != nil {
		return err
	}
	_, err = rawExec(tx, "UPDATE credit_notes SET alloc_principal = amount WHERE id = ?", id)
	return err
}

// checkReverseCharge records what keeps a draft from the reverse charge:
// a line with VAT (the new lines, else the stored ones) or a client
// without a tax_id.
func checkReverseCharge(tx *gorm.DB, f domain.FieldErrors, row *invoiceRow, lines *[]domain.LineInput) error {
	var rates []string
	if lines != nil {
		for _, l := range *lines {
			rates = append(rates, l.TaxRate)
		}
	} else if err := tx.Model(&lineRow{}).Where("invoice_id = ?", row.ID).Order("position").Pluck("tax_rate", &rates).Error; err != nil {
		return err
	}
	domain.CheckReverseChargeRates(f, rates)
	var taxID string
	if err := rawScan(tx, "SELECT tax_id FROM clients WHERE id = ?", []any{row.ClientID}, &taxID); err != nil {
		return err
	}
	if taxID == "" {
		f.Add("reverse_charge", "the client has no tax_id: the reverse charge applies to a business client identified for VAT")
	}
	return nil
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
