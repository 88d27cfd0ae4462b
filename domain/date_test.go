package domain_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/remit/remit/domain"
)

func TestParseDate(t *testing.T) {
	good := map[string]domain.Date{
		"2026-01-31": domain.NewDate(2026, time.January, 31),
		"2028-02-29": domain.NewDate(2028, time.February, 29),
		"2000-02-29": domain.NewDate(2000, time.February, 29),
		"0001-01-01": domain.NewDate(1, time.January, 1),
	}
	for in, want := range good {
		got, err := domain.ParseDate(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseDate(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"2026-02-30", "2026-02-29", "2100-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00",
		"0000-01-01", "2026-1-1", "2026/01/01", "26-01-01", "2026-01-01T00:00:00Z", "", "２０２６-01-01", "+026-01-01"} {
		if got, err := domain.ParseDate(in); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("ParseDate(%q) = %v, %v; want invalid", in, got, err)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		from  string
		days  int
		want  string
		since int
	}{
		{"2026-01-31", 1, "2026-02-01", 1},
		{"2026-01-31", 30, "2026-03-02", 30},
		{"2028-02-28", 1, "2028-02-29", 1},
		{"2026-12-31", 1, "2027-01-01", 1},
		{"2026-03-29", 0, "2026-03-29", 0}, // the day clocks change in Europe
		{"2026-03-01", -1, "2026-02-28", -1},
		{"1900-01-01", 365 * 400, "2299-09-26", 365 * 400}, // beyond time.Duration's range
	}
	for _, tt := range tests {
		from := d(tt.from)
		got := from.AddDays(tt.days)
		if got.String() != tt.want {
			t.Errorf("%s.AddDays(%d) = %s, want %s", tt.from, tt.days, got, tt.want)
		}
		if s := got.DaysSince(from); s != tt.since {
			t.Errorf("%s.DaysSince(%s) = %d, want %d", got, from, s, tt.since)
		}
	}
	if !(domain.Date{}).AddDays(5).IsZero() {
		t.Error("zero date moved")
	}
}

func TestDateParts(t *testing.T) {
	x := d("2026-02-14")
	if x.Year() != 2026 || x.Month() != time.February || x.Day() != 14 {
		t.Errorf("parts = %d %s %d", x.Year(), x.Month(), x.Day())
	}
	checks := map[string]string{
		"FirstOfMonth":     x.FirstOfMonth().String(),
		"FirstOfNextMonth": x.FirstOfNextMonth().String(),
		"December next":    d("2026-12-31").FirstOfNextMonth().String(),
		"LastOfMonth":      x.LastOfMonth().String(),
		"LastOfMonth leap": d("2028-02-03").LastOfMonth().String(),
		"YearMonth":        x.YearMonth(),
		"LongString":       d("2026-02-01").LongString(),
	}
	want := map[string]string{
		"FirstOfMonth": "2026-02-01", "FirstOfNextMonth": "2026-03-01", "December next": "2027-01-01",
		"LastOfMonth": "2026-02-28", "LastOfMonth leap": "2028-02-29", "YearMonth": "2026-02", "LongString": "1 February 2026",
	}
	for k, v := range want {
		if checks[k] != v {
			t.Errorf("%s = %q, want %q", k, checks[k], v)
		}
	}
	years := map[string]int{"2026-06-01": 365, "2028-06-01": 366, "2100-06-01": 365, "2000-06-01": 366}
	for s, n := range years {
		if got := d(s).DaysInYear(); got != n {
			t.Errorf("%s.DaysInYear() = %d, want %d", s, got, n)
		}
	}
	var zero domain.Date
	if !zero.IsZero() || zero.String() != "" || zero.LongString() != "" || !zero.Before(d("0001-01-01")) {
		t.Error("zero date misbehaves")
	}
	if !d("2026-01-31").Before(d("2026-02-01")) || !d("2026-02-01").After(d("2026-01-31")) || d("2026-02-01").After(d("2026-02-01")) {
		t.Error("Before/After")
	}
	seen := map[domain.Date]bool{d("2026-02-01"): true}
	if !seen[domain.NewDate(2026, time.January, 32)] {
		t.Error("equal dates are not the same map key")
	}
}

func TestDateOf(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tz database:", err)
	}
	instant := time.Date(2026, time.March, 8, 3, 30, 0, 0, time.UTC) // 2026-03-07 22:30 in New York, 12:30 on 8 March in Tokyo
	tests := []struct {
		loc  *time.Location
		want string
	}{{time.UTC, "2026-03-08"}, {nil, "2026-03-08"}, {tokyo, "2026-03-08"}, {ny, "2026-03-07"}}
	for _, tt := range tests {
		if got := domain.DateOf(instant, tt.loc); got.String() != tt.want {
			t.Errorf("DateOf(%s, %v) = %s, want %s", instant, tt.loc, got, tt.want)
		}
	}
	// DST day in New York: midnight exists and maps back to the same date.
	day := d("2026-03-08")
	if got := domain.DateOf(day.Midnight(ny), ny); got != day {
		t.Errorf("DateOf(Midnight) = %s", got)
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		On    domain.Date `json:"on"`
		Maybe domain.Date `json:"maybe"`
	}
	b, err := json.Marshal(doc{On: d("2026-02-01")})
	if err != nil || string(b) != `{"on":"2026-02-01","maybe":null}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var got doc
	if err := json.Unmarshal([]byte(`{"on":"2026-02-01","maybe":""}`), &got); err != nil || got.On != d("2026-02-01") || !got.Maybe.IsZero() {
		t.Errorf("Unmarshal = %+v, %v", got, err)
	}
	if err := json.Unmarshal([]byte(`{"on":null}`), &got); err != nil || !got.On.IsZero() {
		t.Errorf("Unmarshal null = %+v, %v", got, err)
	}
	for _, bad := range []string{`{"on":"2026-02-30"}`, `{"on":20260201}`, `{"on":"01/02/2026"}`} {
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
	text, _ := d("2026-02-01").MarshalText()
	var back domain.Date
	if err := back.UnmarshalText(text); err != nil || back != d("2026-02-01") {
		t.Errorf("text round trip = %s, %v", back, err)
	}
	keyed, err := json.Marshal(map[domain.Date]int{d("2026-02-01"): 1})
	if err != nil || string(keyed) != `{"2026-02-01":1}` {
		t.Errorf("map key = %s, %v", keyed, err)
	}
}

// TestDateFormatting checks the hand-written formatting against fmt and
// encoding/json over every day of four centuries and a few odd years.
func TestDateFormatting(t *testing.T) {
	check := func(d domain.Date) {
		t.Helper()
		want := fmt.Sprintf("%04d-%02d-%02d", d.Year(), int(d.Month()), d.Day())
		if got := d.String(); got != want {
			t.Fatalf("String() = %q, want %q", got, want)
		}
		b, err := d.MarshalJSON()
		wantJSON, _ := json.Marshal(want)
		if err != nil || string(b) != string(wantJSON) {
			t.Fatalf("MarshalJSON() = %s %v, want %s", b, err, wantJSON)
		}
	}
	for d := domain.NewDate(1800, 1, 1); d.Before(domain.NewDate(2200, 1, 1)); d = d.AddDays(1) {
		check(d)
	}
	for _, y := range []int{1, 9, 10, 99, 100, 999, 1000, 9999, 10000} {
		check(domain.NewDate(y, time.February, 28))
	}
}
