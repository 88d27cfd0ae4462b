package domain_test

import (
	"testing"

	"github.com/remit/remit/domain"
)

func TestDateWindow(t *testing.T) {
	w := domain.DateWindowOn(domain.MustParseDate("2026-12-03"))
	if w.Earliest != domain.MustParseDate("2016-12-03") || w.Latest != domain.MustParseDate("2027-12-03") ||
		w.LatestPlanned != domain.MustParseDate("2031-12-03") {
		t.Fatalf("window %+v", w)
	}
	for _, tc := range []struct {
		date          string
		ok, plannedOK bool
	}{
		{"", true, true},
		{"2016-12-03", true, true},
		{"2016-12-02", false, false},
		{"2027-12-03", true, true},
		{"2027-12-04", false, true},
		{"2031-12-03", false, true},
		{"2031-12-04", false, false},
		{"0001-01-01", false, false},
		{"9999-12-31", false, false},
	} {
		var d domain.Date
		if tc.date != "" {
			d = domain.MustParseDate(tc.date)
		}
		f := domain.FieldErrors{}
		w.Check(f, "issue_date", d)
		w.CheckPlanned(f, "planned_date", d)
		if _, bad := f["issue_date"]; bad == tc.ok {
			t.Errorf("Check(%q): %v", tc.date, f)
		}
		if _, bad := f["planned_date"]; bad == tc.plannedOK {
			t.Errorf("CheckPlanned(%q): %v", tc.date, f)
		}
	}
	err := w.Err("paid_on", domain.MustParseDate("9999-12-31"))
	if domain.ErrorCode(err) != domain.EINVALID ||
		domain.ErrorMessage(err) != "invalid request: paid_on: 9999-12-31 is out of range: dates must lie from 2016-12-03 to 2027-12-03 (10 years back to 1 year ahead of today)" {
		t.Fatalf("Err: %v", err)
	}
	// 29 February moves to the 28th in a year without one.
	if got := domain.MustParseDate("2028-02-29").AddYears(-10); got != domain.MustParseDate("2018-02-28") {
		t.Fatalf("AddYears: %s", got)
	}
}

func TestChargesStopAfterEnforceYears(t *testing.T) {
	f := domain.InvoiceFacts{InvoiceID: "inv_old", Currency: "EUR", Principal: 10000, DueDate: domain.MustParseDate("0001-01-01"),
		Agreement: domain.Agreement{LateFee: &domain.LateFee{Flat: 100, RepeatEveryDays: 1}}}
	if _, err := domain.ChargesDue(f, domain.MustParseDate("2026-12-03")); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
		t.Fatalf("a due date in year 1: %v", err)
	}
	f.DueDate = domain.MustParseDate("1996-12-03")
	if due, err := domain.ChargesDue(f, domain.MustParseDate("2026-12-03")); err != nil || len(due) != 10957 {
		t.Fatalf("30 years to the day: %d fees, %v", len(due), err)
	}
	if _, err := domain.ChargesDue(f, domain.MustParseDate("2026-12-04")); domain.ErrorCode(err) != domain.EUNPROCESSABLE {
		t.Fatalf("a day more: %v", err)
	}
}
