package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Date is a calendar date with no time of day and no time zone, so daylight
// saving can never move it. Dates are comparable with == and usable as map
// keys; the zero Date means "not set" and sorts before every real date.
type Date struct {
	year  int
	month time.Month
	day   int
}

// secondsPerDay is exact for dates: they are converted at midnight UTC, which
// has no daylight saving.
const secondsPerDay = 24 * 60 * 60

// NewDate returns the date y-m-d, normalizing out-of-range months and days
// the way time.Date does (2026-02-30 becomes 2026-03-02). Use ParseDate to
// refuse impossible dates from users.
func NewDate(y int, m time.Month, d int) Date {
	return dateFromTime(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// DateOf returns the calendar date of the instant t in the time zone loc
// (UTC when loc is nil).
func DateOf(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = time.UTC
	}
	return dateFromTime(t.In(loc))
}

func dateFromTime(t time.Time) Date {
	y, m, d := t.Date()
	return Date{year: y, month: m, day: d}
}

// ParseDate parses "YYYY-MM-DD" and refuses anything else, including dates
// that do not exist such as "2026-02-30", with an EINVALID error.
func ParseDate(s string) (Date, error) {
	bad := func() error { return Errorf(EINVALID, "%q is not a date in the form YYYY-MM-DD", s) }
	if len(s) != len("2006-01-02") || s[4] != '-' || s[7] != '-' ||
		!allDigits(s[0:4]) || !allDigits(s[5:7]) || !allDigits(s[8:10]) {
		return Date{}, bad()
	}
	y, m, d := atoiDigits(s[0:4]), time.Month(atoiDigits(s[5:7])), atoiDigits(s[8:10])
	if y < 1 || m < time.January || m > time.December || d < 1 {
		return Date{}, bad()
	}
	date := NewDate(y, m, d)
	if date.month != m || date.day != d {
		return Date{}, Errorf(EINVALID, "%s does not exist: %s %d has %d days",
			s, m, y, NewDate(y, m+1, 0).day)
	}
	return date, nil
}

// atoiDigits converts a short run of ASCII digits already checked by allDigits.
func atoiDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// MustParseDate is ParseDate for constants in tests and tables; it panics on
// a bad date.
func MustParseDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String writes the date as "YYYY-MM-DD", and the zero Date as "".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return string(d.appendTo(make([]byte, 0, len("2006-01-02"))))
}

// appendTo appends the date as YYYY-MM-DD, as "%04d-%02d-%02d" would.
func (d Date) appendTo(b []byte) []byte {
	y := d.year
	if y < 0 || y > 9999 {
		return fmt.Appendf(b, "%04d-%02d-%02d", y, int(d.month), d.day)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(d.month)/10), byte('0'+int(d.month)%10), '-', byte('0'+d.day/10), byte('0'+d.day%10))
}

// LongString writes the date for people: "1 February 2026"; the zero Date is "".
func (d Date) LongString() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d %s %d", d.day, d.month, d.year)
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == Date{} }

// Year returns the date's year.
func (d Date) Year() int { return d.year }

// Month returns the date's month.
func (d Date) Month() time.Month { return d.month }

// Day returns the date's day of the month.
func (d Date) Day() int { return d.day }

// Before reports whether d is earlier than other.
func (d Date) Before(other Date) bool { return d.compare(other) < 0 }

// After reports whether d is later than other.
func (d Date) After(other Date) bool { return d.compare(other) > 0 }

func (d Date) compare(o Date) int {
	switch {
	case d.year != o.year:
		return d.year - o.year
	case d.month != o.month:
		return int(d.month - o.month)
	}
	return d.day - o.day
}

// AddDays returns the date n days later (earlier for negative n); the zero
// Date stays zero.
func (d Date) AddDays(n int) Date {
	if d.IsZero() {
		return d
	}
	return NewDate(d.year, d.month, d.day+n)
}

// DaysSince returns the number of days from other to d: positive when d is
// later, 0 on the same day.
func (d Date) DaysSince(other Date) int {
	return int((d.utc().Unix() - other.utc().Unix()) / secondsPerDay)
}

// utc returns midnight UTC at the start of the date.
func (d Date) utc() time.Time {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC)
}

// Midnight returns the instant the date starts in loc (UTC when loc is nil),
// for storing a date next to timestamps.
func (d Date) Midnight(loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, loc)
}

// FirstOfMonth returns the first day of the date's month.
func (d Date) FirstOfMonth() Date { return NewDate(d.year, d.month, 1) }

// FirstOfNextMonth returns the first day of the month after the date's.
func (d Date) FirstOfNextMonth() Date { return NewDate(d.year, d.month+1, 1) }

// LastOfMonth returns the last day of the date's month.
func (d Date) LastOfMonth() Date { return NewDate(d.year, d.month+1, 0) }

// YearMonth writes the date's month as "YYYY-MM".
func (d Date) YearMonth() string { return fmt.Sprintf("%04d-%02d", d.year, int(d.month)) }

// DaysInYear returns 366 in a leap year and 365 otherwise.
func (d Date) DaysInYear() int {
	y := d.year
	if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		return 366
	}
	return 365
}

// MarshalJSON writes the date as "YYYY-MM-DD", and the zero Date as null.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	b := append(make([]byte, 0, len(`"2006-01-02"`)), '"')
	return append(d.appendTo(b), '"'), nil
}

// UnmarshalJSON reads "YYYY-MM-DD"; null and "" give the zero Date. It
// refuses any other JSON value and impossible dates.
func (d *Date) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return Errorf(EINVALID, "a date must be a string in the form YYYY-MM-DD")
	}
	return d.UnmarshalText([]byte(s))
}

// MarshalText writes the date as "YYYY-MM-DD", and the zero Date as "".
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "YYYY-MM-DD"; "" gives the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	parsed, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}
