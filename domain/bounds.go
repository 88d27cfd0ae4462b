package domain

// The window of dates the API takes (docs/RULES.md section 4): a
// date far in the past or future is a typo, and one such date must not make
// the sweep compute, or write, centuries of charges.
const (
	// DateYearsBack is how many years before today a date may lie.
	DateYearsBack = 10
	// DateYearsAhead is how many years after today a date may lie.
	DateYearsAhead = 1
	// PlannedDateYearsAhead is how many years after today a milestone's
	// planned date may lie.
	PlannedDateYearsAhead = 5
)

// EnforceYears is how long after its due date the rules still compute an
// invoice's charges: three times the oldest date the API takes. A due date
// older than that is a stored value no request could have made, and
// computing decades of daily fees for it would hold the sweep up.
const EnforceYears = 3 * DateYearsBack

// CheckEnforceable returns an EUNPROCESSABLE error when asOf is more than
// EnforceYears after the due date.
func CheckEnforceable(invoiceID string, due, asOf Date) error {
	if limit := due.AddYears(EnforceYears); !due.IsZero() && asOf.After(limit) {
		return Errorf(EUNPROCESSABLE, "invoice %s is due on %s, more than %d years before %s: its charges are not computed",
			invoiceID, due, EnforceYears, asOf)
	}
	return nil
}

// DateWindow is the range of dates the API takes on one day: from Earliest
// to Latest, and for milestone planned dates to LatestPlanned. Reference
// rate rows are exempt: a series goes back as far as its history.
type DateWindow struct {
	Earliest, Latest, LatestPlanned Date
}

// DateWindowOn returns the window of dates the API takes on today (the
// server clock's date).
func DateWindowOn(today Date) DateWindow {
	return DateWindow{
		Earliest:      today.AddYears(-DateYearsBack),
		Latest:        today.AddYears(DateYearsAhead),
		LatestPlanned: today.AddYears(PlannedDateYearsAhead),
	}
}

// Check records a problem with field in f when d is set and outside the
// window.
func (w DateWindow) Check(f FieldErrors, field string, d Date) {
	w.check(f, field, d, w.Latest, DateYearsAhead)
}

// CheckPlanned is Check for a milestone's planned date, which may lie up to
// PlannedDateYearsAhead years ahead.
func (w DateWindow) CheckPlanned(f FieldErrors, field string, d Date) {
	w.check(f, field, d, w.LatestPlanned, PlannedDateYearsAhead)
}

func (w DateWindow) check(f FieldErrors, field string, d, latest Date, yearsAhead int) {
	if d.IsZero() || (!d.Before(w.Earliest) && !d.After(latest)) {
		return
	}
	f.Add(field, "%s is out of range: dates must lie from %s to %s (%s back to %s ahead of today)",
		d, w.Earliest, latest, withUnit(DateYearsBack, "year"), withUnit(yearsAhead, "year"))
}

// Err returns an EINVALID error naming field when d is set and outside the
// window, else nil.
func (w DateWindow) Err(field string, d Date) error {
	f := FieldErrors{}
	w.Check(f, field, d)
	return f.Err()
}

// AddYears returns the same day n years later (earlier for negative n); 29
// February becomes 28 February in a year that has none. The zero Date stays
// zero.
func (d Date) AddYears(n int) Date {
	if d.IsZero() {
		return d
	}
	out := NewDate(d.year+n, d.month, d.day)
	if out.month != d.month {
		return NewDate(d.year+n, d.month+1, 0)
	}
	return out
}
