package domain_test

import (
	"reflect"
	"testing"

	"github.com/remit/remit/domain"
)

func TestParseTargetRates(t *testing.T) {
	good := map[string]map[string]int64{
		"":                     {},
		"0":                    {},
		"9000":                 {"*": 9000},
		"EUR:9000, GBP:8000":   {"EUR": 9000, "GBP": 8000},
		"7000,EUR:9000,JPY:0":  {"*": 7000, "EUR": 9000},
		"EUR:1000000000000000": {"EUR": 1_000_000_000_000_000},
	}
	for in, want := range good {
		got, err := domain.ParseTargetRates(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"90.5", "-1", "eur:9000", "EUR:x", "EUR:1,EUR:2", "9000,8000"} {
		if _, err := domain.ParseTargetRates(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	th := domain.Thresholds{TargetHourlyRates: map[string]int64{"*": 7000, "EUR": 9000}}
	if th.TargetFor("EUR") != 9000 || th.TargetFor("USD") != 7000 || (domain.Thresholds{}).TargetFor("EUR") != 0 {
		t.Error("TargetFor")
	}
}

func TestPeriodWithDefaults(t *testing.T) {
	today := domain.NewDate(2026, 3, 1)
	p, err := domain.Period{}.WithDefaults(today)
	if err != nil || p.From != domain.NewDate(2025, 3, 2) || p.To != today {
		t.Fatalf("default %v %v", p, err)
	}
	p, err = domain.Period{To: domain.NewDate(2024, 2, 29)}.WithDefaults(today)
	if err != nil || p.From != domain.NewDate(2023, 3, 2) {
		t.Fatalf("leap day %v %v", p, err)
	}
	if _, err := (domain.Period{From: today, To: today.AddDays(-1)}).WithDefaults(today); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("reversed: %v", err)
	}
	if _, err := (domain.Period{From: domain.NewDate(2000, 1, 1)}).WithDefaults(today); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("26 years: %v", err)
	}
}

func TestValidateTimeEntries(t *testing.T) {
	latest := domain.NewDate(2026, 3, 2)
	ok := domain.TimeEntryInput{ClientID: "cli_1", Date: domain.NewDate(2026, 3, 2), Minutes: 1440}
	if err := domain.ValidateTimeEntries([]domain.TimeEntryInput{ok}, false, latest); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in    domain.TimeEntryInput
		field string
	}{
		{domain.TimeEntryInput{Date: ok.Date, Minutes: 1}, "client_id"},
		{domain.TimeEntryInput{ClientID: "cli_1", Date: ok.Date, Minutes: 0}, "minutes"},
		{domain.TimeEntryInput{ClientID: "cli_1", Date: ok.Date, Minutes: 1441}, "minutes"},
		{domain.TimeEntryInput{ClientID: "cli_1", Minutes: 60}, "date"},
		{domain.TimeEntryInput{ClientID: "cli_1", Date: latest.AddDays(1), Minutes: 60}, "date"},
		{domain.TimeEntryInput{ClientID: "cli_1", Date: domain.NewDate(1999, 12, 31), Minutes: 60}, "date"},
		{domain.TimeEntryInput{ClientID: "cli_1", Date: ok.Date, Minutes: 60, Description: "\xff"}, "description"},
	}
	for _, c := range cases {
		err := domain.ValidateTimeEntries([]domain.TimeEntryInput{ok, c.in}, true, latest)
		if e, isErr := err.(*domain.Error); !isErr || len(e.Fields) != 1 || e.Fields["entries[1]."+c.field] == "" {
			t.Errorf("%+v: %v, want entries[1].%s", c.in, err, c.field)
		}
	}
	dup := ok
	dup.ExternalID = "x"
	if err := domain.ValidateTimeEntries([]domain.TimeEntryInput{dup, dup}, true, latest); err == nil || err.(*domain.Error).Fields["entries[1].external_id"] != "repeats entries[0].external_id" {
		t.Errorf("duplicate external_id: %v", err)
	}
	if err := domain.ValidateTimeEntries(nil, true, latest); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("empty: %v", err)
	}
}

func TestAPIKeyScopes(t *testing.T) {
	k := func(scopes ...string) *domain.APIKey { return &domain.APIKey{Scopes: scopes} }
	for _, c := range []struct {
		key   *domain.APIKey
		scope string
		want  bool
	}{
		{k("time_entries"), "time_entries", true},
		{k("time_entries"), "read", false},
		{k("time_entries"), "write", false},
		{k("write"), "time_entries", true},
		{k("admin"), "time_entries", true},
		{k("read"), "time_entries", false},
	} {
		if got := c.key.Allows(c.scope); got != c.want {
			t.Errorf("%v allows %s: %v", c.key.Scopes, c.scope, got)
		}
	}
}

