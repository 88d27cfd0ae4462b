package domain_test

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/remit/remit/domain"
)

func TestParseTermsAndDueDate(t *testing.T) {
	tests := []struct {
		terms string
		days  int
		due   string
	}{
		{"due_on_receipt", 0, "2026-01-01"},
		{"net_0", 0, "2026-01-01"},
		{"net_15", 15, "2026-01-16"},
		{"net_30", 30, "2026-01-31"},
		{"net_45", 45, "2026-02-15"},
		{"net_120", 120, "2026-05-01"},
	}
	for _, tt := range tests {
		days, err := domain.ParseTerms(tt.terms)
		if err != nil || days != tt.days {
			t.Errorf("ParseTerms(%q) = %d, %v", tt.terms, days, err)
		}
		due, err := domain.DueDate(tt.terms, d("2026-01-01"))
		if err != nil || due.String() != tt.due {
			t.Errorf("DueDate(%q) = %s, %v; want %s", tt.terms, due, err, tt.due)
		}
	}
	for _, bad := range []string{"", "net_121", "net_-1", "net_", "net_030", "net_1e2", "NET_30", "net30", "net_ 30", "due on receipt"} {
		if _, err := domain.ParseTerms(bad); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("ParseTerms(%q) err = %v, want invalid", bad, err)
		}
	}
	if _, err := domain.DueDate("net_30", domain.Date{}); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("DueDate without issue date err = %v", err)
	}
}

func TestDefaultAgreement(t *testing.T) {
	a := domain.DefaultAgreement()
	if a.PaymentTerms != "net_30" || a.GraceDays != 0 || a.LateFee != nil || a.Interest != nil || a.FixedCompensation != 0 ||
		!slices.Equal(a.ReminderOffsets, []int{-3, 0, 7, 14, 30}) || a.Allocation != "charges_first" {
		t.Errorf("DefaultAgreement = %+v", a)
	}
	if err := a.Validate("EUR"); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestWithDefaults(t *testing.T) {
	a := domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "8"}}.WithDefaults()
	if a.Allocation != "charges_first" || a.PaymentTerms != "net_30" || a.Interest.DayCount != "act/365" || len(a.ReminderOffsets) != 5 {
		t.Errorf("WithDefaults = %+v %+v", a, a.Interest)
	}
	ru := domain.Agreement{Interest: &domain.InterestTerms{Preset: domain.PresetRUCivilCode395}}
	if got := ru.WithDefaults().Interest.DayCount; got != "act/act" || ru.Interest.DayCount != "" {
		t.Errorf("ru day count = %q (original changed: %q)", got, ru.Interest.DayCount)
	}
	daily := domain.Agreement{Interest: &domain.InterestTerms{DailyRate: "0.1"}}.WithDefaults()
	if daily.Interest.DayCount != "" {
		t.Errorf("daily rate got day count %q", daily.Interest.DayCount)
	}
	none := domain.Agreement{ReminderOffsets: []int{}}.WithDefaults()
	if none.ReminderOffsets == nil || len(none.ReminderOffsets) != 0 {
		t.Errorf("an explicit empty reminder list was replaced: %v", none.ReminderOffsets)
	}
}

