package domain

import (
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Reference rate series an admin loads (docs/RULES.md section 8).
const (
	SeriesECBMRO  = "ECB_MRO"  // ECB main refinancing operations rate
	SeriesBOEBase = "BOE_BASE" // Bank of England base rate
	SeriesCBRKey  = "CBR_KEY"  // Bank of Russia key rate
)

// Statutory interest presets.
const (
	PresetEULatePayment  = "eu_late_payment"
	PresetUKLatePayment  = "uk_late_payment"
	PresetRUCivilCode395 = "ru_civil_code_395"
)

// ValidSeries reports whether name is a reference series Remit knows.
func ValidSeries(name string) bool {
	return name == SeriesECBMRO || name == SeriesBOEBase || name == SeriesCBRKey
}

// RatePoint is one row of a reference series: the rate, a decimal string of
// percent, in force from EffectiveFrom until the next point.
type RatePoint struct {
	EffectiveFrom Date   `json:"effective_from"`
	Rate          string `json:"rate"`
}

// RateTable holds reference series by name. Points may come in any order.
type RateTable map[string][]RatePoint

// MissingRateError says that a rule needed a reference rate that is not
// loaded: no point of Series takes effect on or before On.
type MissingRateError struct {
	Series string
	On     Date
}

// Error names the series and the date the rate was needed for.
func (e *MissingRateError) Error() string {
	return fmt.Sprintf("reference rate %s in force on %s is not loaded", e.Series, e.On)
}

// ParseReferenceRate parses a reference series rate: like ParseRate, but a
// leading minus is allowed because central bank rates have been negative.
func ParseReferenceRate(s string) (*big.Rat, error) {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		r, err := ParseRate(rest)
		if err != nil {
			return nil, err
		}
		return r.Neg(r), nil
	}
	return ParseRate(s)
}

// PointOn returns the point of series in force on d: the one with the
// latest EffectiveFrom on or before d (the last one listed when two share a
// date). It returns *MissingRateError when there is none.
func (t RateTable) PointOn(series string, d Date) (RatePoint, error) {
	var found *RatePoint
	points := t[series]
	for i := range points {
		p := &points[i]
		if p.EffectiveFrom.After(d) || p.EffectiveFrom.IsZero() {
			continue
		}
		if found == nil || !p.EffectiveFrom.Before(found.EffectiveFrom) {
			found = p
		}
	}
	if found == nil {
		return RatePoint{}, &MissingRateError{Series: series, On: d}
	}
	return *found, nil
}

// RateOn returns the rate of series in force on d, in percent (see
// PointOn). It returns *MissingRateError when none is loaded and an EINVALID
// error when the stored rate does not parse.
func (t RateTable) RateOn(series string, d Date) (*big.Rat, error) {
	p, err := t.PointOn(series, d)
	if err != nil {
		return nil, err
	}
	return parsePoint(series, p)
}

func parsePoint(series string, p RatePoint) (*big.Rat, error) {
	r, err := ParseReferenceRate(p.Rate)
	if err != nil {
		return nil, Errorf(EINVALID, "%s rate from %s: %s", series, p.EffectiveFrom, ErrorMessage(err))
	}
	return r, nil
}

// statutoryPreset describes a statutory interest preset.
type statutoryPreset struct {
	currency string // the currency the law applies to
	series   string // the reference series
	margin   int64  // percentage points added to the reference rate
	dayCount string
	law      string // the legal basis, for documents
	rule     string // how the rate is set, for documents
}

// presetFor returns the preset named name and whether it exists.
func presetFor(name string) (statutoryPreset, bool) {
	switch name {
	case PresetEULatePayment:
		return statutoryPreset{
			currency: "EUR", series: SeriesECBMRO, margin: 8, dayCount: DayCountAct365,
			law: "Directive 2011/7/EU",
			rule: "ECB main refinancing rate + 8 percentage points, " +
				"fixed for each half-year at the rate in force on 1 January and on 1 July",
		}, true
	case PresetUKLatePayment:
		return statutoryPreset{
			currency: "GBP", series: SeriesBOEBase, margin: 8, dayCount: DayCountAct365,
			law: "Late Payment of Commercial Debts (Interest) Act 1998",
			rule: "Bank of England base rate + 8 percentage points, " +
				"fixed for each half-year at the rate in force on 31 December and on 30 June",
		}, true
	case PresetRUCivilCode395:
		return statutoryPreset{
			currency: "RUB", series: SeriesCBRKey, margin: 0, dayCount: DayCountActAct,
			law:  "Civil Code of the Russian Federation, art. 395",
			rule: "Bank of Russia key rate in force on each day of the delay",
		}, true
	}
	return statutoryPreset{}, false
}

// PresetLegalBasis returns the law behind a statutory preset and how its rate
// is set, for documents ("Directive 2011/7/EU: ECB main refinancing rate +
// 8 percentage points, ..."), or "" for an unknown preset.
func PresetLegalBasis(name string) string {
	p, ok := presetFor(name)
	if !ok {
		return ""
	}
	return p.law + ": " + p.rule
}

