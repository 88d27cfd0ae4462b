// Package ledgercheck verifies, straight from the tables, that Remit's money
// is consistent: every invoice's cached figures agree with its ledger rows,
// an invoice is paid exactly when it owes nothing, allocations add up, no
// number, charge or payment exists twice, and every client's credit agrees
// with the payments, refunds and invoices that made and used it and was
// never negative. Tests of every kind (store, replicas, crashes) call it.
package ledgercheck

import (
	"database/sql"
	"fmt"
)

// Check returns the first inconsistency it finds, or nil.
func Check(db *sql.DB) error {
	rows, err := db.Query(`SELECT i.id, i.status, i.total, i.charges_total, i.amount_paid, i.credit_applied, i.balance_due, i.credited,
		(SELECT COALESCE(SUM(alloc_principal), 0) FROM credit_notes n WHERE n.invoice_id = i.id),
		(SELECT COALESCE(SUM(amount - waived_amount), 0) FROM charges c WHERE c.invoice_id = i.id),
		(SELECT COALESCE(SUM(alloc_compensation + alloc_fees + alloc_interest + alloc_principal), 0) FROM payments p WHERE p.invoice_id = i.id),
		(SELECT COALESCE(SUM(rev_compensation + rev_fees + rev_interest + rev_principal), 0) FROM refunds r WHERE r.invoice_id = i.id),
		(SELECT COALESCE(-SUM(amount), 0) FROM client_credits k WHERE k.invoice_id = i.id AND k.kind IN ('applied', 'released')),
		(SELECT COALESCE(SUM(paid), 0) FROM charges c WHERE c.invoice_id = i.id),
		(SELECT COALESCE(SUM(alloc_compensation + alloc_fees + alloc_interest), 0) FROM payments p WHERE p.invoice_id = i.id),
		(SELECT COALESCE(SUM(rev_compensation + rev_fees + rev_interest), 0) FROM refunds r WHERE r.invoice_id = i.id),
		(SELECT COUNT(*) FROM payments p WHERE p.invoice_id = i.id AND alloc_compensation + alloc_fees + alloc_interest + alloc_principal + alloc_credit <> amount)
		FROM invoices i`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, status string
		var credited, sumCredited int64
		var total, charges, paid, credit, balance, sumCharges, sumPaid, sumRefunded, sumCredit, chargesPaid, allocCharges, revCharges, badAlloc int64
		if err := rows.Scan(&id, &status, &total, &charges, &paid, &credit, &balance, &credited, &sumCredited, &sumCharges, &sumPaid, &sumRefunded, &sumCredit, &chargesPaid, &allocCharges, &revCharges, &badAlloc); err != nil {
			return err
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("invoice %s (%s): %s", id, status, fmt.Sprintf(format, args...))
		}
		switch {
		case charges != sumCharges:
			return fail("charges_total %d, rows say %d", charges, sumCharges)
		case paid != sumPaid-sumRefunded:
			return fail("amount_paid %d, rows say %d", paid, sumPaid-sumRefunded)
		case credit != sumCredit:
			return fail("credit_applied %d, rows say %d", credit, sumCredit)
		case credited != sumCredited:
			return fail("credited %d, credit notes say %d", credited, sumCredited)
		case status != "void" && balance != total+charges-paid-credit-credited:
			return fail("balance_due %d != %d + %d - %d - %d - %d", balance, total, charges, paid, credit, credited)
		case balance < 0:
			return fail("negative balance %d", balance)
		case status == "paid" && balance != 0:
			return fail("paid with balance %d", balance)
		case status == "open" && balance == 0:
			return fail("open with zero balance: paid if and only if nothing is owed")
		case chargesPaid != allocCharges-revCharges:
			return fail("charges paid %d, payments say %d", chargesPaid, allocCharges-revCharges)
		case badAlloc > 0:
			return fail("%d payments whose allocation does not sum to the amount", badAlloc)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := Credit(db); err != nil {
		return err
	}
	for _, q := range []struct{ what, sql string }{
		{"invoice numbers used twice", `SELECT COUNT(*) FROM (SELECT number FROM invoices WHERE number IS NOT NULL GROUP BY number HAVING COUNT(*) > 1) x`},
		{"charges posted twice", `SELECT COUNT(*) FROM (SELECT invoice_id, key FROM charges GROUP BY invoice_id, key HAVING COUNT(*) > 1) x`},
		{"payments refunded beyond their amount, or otherwise than their refunds say", `SELECT COUNT(*) FROM payments p
			WHERE p.refunded > p.amount OR p.refunded <> (SELECT COALESCE(SUM(amount), 0) FROM refunds r WHERE r.payment_id = p.id)`},
		{"payments recorded twice", `SELECT COUNT(*) FROM (SELECT external_key FROM payments GROUP BY external_key HAVING COUNT(*) > 1) x`},
	} {
		var n int
		if err := db.QueryRow(q.sql).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d %s", n, q.what)
		}
	}
	return Gapless(db)
}

// Gapless checks that every series of invoice numbers (INV-2026-...) runs
// 1..N without a hole, void invoices included.
func Gapless(db *sql.DB) error {
	rows, err := db.Query(`SELECT number FROM invoices WHERE number IS NOT NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	bySeries := map[string]map[int]bool{}
	for rows.Next() {
		var number string
		if err := rows.Scan(&number); err != nil {
			return err
		}
		var series string
		var n int
		if len(number) < 10 {
			return fmt.Errorf("invoice number %q has no series", number)
		}
		series = number[:8]
		if _, err := fmt.Sscanf(number[9:], "%d", &n); err != nil {
			return fmt.Errorf("invoice number %q: %v", number, err)
		}
		if bySeries[series] == nil {
			bySeries[series] = map[int]bool{}
		}
		bySeries[series][n] = true
	}
	for series, nums := range bySeries {
		for i := 1; i <= len(nums); i++ {
			if !nums[i] {
				return fmt.Errorf("series %s has %d numbers but no %d", series, len(nums), i)
			}
		}
	}
	return rows.Err()
}

// creditKinds are the lines of the client_credits ledger: an overpayment
// creates credit, issuing an invoice applies it, voiding that invoice
// releases it again, refunding the payment that created it takes it back,
// and a payment or refund recorded late adjusts what a payment created.
var creditKinds = map[string]bool{"overpayment": true, "applied": true, "released": true, "refund": true, "adjusted": true,
	"credit_note": true}

// Credit checks every client's credit in each currency: its ledger holds
// only known kinds; what it says was applied equals what the invoices say,
// and what payments created less what refunds took back (overpayment,
// refund and adjusted lines) equals what the payments and refunds say; the
// balance is that less what was applied; and, read in the order the lines
// were written, it never went below zero.
func Credit(db *sql.DB) error {
	type sums struct{ created, applied, refunded, balance, noted int64 }
	ledger := map[account]*sums{}
	rows, err := db.Query(`SELECT client_id, currency, kind, amount FROM client_credits ORDER BY client_id, currency, created_at, amount DESC, id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a account
		var kind string
		var amount int64
		if err := rows.Scan(&a.client, &a.currency, &kind, &amount); err != nil {
			return err
		}
		if !creditKinds[kind] {
			return fmt.Errorf("client %s: credit line of unknown kind %q", a.client, kind)
		}
		s := ledger[a]
		if s == nil {
			s = &sums{}
			ledger[a] = s
		}
		switch kind {
		case "overpayment", "adjusted":
			s.created += amount
		case "applied", "released":
			s.applied -= amount
		case "refund":
			s.refunded -= amount
		case "credit_note":
			s.noted += amount
		}
		s.balance += amount
		if s.balance < 0 {
			return fmt.Errorf("client %s: %s credit went negative (%d) at a %s line of %d", a.client, a.currency, s.balance, kind, amount)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// The same three figures from the rows that caused them.
	facts := map[account]*sums{}
	for _, q := range []struct {
		sql string
		set func(s *sums, n int64)
	}{
		{`SELECT client_id, currency, SUM(alloc_credit) FROM payments GROUP BY client_id, currency`, func(s *sums, n int64) { s.created = n }},
		{`SELECT client_id, currency, SUM(alloc_credit) FROM credit_notes GROUP BY client_id, currency`, func(s *sums, n int64) { s.noted = n }},
		{`SELECT i.client_id, i.currency, SUM(i.credit_applied) FROM invoices i GROUP BY i.client_id, i.currency`, func(s *sums, n int64) { s.applied = n }},
		{`SELECT p.client_id, p.currency, SUM(r.rev_credit) FROM refunds r JOIN payments p ON p.id = r.payment_id GROUP BY p.client_id, p.currency`,
			func(s *sums, n int64) { s.refunded = n }},
	} {
		if err := each(db, q.sql, func(a account, n int64) {
			if facts[a] == nil {
				facts[a] = &sums{}
			}
			q.set(facts[a], n)
		}); err != nil {
			return err
		}
	}
	for a, f := range facts {
		s := ledger[a]
		if s == nil {
			s = &sums{}
		}
		switch {
		case s.created-s.refunded != f.created-f.refunded:
			return fmt.Errorf("client %s: %s credit created less refunded %d, payments and refunds say %d", a.client, a.currency,
				s.created-s.refunded, f.created-f.refunded)
		case s.applied != f.applied:
			return fmt.Errorf("client %s: %s credit applied %d, invoices say %d", a.client, a.currency, s.applied, f.applied)
		case s.noted != f.noted:
			return fmt.Errorf("client %s: %s credit from credit notes %d, credit notes say %d", a.client, a.currency, s.noted, f.noted)
		case s.balance != f.created-f.applied-f.refunded+f.noted:
			return fmt.Errorf("client %s: %s credit %d != %d created - %d applied - %d refunded + %d credit notes", a.client, a.currency,
				s.balance, f.created, f.applied, f.refunded, f.noted)
		}
	}
	for a, s := range ledger {
		if facts[a] == nil && (s.created != 0 || s.applied != 0 || s.refunded != 0 || s.noted != 0) {
			return fmt.Errorf("client %s: %s credit lines without the payments or invoices that made them", a.client, a.currency)
		}
	}
	return nil
}

// account is a client's credit in one currency.
type account struct{ client, currency string }

// each runs a query of (client, currency, sum) rows and calls fn on each.
func each(db *sql.DB, query string, fn func(a account, n int64)) error {
	rows, err := db.Query(query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a account
		var n int64
		if err := rows.Scan(&a.client, &a.currency, &n); err != nil {
			return err
		}
		fn(a, n)
	}
	return rows.Err()
}

// Series checks that the invoices of one series (e.g. "INV-2026") are
// numbered 1..n in order, each number once, with the series' counter at n,
// and returns each invoice's number by id, for tests that compare the
// numbers their requests were acknowledged with.
func Series(db *sql.DB, series string) (map[string]string, error) {
	rows, err := db.Query("SELECT id, number FROM invoices WHERE number LIKE $1 ORDER BY number", series+"-%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := map[string]string{}
	var numbers []string
	for rows.Next() {
		var id, number string
		if err := rows.Scan(&id, &number); err != nil {
			return nil, err
		}
		found[id] = number
		numbers = append(numbers, number)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, n := range numbers {
		if want := fmt.Sprintf("%s-%04d", series, i+1); n != want {
			return nil, fmt.Errorf("numbers %v: #%d is %s, want %s", numbers, i+1, n, want)
		}
	}
	var last int
	if err := db.QueryRow("SELECT last_number FROM invoice_counters WHERE series = $1", series).Scan(&last); err != nil || last != len(numbers) {
		return nil, fmt.Errorf("counter of %s at %d (%v) for %d invoices", series, last, err, len(numbers))
	}
	return found, nil
}