func TestAgreementValidate(t *testing.T) {
	tests := []struct {
		name     string
		a        domain.Agreement
		currency string
		fields   []string // fields named in the error; nil = valid
		contains string   // a message that must appear
	}{
		{name: "full custom agreement", currency: "USD", a: domain.Agreement{
			PaymentTerms: "net_45", GraceDays: 5,
			LateFee:           &domain.LateFee{Flat: 2500, Percent: "1.5", RepeatEveryDays: 30, MaxCount: 3, MaxTotal: 10000},
			Interest:          &domain.InterestTerms{AnnualRate: "12", DayCount: "act/360", Compound: true},
			FixedCompensation: 4000, ReminderOffsets: []int{-7, 0, 30}, Suspension: &domain.Suspension{AfterDays: 45, WarningDays: 7},
			Allocation: "principal_first", Milestones: &domain.MilestoneRules{GateNextOnPayment: true, ClientDelayDays: 14},
		}},
		{name: "presets fit their currency", currency: "EUR", a: domain.Agreement{Interest: &domain.InterestTerms{Preset: "eu_late_payment"}}},
		{name: "uk preset", currency: "GBP", a: domain.Agreement{Interest: &domain.InterestTerms{Preset: "uk_late_payment", DayCount: "act/365"}}},
		{name: "ru preset", currency: "RUB", a: domain.Agreement{Interest: &domain.InterestTerms{Preset: "ru_civil_code_395"}, FixedCompensation: 500}},
		{name: "daily rate", currency: "EUR", a: domain.Agreement{Interest: &domain.InterestTerms{DailyRate: "0.05"}}},
		{name: "eu preset for a USD client", currency: "USD",
			a:      domain.Agreement{Interest: &domain.InterestTerms{Preset: "eu_late_payment"}},
			fields: []string{"interest.preset"}, contains: "eu_late_payment applies to debts in EUR (Directive 2011/7/EU); this client is billed in USD"},
		{name: "uk preset for a EUR client", currency: "EUR",
			a:      domain.Agreement{Interest: &domain.InterestTerms{Preset: "uk_late_payment"}},
			fields: []string{"interest.preset"}, contains: "GBP"},
		{name: "bad terms and days", currency: "EUR",
			a:      domain.Agreement{PaymentTerms: "net_365", GraceDays: -1, FixedCompensation: -5},
			fields: []string{"payment_terms", "grace_days", "fixed_compensation"}},
		{name: "upper bounds", currency: "EUR",
			a:        domain.Agreement{GraceDays: 400, Suspension: &domain.Suspension{AfterDays: 5000}, LateFee: &domain.LateFee{Flat: 1, MaxCount: 1001}},
			fields:   []string{"grace_days", "suspension.after_days", "late_fee.max_count"},
			contains: "grace_days: must be between 0 and 365"},
		{name: "late fee problems", currency: "EUR",
			a:      domain.Agreement{LateFee: &domain.LateFee{Flat: -1, Percent: "150", RepeatEveryDays: -3, MaxCount: -1, MaxTotal: -1}},
			fields: []string{"late_fee.flat", "late_fee.percent", "late_fee.repeat_every_days", "late_fee.max_count", "late_fee.max_total"}},
		{name: "late fee with nothing", currency: "EUR", a: domain.Agreement{LateFee: &domain.LateFee{Percent: "0"}}, fields: []string{"late_fee"}},
		{name: "late fee percent malformed", currency: "EUR", a: domain.Agreement{LateFee: &domain.LateFee{Flat: 100, Percent: "1,5"}}, fields: []string{"late_fee.percent"}},
		{name: "preset with a rate", currency: "EUR",
			a:      domain.Agreement{Interest: &domain.InterestTerms{Preset: "eu_late_payment", AnnualRate: "12"}},
			fields: []string{"interest.preset"}},
		{name: "annual and daily", currency: "EUR",
			a:      domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "12", DailyRate: "0.1"}},
			fields: []string{"interest.daily_rate"}},
		{name: "no rate at all", currency: "EUR", a: domain.Agreement{Interest: &domain.InterestTerms{DayCount: "act/365"}}, fields: []string{"interest"}},
		{name: "rates out of bounds", currency: "EUR",
			a:      domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "1000.01", DayCount: "30/360"}},
			fields: []string{"interest.annual_rate", "interest.day_count"}},
		{name: "zero and negative rates", currency: "EUR",
			a:      domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "-2"}},
			fields: []string{"interest.annual_rate"}, contains: "must not be negative"},
		{name: "zero rate", currency: "EUR", a: domain.Agreement{Interest: &domain.InterestTerms{AnnualRate: "0"}}, fields: []string{"interest.annual_rate"}},
		{name: "daily rate with a day count", currency: "EUR",
			a:      domain.Agreement{Interest: &domain.InterestTerms{DailyRate: "0.1", DayCount: "act/360"}},
			fields: []string{"interest.day_count"}},
		{name: "ru preset with act/365", currency: "RUB",
			a:      domain.Agreement{Interest: &domain.InterestTerms{Preset: "ru_civil_code_395", DayCount: "act/365"}},
			fields: []string{"interest.day_count"}},
		{name: "statutory interest is simple", currency: "EUR",
			a:      domain.Agreement{Interest: &domain.InterestTerms{Preset: "eu_late_payment", Compound: true}},
			fields: []string{"interest.compound"}},
		{name: "unknown preset", currency: "EUR", a: domain.Agreement{Interest: &domain.InterestTerms{Preset: "us_prompt_pay"}}, fields: []string{"interest.preset"}},
		{name: "preset compensation and a fixed one", currency: "EUR",
			a:      domain.Agreement{Interest: &domain.InterestTerms{Preset: "eu_late_payment"}, FixedCompensation: 4000},
			fields: []string{"fixed_compensation"}},
		{name: "reminders", currency: "EUR", a: domain.Agreement{ReminderOffsets: []int{-91, 0, 7, 7, 366}},
			fields: []string{"reminder_offsets[0]", "reminder_offsets[3]", "reminder_offsets[4]"}},
		{name: "suspension and milestones", currency: "EUR",
			a:      domain.Agreement{Suspension: &domain.Suspension{AfterDays: 10, WarningDays: 10}, Milestones: &domain.MilestoneRules{ClientDelayDays: -1}, Allocation: "fifo"},
			fields: []string{"suspension.warning_days", "milestones.client_delay_days", "allocation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.a.Validate(tt.currency)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var e *domain.Error
			if !errors.As(err, &e) || e.Code != domain.EINVALID {
				t.Fatalf("Validate = %v, want invalid", err)
			}
			got := slices.Sorted(maps.Keys(e.Fields))
			want := slices.Sorted(slices.Values(tt.fields))
			if !slices.Equal(got, want) {
				t.Errorf("fields = %v, want %v (%v)", got, want, e.Fields)
			}
			if tt.contains != "" && !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("message %q does not say %q", err.Error(), tt.contains)
			}
		})
	}
}

