package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/remit/remit/domain"
)

// issueDays lists the issue dates of periods, for comparing with a table.
func issueDays(ps []domain.BillingPeriod) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.IssueOn.String()
	}
	return strings.Join(out, " ")
}

func TestPeriods(t *testing.T) {
	monthly31 := domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, StartDate: d("2026-01-31")}
	tests := []struct {
		name     string
		s        domain.Schedule
		from, to string
		want     string
	}{
		{"anchor 31 falls on each short month's last day", monthly31, "2026-01-01", "2026-06-30",
			"2026-01-31 2026-02-28 2026-03-31 2026-04-30 2026-05-31 2026-06-30"},
		{"a leap February", domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, StartDate: d("2028-01-31")}, "2028-01-01", "2028-03-31",
			"2028-01-31 2028-02-29 2028-03-31"},
		{"only the periods issued within from..to", monthly31, "2026-03-10", "2026-05-20", "2026-03-31 2026-04-30"},
		{"anchor 1 after a mid-month start begins next month", domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, AnchorDay: 1, StartDate: d("2026-01-15")},
			"2026-01-01", "2026-03-31", "2026-02-01 2026-03-01"},
		{"anchor 20 after a start on the 15th begins the same month", domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, AnchorDay: 20, StartDate: d("2026-01-15")},
			"2026-01-01", "2026-03-31", "2026-01-20 2026-02-20 2026-03-20"},
		{"every two months", domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 2, StartDate: d("2026-01-31")}, "2026-01-01", "2026-12-31",
			"2026-01-31 2026-03-31 2026-05-31 2026-07-31 2026-09-30 2026-11-30"},
		{"quarterly from 30 November", domain.Schedule{Interval: domain.IntervalQuarterly, IntervalCount: 1, StartDate: d("2025-11-30")}, "2025-01-01", "2026-12-31",
			"2025-11-30 2026-02-28 2026-05-30 2026-08-30 2026-11-30"},
		{"yearly from 29 February", domain.Schedule{Interval: domain.IntervalYearly, IntervalCount: 1, StartDate: d("2028-02-29")}, "2028-01-01", "2032-12-31",
			"2028-02-29 2029-02-28 2030-02-28 2031-02-28 2032-02-29"},
		{"weekly, every two weeks", domain.Schedule{Interval: domain.IntervalWeekly, IntervalCount: 2, StartDate: d("2026-11-02")}, "2026-11-01", "2026-12-31",
			"2026-11-02 2026-11-16 2026-11-30 2026-12-14 2026-12-28"},
		{"a number of invoices", domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, StartDate: d("2026-01-31"), Count: 3}, "2026-01-01", "2027-01-01",
			"2026-01-31 2026-02-28 2026-03-31"},
		{"an end date: the last period starts on or before it", domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, StartDate: d("2026-01-31"), EndDate: d("2026-04-30")},
			"2026-01-01", "2027-01-01", "2026-01-31 2026-02-28 2026-03-31 2026-04-30"},
		{"issued five days before the period starts", domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, StartDate: d("2026-03-01"), IssueDaysBefore: 5},
			"2026-01-01", "2026-04-30", "2026-02-24 2026-03-27 2026-04-26"},
		{"nothing before the start", monthly31, "2025-01-01", "2026-01-30", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := issueDays(domain.Periods(tt.s, d(tt.from), d(tt.to))); got != tt.want {
				t.Errorf("issue days %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPeriodDatesAndName(t *testing.T) {
	s := domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, StartDate: d("2026-01-31")}
	ps := domain.Periods(s, d("2026-01-01"), d("2026-03-31"))
	want := []domain.BillingPeriod{
		{Index: 0, From: d("2026-01-31"), To: d("2026-02-27"), IssueOn: d("2026-01-31")},
		{Index: 1, From: d("2026-02-28"), To: d("2026-03-30"), IssueOn: d("2026-02-28")},
		{Index: 2, From: d("2026-03-31"), To: d("2026-04-29"), IssueOn: d("2026-03-31")},
	}
	if len(ps) != len(want) {
		t.Fatalf("periods %+v", ps)
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("period %d = %+v, want %+v", i, ps[i], want[i])
		}
	}
	r := domain.RecurringInvoice{Schedule: s, Memo: "Retainer for {period}",
		Lines: []domain.LineInput{{Description: "Retainer, {period}", UnitAmount: 150000}}}
	nov := s.Period(10)
	if got := r.InvoiceLines(nov)[0].Description; got != "Retainer, November 2026" {
		t.Errorf("line %q", got)
	}
	if got := r.InvoiceMemo(nov); got != "Period 11: 2026-11-30 to 2026-12-30.\nRetainer for November 2026" {
		t.Errorf("memo %q", got)
	}
	weekly := domain.Schedule{Interval: domain.IntervalWeekly, IntervalCount: 1, StartDate: d("2026-11-02")}
	if got := weekly.PeriodName(weekly.Period(0)); got != "2 November 2026 to 8 November 2026" {
		t.Errorf("weekly name %q", got)
	}
	yearly := domain.Schedule{Interval: domain.IntervalYearly, IntervalCount: 1, StartDate: d("2027-01-01")}
	if got := yearly.PeriodName(yearly.Period(0)); got != "2027" {
		t.Errorf("yearly name %q", got)
	}
	if next := domain.NextPeriods(s, 1, d("2026-05-20"), 2); issueDays(next) != "2026-05-31 2026-06-30" {
		t.Errorf("next periods %s", issueDays(next))
	}
}

