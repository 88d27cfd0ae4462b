package domain_test

import (
	"errors"
	"testing"

	"github.com/remit/remit/domain"
)

func TestAnnualRateOn(t *testing.T) {
	rates := domain.RateTable{
		domain.SeriesECBMRO: {
			{EffectiveFrom: d("2026-06-15"), Rate: "2.00"},
			{EffectiveFrom: d("2025-06-11"), Rate: "2.15"},
			{EffectiveFrom: d("2026-07-02"), Rate: "1.75"},
		},
		domain.SeriesBOEBase: {
			{EffectiveFrom: d("2025-08-07"), Rate: "4.00"},
			{EffectiveFrom: d("2026-06-30"), Rate: "3.75"}, // in force on 30 June: fixes H2
			{EffectiveFrom: d("2026-01-01"), Rate: "3.50"}, // after 31 Dec: not for H1
		},
		domain.SeriesCBRKey: {
			{EffectiveFrom: d("2025-10-27"), Rate: "16.5"},
			{EffectiveFrom: d("2026-02-14"), Rate: "16.0"},
		},
	}
	eu := domain.InterestTerms{Preset: domain.PresetEULatePayment}
	uk := domain.InterestTerms{Preset: domain.PresetUKLatePayment}
	ru := domain.InterestTerms{Preset: domain.PresetRUCivilCode395}
	tests := []struct {
		name string
		it   domain.InterestTerms
		on   string
		want string
	}{
		{"EU January takes 1 January", eu, "2026-01-15", "10.15"},
		{"EU June ignores a mid-June change", eu, "2026-06-30", "10.15"},
		{"EU July takes 1 July", eu, "2026-07-01", "10"},
		{"EU December ignores a 2 July change", eu, "2026-12-31", "10"},
		{"UK H1 takes 31 December of the year before", uk, "2026-03-01", "12"},
		{"UK H2 takes 30 June", uk, "2026-07-01", "11.75"},
		{"RU day before a change", ru, "2026-02-13", "16.5"},
		{"RU day of a change", ru, "2026-02-14", "16"},
		{"agreed annual rate", domain.InterestTerms{AnnualRate: "12.5"}, "2026-02-14", "12.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.AnnualRateOn(tt.it, rates, d(tt.on))
			if err != nil || domain.FormatRate(got) != tt.want {
				t.Errorf("AnnualRateOn = %v, %v; want %s", domain.FormatRate(got), err, tt.want)
			}
		})
	}
}

func TestAnnualRateOnMissing(t *testing.T) {
	rates := domain.RateTable{domain.SeriesBOEBase: {{EffectiveFrom: d("2026-01-01"), Rate: "4"}}}
	_, err := domain.AnnualRateOn(domain.InterestTerms{Preset: domain.PresetUKLatePayment}, rates, d("2026-02-01"))
	var missing *domain.MissingRateError
	if !errors.As(err, &missing) || missing.Series != domain.SeriesBOEBase || missing.On != d("2025-12-31") {
		t.Fatalf("err = %v, want BOE_BASE missing on 2025-12-31", err)
	}
	if err.Error() != "reference rate BOE_BASE in force on 2025-12-31 is not loaded" {
		t.Errorf("message = %q", err.Error())
	}
	if _, err := domain.AnnualRateOn(domain.InterestTerms{Preset: domain.PresetRUCivilCode395}, nil, d("2026-02-01")); !errors.As(err, &missing) || missing.Series != "CBR_KEY" {
		t.Errorf("empty table err = %v", err)
	}
	if _, err := domain.AnnualRateOn(domain.InterestTerms{DailyRate: "0.1"}, nil, d("2026-02-01")); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("daily rate err = %v", err)
	}
	bad := domain.RateTable{domain.SeriesCBRKey: {{EffectiveFrom: d("2026-01-01"), Rate: "lots"}}}
	if _, err := domain.AnnualRateOn(domain.InterestTerms{Preset: domain.PresetRUCivilCode395}, bad, d("2026-02-01")); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("bad rate err = %v", err)
	}
}

