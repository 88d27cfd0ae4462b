// Package ledgercheck verifies, straight from the tables, that Remit's money
// is consistent: every invoice's cached figures agree with its ledger rows,
// allocations add up, no number, charge or payment exists twice, and no
// client's credit is negative. Tests of every kind (store, replicas, crashes)
// call it.
package ledgercheck

import (
	"database/sql"
	"fmt"
)

// Check returns the first inconsistency it finds, or nil.
func Check(db *sql.DB) error {
	rows, err := db.Query(`SELECT i.id, i.status, i.total, i.charges_total, i.amount_paid, i.credit_applied, i.balance_due,
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
		var total, charges, paid, credit, balance, sumCharges, sumPaid, sumRefunded, sumCredit, chargesPaid, allocCharges, revCharges, badAlloc int64
		if err := rows.Scan(&id, &status, &total, &charges, &paid, &credit, &balance, &sumCharges, &sumPaid, &sumRefunded, &sumCredit, &chargesPaid, &allocCharges, &revCharges, &badAlloc); err != nil {
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
		case status != "void" && balance != total+charges-paid-credit:
			return fail("balance_due %d != %d + %d - %d - %d", balance, total, charges, paid, credit)
		case balance < 0:
			return fail("negative balance %d", balance)
		case status == "paid" && balance != 0:
			return fail("paid with balance %d", balance)
		case status == "open" && balance == 0:
			return fail("open with zero balance")
		case chargesPaid != allocCharges-revCharges:
			return fail("charges paid %d, payments say %d", chargesPaid, allocCharges-revCharges)
		case badAlloc > 0:
			return fail("%d payments whose allocation does not sum to the amount", badAlloc)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, q := range []struct{ what, sql string }{
		{"clients with negative credit", `SELECT COUNT(*) FROM (SELECT client_id FROM client_credits GROUP BY client_id HAVING SUM(amount) < 0) x`},
		{"invoice numbers used twice", `SELECT COUNT(*) FROM (SELECT number FROM invoices WHERE number IS NOT NULL GROUP BY number HAVING COUNT(*) > 1) x`},
		{"charges posted twice", `SELECT COUNT(*) FROM (SELECT invoice_id, key FROM charges GROUP BY invoice_id, key HAVING COUNT(*) > 1) x`},
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