// TestAssessHealth checks the rules on facts alone: rounding of figures,
// flags at their thresholds, thresholds at 0 turning flags off, and shares
// computed per currency.
func TestAssessHealth(t *testing.T) {
	p := domain.Period{From: domain.NewDate(2026, 1, 1), To: domain.NewDate(2026, 3, 31)}
	today := domain.NewDate(2026, 3, 31)
	facts := []domain.ClientFacts{
		// 2 of 3 invoices late (66.67 %): one paid 4 days late, one overdue.
		{ClientID: "cli_a", Currency: "EUR", Relationship: "standard", Status: "active", Received: 30000, Minutes: 200,
			InvoicesDue: 3, PaidOnTime: 1, PaidLate: 1, Overdue: 1, DaysLateSum: 4, DaysLateMax: 4,
			OpenBalance: 5000, OldestOverdueDue: domain.NewDate(2026, 3, 1)},
		// The same hours and revenue in another currency: shares of its own.
		{ClientID: "cli_b", Currency: "USD", Relationship: "friends_family", Status: "suspended", Received: 1, Minutes: 100,
			OpenBalance: 1, Waivers: 3, WaivedAmount: 900},
		{ClientID: "cli_c", Currency: "EUR", Relationship: "standard", Status: "active", Received: 60000, Minutes: 100,
			InvoicesDue: 3, PaidOnTime: 2, PaidLate: 1, DaysLateSum: 3, DaysLateMax: 3},
	}
	th := domain.Thresholds{TargetHourlyRates: map[string]int64{"EUR": 9000}, LateShare: 33, HoursShareCap: 50, Exceptions: 3}
	got := domain.AssessHealth(facts, th, p, today)
	codes := func(h domain.ClientHealth) []string {
		out := []string{}
		for _, f := range h.Flags {
			out = append(out, f.Code+" "+f.Figure+"/"+f.Threshold)
		}
		return out
	}
	// b has three flags, a two, c one.
	b, a, c := got[0], got[1], got[2]
	if a.ClientID != "cli_a" || b.ClientID != "cli_b" || c.ClientID != "cli_c" {
		t.Fatalf("order %s %s %s", a.ClientID, b.ClientID, c.ClientID)
	}
	// a: 300.00 over 3h20 = 90.00 an hour exactly: not under the 90.00 target.
	if *a.EffectiveHourlyRate != 9000 || a.Hours != "3.33" || *a.HoursShare != "66.67" || *a.RevenueShare != "33.33" ||
		*a.OnTimeRate != "33.33" || *a.LateShare != "66.67" || *a.AverageDaysLate != "4" || a.OldestOverdueDays != 30 {
		t.Errorf("a %+v", a)
	}
	if want := []string{"late_payer 66.67/33", "hours_share_over_revenue_share 66.67/33.33"}; !reflect.DeepEqual(codes(a), want) {
		t.Errorf("a flags %v, want %v", codes(a), want)
	}
	// b: no target in USD; all the USD hours and revenue.
	if b.EffectiveHourlyRate == nil || *b.EffectiveHourlyRate != 1 || b.TargetHourlyRate != nil || *b.HoursShare != "100" || *b.RevenueShare != "100" || b.OnTimeRate != nil {
		t.Errorf("b %+v", b)
	}
	if want := []string{"frequent_exceptions 3/3", "friends_family_balance 1/0", "suspended_in_period 1/0"}; !reflect.DeepEqual(codes(b), want) {
		t.Errorf("b flags %v, want %v", codes(b), want)
	}
	// c: 1 of 3 late is 33.33 %, at least the 33 % threshold.
	if want := []string{"late_payer 33.33/33"}; !reflect.DeepEqual(codes(c), want) {
		t.Errorf("c flags %v, want %v", codes(c), want)
	}

	// Thresholds at 0 raise nothing but the flags that have no threshold.
	off := domain.AssessHealth(facts, domain.Thresholds{}, p, today)
	for _, h := range off {
		for _, f := range h.Flags {
			switch f.Code {
			case domain.FlagHoursOverRevenue, domain.FlagFriendsFamilyBalance, domain.FlagSuspended:
			default:
				t.Errorf("%s raised %s with thresholds off", h.ClientID, f.Code)
			}
		}
	}

	// Under the target with more than the cap of hours.
	th.TargetHourlyRates["EUR"] = 9001
	got = domain.AssessHealth(facts, th, p, today)
	if want := []string{"late_payer 66.67/33", "below_target_rate 9000/9001", "hours_share_over_revenue_share 66.67/33.33", "hours_share_over_cap 66.67/50"}; !reflect.DeepEqual(codes(got[0]), want) {
		t.Errorf("under target: %v, want %v", codes(got[0]), want)
	}

	// A client with no hours, no invoices and no money has null figures.
	empty := domain.AssessHealth([]domain.ClientFacts{{ClientID: "cli_z", Currency: "EUR"}}, th, p, today)[0]
	if empty.EffectiveHourlyRate != nil || empty.HoursShare != nil || empty.RevenueShare != nil || empty.OnTimeRate != nil ||
		empty.Hours != "0" || len(empty.Flags) != 0 || empty.Rank != 1 {
		t.Errorf("empty %+v", empty)
	}

	// Refunds larger than payments, and figures past 64 bits.
	odd := domain.AssessHealth([]domain.ClientFacts{
		{ClientID: "cli_neg", Currency: "EUR", Received: -500, Minutes: 7},
		{ClientID: "cli_big", Currency: "EUR", Received: 900_000_000_000_000_000, Minutes: 1},
	}, domain.Thresholds{}, p, today)
	neg, big := odd[0], odd[1]
	if neg.ClientID != "cli_neg" || *neg.EffectiveHourlyRate != -4286 || *neg.RevenueShare != "0" || neg.Hours != "0.12" {
		t.Errorf("negative %+v %s", neg, *neg.RevenueShare)
	}
	if *big.EffectiveHourlyRate != domain.MaxAmount || *big.RevenueShare != "100" || *big.HoursShare != "12.5" {
		t.Errorf("large %+v", big)
	}
}