func TestRecurringInputValidate(t *testing.T) {
	ok := domain.RecurringInput{ClientID: "cli_1", Lines: []domain.LineInput{{Description: "Retainer, {period}", UnitAmount: 100}},
		Schedule: domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, StartDate: d("2026-01-31")}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		field  string
		change func(*domain.RecurringInput)
	}{
		{"client_id", func(in *domain.RecurringInput) { in.ClientID = "" }},
		{"lines", func(in *domain.RecurringInput) { in.Lines = nil }},
		{"lines[0].unit_amount", func(in *domain.RecurringInput) { in.Lines[0].UnitAmount = 0 }},
		{"interval", func(in *domain.RecurringInput) { in.Schedule.Interval = "daily" }},
		{"interval_count", func(in *domain.RecurringInput) { in.Schedule.IntervalCount = 0 }},
		{"anchor_day", func(in *domain.RecurringInput) { in.Schedule.AnchorDay = 32 }},
		{"anchor_day", func(in *domain.RecurringInput) {
			in.Schedule.Interval, in.Schedule.AnchorDay = domain.IntervalWeekly, 3
		}},
		{"start_date", func(in *domain.RecurringInput) { in.Schedule.StartDate = domain.Date{} }},
		{"end_date", func(in *domain.RecurringInput) { in.Schedule.EndDate = d("2025-12-31") }},
		{"end_date", func(in *domain.RecurringInput) { in.Schedule.EndDate, in.Schedule.Count = d("2026-12-31"), 3 }},
		{"count", func(in *domain.RecurringInput) { in.Schedule.Count = -1 }},
		{"issue_days_before", func(in *domain.RecurringInput) { in.Schedule.IssueDaysBefore = 61 }},
	}
	for _, tt := range tests {
		in := ok
		in.Lines = append([]domain.LineInput(nil), ok.Lines...)
		tt.change(&in)
		err := in.Validate()
		var de *domain.Error
		if !errors.As(err, &de) || de.Fields[tt.field] == "" {
			t.Errorf("%s: got %v, want a field error", tt.field, err)
		}
	}
}

func TestRecurringNextCountsInvoicesNotPeriods(t *testing.T) {
	r := domain.RecurringInvoice{Schedule: domain.Schedule{Interval: domain.IntervalMonthly, IntervalCount: 1, StartDate: d("2026-01-31"), Count: 3},
		LastPeriod: 0, InvoicesIssued: 1, IssueFrom: d("2026-04-15")} // January issued; paused over February and March
	if got := issueDays(r.Next(12)); got != "2026-04-30 2026-05-31" {
		t.Errorf("next %s, want the two invoices left from 30 April", got)
	}
	r.LastPeriod, r.InvoicesIssued = 4, 3
	if got := r.Next(1); len(got) != 0 {
		t.Errorf("after the third invoice: %v", got)
	}
}