// PresetLaw returns the short name of the law behind a statutory preset
// ("Directive 2011/7/EU"), or "" for an unknown preset.
func PresetLaw(name string) string {
	p, _ := presetFor(name)
	return p.law
}

// PresetCurrency returns the currency a statutory preset applies to ("EUR"
// for eu_late_payment), or "" for an unknown preset.
func PresetCurrency(name string) string {
	p, _ := presetFor(name)
	return p.currency
}

// PresetSeries returns the reference series a statutory preset is built on,
// or "" for an unknown preset.
func PresetSeries(name string) string {
	p, _ := presetFor(name)
	return p.series
}

// PresetCompensation returns the fixed compensation for recovery costs that
// a preset grants on an invoice of principal minor units: 40.00 EUR under
// eu_late_payment; under uk_late_payment 40.00 GBP below 1,000.00, 70.00 GBP
// below 10,000.00 and 100.00 GBP from 10,000.00; 0 under ru_civil_code_395,
// for an unknown preset, or when the currency is not the preset's.
func PresetCompensation(name, currency string, principal int64) int64 {
	switch {
	case name == PresetEULatePayment && currency == "EUR":
		return 4000
	case name == PresetUKLatePayment && currency == "GBP":
		switch {
		case principal < 100000:
			return 4000
		case principal < 1000000:
			return 7000
		default:
			return 10000
		}
	}
	return 0
}

// fixingDate returns the day whose reference rate applies on d under a
// preset (section 6): EU 1 Jan or 1 Jul of d's year; UK 31 Dec of the previous
// year or 30 Jun; RU d itself.
func fixingDate(name string, d Date) Date {
	firstHalf := d.Month() <= time.June
	switch name {
	case PresetEULatePayment:
		if firstHalf {
			return NewDate(d.Year(), time.January, 1)
		}
		return NewDate(d.Year(), time.July, 1)
	case PresetUKLatePayment:
		if firstHalf {
			return NewDate(d.Year()-1, time.December, 31)
		}
		return NewDate(d.Year(), time.June, 30)
	}
	return d
}

// AnnualRateOn returns the annual interest rate, in percent, that applies on
// day d under the interest terms: the agreed annual_rate, or for a preset its
// reference rate on the preset's fixing date plus its margin (never below 0).
// It returns *MissingRateError when the reference rate is not loaded, and an
// EINVALID error for terms with a daily_rate, no rate at all, or a bad one.
func AnnualRateOn(it InterestTerms, rates RateTable, d Date) (*big.Rat, error) {
	src, err := annualRateSource(it, rates, d)
	if err != nil {
		return nil, err
	}
	return annualRateFrom(it, src)
}

// annualRateSource returns what fixes the annual rate on d: the reference
// point in force on the preset's fixing date, or a point holding the agreed
// rate. Days with the same source have the same annual rate.
func annualRateSource(it InterestTerms, rates RateTable, d Date) (RatePoint, error) {
	switch {
	case it.Preset != "":
		p, ok := presetFor(it.Preset)
		if !ok {
			return RatePoint{}, Errorf(EINVALID, "unknown interest preset %q", it.Preset)
		}
		return rates.PointOn(p.series, fixingDate(it.Preset, d))
	case it.AnnualRate != "":
		return RatePoint{Rate: it.AnnualRate}, nil
	case it.DailyRate != "":
		return RatePoint{}, Errorf(EINVALID, "interest with a daily_rate has no annual rate")
	}
	return RatePoint{}, Errorf(EINVALID, "interest terms name no rate")
}

// annualRateFrom turns the source annualRateSource found into the rate.
func annualRateFrom(it InterestTerms, src RatePoint) (*big.Rat, error) {
	p, ok := presetFor(it.Preset)
	if !ok {
		r, err := ParseRate(src.Rate)
		if err != nil {
			return nil, Errorf(EINVALID, "interest.annual_rate: %s", ErrorMessage(err))
		}
		return r, nil
	}
	ref, err := parsePoint(p.series, src)
	if err != nil {
		return nil, err
	}
	r := ref.Add(ref, big.NewRat(p.margin, 1))
	if r.Sign() < 0 {
		// A statutory rate is a charge on the debtor; it never pays them.
		r.SetInt64(0)
	}
	return r, nil
}

// dayCountOf returns the day count that applies to interest terms: the
// preset's, else the agreed one, else act/365.
func dayCountOf(it InterestTerms) string {
	if p, ok := presetFor(it.Preset); ok {
		return p.dayCount
	}
	if it.DayCount != "" {
		return it.DayCount
	}
	return DayCountAct365
}

// daysInYear returns the denominator of a day's interest under a day count.
func daysInYear(dayCount string, d Date) int64 {
	switch dayCount {
	case DayCountAct360:
		return 360
	case DayCountActAct:
		return int64(d.DaysInYear())
	}
	return 365
}