func TestRaisesBurden(t *testing.T) {
	fee := func(lf domain.LateFee) domain.Agreement { return domain.Agreement{LateFee: &lf} }
	rate := func(it domain.InterestTerms) domain.Agreement { return domain.Agreement{Interest: &it} }
	susp := func(after int) domain.Agreement {
		return domain.Agreement{Suspension: &domain.Suspension{AfterDays: after}}
	}
	base := domain.LateFee{Flat: 2500, Percent: "1.5", RepeatEveryDays: 30, MaxCount: 3, MaxTotal: 10000}
	tests := []struct {
		name       string
		prev, next domain.Agreement
		want       bool
	}{
		{"same", fee(base), fee(base), false},
		{"nothing to nothing", domain.DefaultAgreement(), domain.Agreement{PaymentTerms: "net_15"}, false},
		{"fee added", domain.Agreement{}, fee(base), true},
		{"fee removed", fee(base), domain.Agreement{}, false},
		{"flat raised", fee(base), fee(domain.LateFee{Flat: 3000, Percent: "1.5", RepeatEveryDays: 30, MaxCount: 3, MaxTotal: 10000}), true},
		{"flat lowered", fee(base), fee(domain.LateFee{Flat: 2000, Percent: "1.5", RepeatEveryDays: 30, MaxCount: 3, MaxTotal: 10000}), false},
		{"percent raised", fee(base), fee(domain.LateFee{Flat: 2500, Percent: "1.75", RepeatEveryDays: 30, MaxCount: 3, MaxTotal: 10000}), true},
		{"same percent written longer", fee(base), fee(domain.LateFee{Flat: 2500, Percent: "1.50", RepeatEveryDays: 30, MaxCount: 3, MaxTotal: 10000}), false},
		{"repeats more often", fee(base), fee(domain.LateFee{Flat: 2500, Percent: "1.5", RepeatEveryDays: 14, MaxCount: 3, MaxTotal: 10000}), true},
		{"starts repeating", fee(domain.LateFee{Flat: 2500}), fee(domain.LateFee{Flat: 2500, RepeatEveryDays: 30}), true},
		{"more fees", fee(base), fee(domain.LateFee{Flat: 2500, Percent: "1.5", RepeatEveryDays: 30, MaxCount: 4, MaxTotal: 10000}), true},
		{"count cap removed", fee(base), fee(domain.LateFee{Flat: 2500, Percent: "1.5", RepeatEveryDays: 30, MaxTotal: 10000}), true},
		{"total cap raised", fee(base), fee(domain.LateFee{Flat: 2500, Percent: "1.5", RepeatEveryDays: 30, MaxCount: 3, MaxTotal: 20000}), true},
		{"total cap lowered", fee(base), fee(domain.LateFee{Flat: 2500, Percent: "1.5", RepeatEveryDays: 30, MaxCount: 3, MaxTotal: 5000}), false},
		{"interest added", domain.Agreement{}, rate(domain.InterestTerms{AnnualRate: "1"}), true},
		{"interest raised", rate(domain.InterestTerms{AnnualRate: "8"}), rate(domain.InterestTerms{AnnualRate: "8.5"}), true},
		{"interest lowered", rate(domain.InterestTerms{AnnualRate: "8"}), rate(domain.InterestTerms{AnnualRate: "7"}), false},
		{"act/365 to act/360", rate(domain.InterestTerms{AnnualRate: "8"}), rate(domain.InterestTerms{AnnualRate: "8", DayCount: "act/360"}), true},
		{"act/360 to act/act", rate(domain.InterestTerms{AnnualRate: "8", DayCount: "act/360"}), rate(domain.InterestTerms{AnnualRate: "8", DayCount: "act/act"}), false},
		{"preset changed", rate(domain.InterestTerms{AnnualRate: "8"}), rate(domain.InterestTerms{Preset: "eu_late_payment"}), true},
		{"preset kept", rate(domain.InterestTerms{Preset: "eu_late_payment"}), rate(domain.InterestTerms{Preset: "eu_late_payment"}), false},
		{"compound on", rate(domain.InterestTerms{AnnualRate: "8"}), rate(domain.InterestTerms{AnnualRate: "8", Compound: true}), true},
		{"compound off", rate(domain.InterestTerms{AnnualRate: "8", Compound: true}), rate(domain.InterestTerms{AnnualRate: "8"}), false},
		{"annual to daily", rate(domain.InterestTerms{AnnualRate: "8"}), rate(domain.InterestTerms{DailyRate: "0.01"}), true},
		{"daily lowered", rate(domain.InterestTerms{DailyRate: "0.02"}), rate(domain.InterestTerms{DailyRate: "0.01"}), false},
		{"compensation raised", domain.Agreement{FixedCompensation: 4000}, domain.Agreement{FixedCompensation: 5000}, true},
		{"suspension added", domain.Agreement{}, susp(60), true},
		{"suspension sooner", susp(60), susp(30), true},
		{"suspension later", susp(30), susp(60), false},
		{"suspension 0 means never", domain.Agreement{}, susp(0), false},
		{"suspension switched off", susp(30), susp(0), false},
	}
	for _, tt := range tests {
		if got := domain.RaisesBurden(tt.prev, tt.next); got != tt.want {
			t.Errorf("%s: RaisesBurden = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDescribeTerms(t *testing.T) {
	tests := []struct {
		name     string
		a        domain.Agreement
		currency string
		due      string
		want     []string
	}{
		{"example 1", domain.Agreement{PaymentTerms: "net_30", LateFee: &domain.LateFee{Flat: 2500, Percent: "1.5"}}, "EUR", "2026-01-31", []string{
			"Payment is due within 30 days of the issue date (by 31 January 2026).",
			"A late fee of 25.00 EUR plus 1.5 % applies from 1 February 2026.",
			"The percentage is of the principal outstanding when the fee is assessed.",
			"Payments are applied first to compensation, fees and interest, then to the principal.",
		}},
		{"interest, grace, repeats, suspension", domain.Agreement{
			PaymentTerms: "due_on_receipt", GraceDays: 5,
			LateFee:           &domain.LateFee{Flat: 1000, RepeatEveryDays: 14, MaxCount: 3, MaxTotal: 2500},
			Interest:          &domain.InterestTerms{AnnualRate: "12"},
			FixedCompensation: 4000,
			Suspension:        &domain.Suspension{AfterDays: 30, WarningDays: 7},
			Allocation:        "principal_first",
		}, "USD", "2026-01-01", []string{
			"Payment is due on receipt (by 1 January 2026).",
			"A grace period of 5 days applies after the due date.",
			"A late fee of 10.00 USD applies from 7 January 2026.",
			"It is charged again every 14 days while the principal remains unpaid, at most 3 times in all, never more than 25.00 USD in total.",
			"A fixed compensation of 40.00 USD is due from 7 January 2026.",
			"Interest at 12 % a year accrues daily on the overdue principal (act/365).",
			"Interest runs from 7 January 2026.",
			"Interest is charged on the first day of each month for the month before, and on the day the principal is paid in full.",
			"Service may be suspended when an invoice is 30 days overdue, after a warning 7 days before.",
			"Payments are applied first to the principal, then to compensation, fees and interest.",
		}},
		{"EU preset", domain.Agreement{PaymentTerms: "net_1", Interest: &domain.InterestTerms{Preset: "eu_late_payment"}}, "EUR", "2026-03-31", []string{
			"Payment is due within 1 day of the issue date (by 31 March 2026).",
			"A fixed compensation of 40.00 EUR for recovery costs is due from 1 April 2026 (Directive 2011/7/EU, art. 6).",
			"Statutory interest accrues daily on the overdue principal from 1 April 2026 under Directive 2011/7/EU: ECB main refinancing rate + 8 percentage points, " +
				"fixed for each half-year at the rate in force on 1 January and on 1 July (act/365).",
			"Interest is charged on the first day of each month for the month before, and on the day the principal is paid in full.",
			"Payments are applied first to compensation, fees and interest, then to the principal.",
		}},
		{"daily rate, compound, no due date yet", domain.Agreement{LateFee: &domain.LateFee{Percent: "2.50"},
			Interest: &domain.InterestTerms{DailyRate: "0.05", Compound: true}}, "EUR", "", []string{
			"Payment is due within 30 days of the issue date.",
			"A late fee of 2.5 % applies.",
			"The percentage is of the principal outstanding when the fee is assessed.",
			"Interest at 0.05 % a day accrues on the overdue principal.",
			"Interest charged and left unpaid is added to the base from the day after it is charged.",
			"Interest is charged on the first day of each month for the month before, and on the day the principal is paid in full.",
			"Payments are applied first to compensation, fees and interest, then to the principal.",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var due domain.Date
			if tt.due != "" {
				due = d(tt.due)
			}
			got := domain.DescribeTerms(tt.a, tt.currency, due)
			if !slices.Equal(got, tt.want) {
				t.Errorf("DescribeTerms\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	uk := domain.DescribeTerms(domain.Agreement{Interest: &domain.InterestTerms{Preset: "uk_late_payment"}}, "GBP", d("2026-02-28"))
	if !strings.Contains(uk[1], "40.00 GBP on a debt under 1,000.00 GBP, 70.00 GBP under 10,000.00 GBP, 100.00 GBP from 10,000.00 GBP") {
		t.Errorf("UK compensation sentence = %q", uk[1])
	}
}

func TestAgreementJSON(t *testing.T) {
	in := `{"id":"agr_1","client_id":"cli_1","version":2,"effective_from":"2026-03-01","payment_terms":"net_15","grace_days":3,
		"late_fee":{"flat":2500,"percent":"1.5","repeat_every_days":30,"max_count":3,"max_total":10000},
		"interest":{"annual_rate":"12","day_count":"act/360","compound":true},"fixed_compensation":4000,
		"reminder_offsets":[-3,0,7],"suspension":{"after_days":45,"warning_days":7},"allocation":"principal_first",
		"milestones":{"gate_next_on_payment":true,"client_delay_days":14},"created_at":"2026-02-01T10:00:00Z"}`
	dec := json.NewDecoder(strings.NewReader(in))
	dec.DisallowUnknownFields()
	var a domain.Agreement
	if err := dec.Decode(&a); err != nil {
		t.Fatal(err)
	}
	if a.EffectiveFrom != d("2026-03-01") || a.LateFee.MaxTotal != 10000 || a.Interest.DayCount != "act/360" ||
		a.Suspension.WarningDays != 7 || a.Milestones.ClientDelayDays != 14 || a.Version != 2 || a.CreatedAt.Day() != 1 {
		t.Errorf("decoded %+v", a)
	}
	out, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back domain.Agreement
	if err := json.Unmarshal(out, &back); err != nil || back.EffectiveFrom != a.EffectiveFrom || *back.Interest != *a.Interest {
		t.Errorf("round trip %s: %+v, %v", out, back, err)
	}
	if !strings.Contains(string(out), `"effective_from":"2026-03-01"`) || !strings.Contains(string(out), `"reminder_offsets":[-3,0,7]`) {
		t.Errorf("encoded %s", out)
	}
}