func TestNegativeReferenceRate(t *testing.T) {
	rates := domain.RateTable{domain.SeriesECBMRO: {{EffectiveFrom: d("2019-09-18"), Rate: "-0.5"}}}
	got, err := domain.AnnualRateOn(domain.InterestTerms{Preset: domain.PresetEULatePayment}, rates, d("2020-03-01"))
	if err != nil || domain.FormatRate(got) != "7.5" {
		t.Errorf("AnnualRateOn = %v, %v; want 7.5", domain.FormatRate(got), err)
	}
}

func TestPresetCompensation(t *testing.T) {
	tests := []struct {
		preset, currency string
		principal        int64
		want             int64
	}{
		{domain.PresetEULatePayment, "EUR", 1, 4000},
		{domain.PresetEULatePayment, "EUR", 100000000, 4000},
		{domain.PresetEULatePayment, "USD", 100000, 0},
		{domain.PresetUKLatePayment, "GBP", 99999, 4000},    // 999.99
		{domain.PresetUKLatePayment, "GBP", 100000, 7000},   // 1,000.00
		{domain.PresetUKLatePayment, "GBP", 250000, 7000},   // example 5
		{domain.PresetUKLatePayment, "GBP", 999999, 7000},   // 9,999.99
		{domain.PresetUKLatePayment, "GBP", 1000000, 10000}, // 10,000.00
		{domain.PresetUKLatePayment, "EUR", 1000000, 0},
		{domain.PresetRUCivilCode395, "RUB", 10000000, 0},
		{"", "EUR", 100000, 0},
	}
	for _, tt := range tests {
		if got := domain.PresetCompensation(tt.preset, tt.currency, tt.principal); got != tt.want {
			t.Errorf("PresetCompensation(%s, %s, %d) = %d, want %d", tt.preset, tt.currency, tt.principal, got, tt.want)
		}
	}
}

func TestPresetFacts(t *testing.T) {
	if got := domain.PresetLegalBasis(domain.PresetEULatePayment); got[:len("Directive 2011/7/EU: ECB main refinancing rate + 8 percentage points, ")] != "Directive 2011/7/EU: ECB main refinancing rate + 8 percentage points, " {
		t.Errorf("EU basis = %q", got)
	}
	if domain.PresetLegalBasis("nope") != "" || domain.PresetCurrency(domain.PresetRUCivilCode395) != "RUB" || domain.PresetSeries(domain.PresetUKLatePayment) != "BOE_BASE" {
		t.Error("preset facts")
	}
	if !domain.ValidSeries("ECB_MRO") || domain.ValidSeries("ecb_mro") {
		t.Error("ValidSeries")
	}
}

func TestRateOn(t *testing.T) {
	rates := domain.RateTable{domain.SeriesCBRKey: {
		{EffectiveFrom: d("2026-02-14"), Rate: "16.0"},
		{EffectiveFrom: d("2025-10-27"), Rate: "16.5"},
		{EffectiveFrom: d("2026-02-14"), Rate: "15.5"}, // a correction listed later wins
	}}
	tests := []struct {
		on   string
		want string
	}{{"2025-10-27", "16.5"}, {"2026-02-13", "16.5"}, {"2026-02-14", "15.5"}, {"2030-01-01", "15.5"}}
	for _, tt := range tests {
		got, err := rates.RateOn(domain.SeriesCBRKey, d(tt.on))
		if err != nil || domain.FormatRate(got) != tt.want {
			t.Errorf("RateOn(%s) = %s, %v; want %s", tt.on, domain.FormatRate(got), err, tt.want)
		}
	}
	var missing *domain.MissingRateError
	if _, err := rates.RateOn(domain.SeriesCBRKey, d("2025-10-26")); !errors.As(err, &missing) || missing.On != d("2025-10-26") {
		t.Errorf("before the first point: %v", err)
	}
}
