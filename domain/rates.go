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
	SeriesDEBase  = "DE_BASE"  // Deutsche Bundesbank base rate (Basiszinssatz)
)

// Statutory interest presets.
const (
	PresetEULatePayment  = "eu_late_payment"
	PresetUKLatePayment  = "uk_late_payment"
	PresetRUCivilCode395 = "ru_civil_code_395"
	PresetDEBGB288       = "de_bgb_288"
	PresetFRCodeCommerce = "fr_code_commerce"
)

// Rate fixings of the EU-style presets (ENFORCEMENT.md section 6).
const (
	// RateFixingHalfYear fixes the rate for each half-year (the default).
	RateFixingHalfYear = "half_year"
	// RateFixingAtDueDate applies the rate fixed for the half-year of day 1
	// overdue for the whole delay.
	RateFixingAtDueDate = "at_due_date"
)

// ValidSeries reports whether name is a reference series Remit knows.
func ValidSeries(name string) bool {
	return name == SeriesECBMRO || name == SeriesBOEBase || name == SeriesCBRKey || name == SeriesDEBase
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
	// consumerMargin replaces margin for a consumer client, where the law
	// distinguishes (de_bgb_288); -1 when it does not.
	consumerMargin int64
	dayCount       string
	law            string // the legal basis, for documents
	rule           string // how the rate is set, for documents
	consumerRule   string // rule for a consumer client, where it differs
	// rateFixing says whether the agreement may choose rate_fixing.
	rateFixing bool
}

// marginFor returns the preset's margin for a client of kind.
func (p statutoryPreset) marginFor(kind string) int64 {
	if kind == ClientConsumer && p.consumerMargin >= 0 {
		return p.consumerMargin
	}
	return p.margin
}

// presetFor returns the preset named name and whether it exists.
func presetFor(name string) (statutoryPreset, bool) {
	switch name {
	case PresetEULatePayment:
		return statutoryPreset{
			currency: "EUR", series: SeriesECBMRO, margin: 8, consumerMargin: -1, dayCount: DayCountAct365,
			law: "Directive 2011/7/EU",
			rule: "ECB main refinancing rate + 8 percentage points, " +
				"fixed for each half-year at the rate in force on 1 January and on 1 July",
			rateFixing: true,
		}, true
	case PresetUKLatePayment:
		return statutoryPreset{
			currency: "GBP", series: SeriesBOEBase, margin: 8, consumerMargin: -1, dayCount: DayCountAct365,
			law: "Late Payment of Commercial Debts (Interest) Act 1998",
			rule: "Bank of England base rate + 8 percentage points, " +
				"fixed for each half-year at the rate in force on 31 December and on 30 June",
		}, true
	case PresetRUCivilCode395:
		return statutoryPreset{
			currency: "RUB", series: SeriesCBRKey, margin: 0, consumerMargin: -1, dayCount: DayCountActAct,
			law:  "Civil Code of the Russian Federation, art. 395",
			rule: "Bank of Russia key rate in force on each day of the delay",
		}, true
	case PresetDEBGB288:
		return statutoryPreset{
			currency: "EUR", series: SeriesDEBase, margin: 9, consumerMargin: 5, dayCount: DayCountAct365,
			law: "German Civil Code (BGB), section 288",
			rule: "Bundesbank base rate + 9 percentage points (a business debtor), " +
				"fixed for each half-year at the rate in force on 1 January and on 1 July",
			consumerRule: "Bundesbank base rate + 5 percentage points (a consumer debtor), " +
				"fixed for each half-year at the rate in force on 1 January and on 1 July",
		}, true
	case PresetFRCodeCommerce:
		return statutoryPreset{
			currency: "EUR", series: SeriesECBMRO, margin: 10, consumerMargin: -1, dayCount: DayCountAct365,
			law: "French Commercial Code, art. L441-10",
			rule: "ECB main refinancing rate + 10 percentage points, " +
				"fixed for each half-year at the rate in force on 1 January and on 1 July",
			rateFixing: true,
		}, true
	}
	return statutoryPreset{}, false
}

// PresetLegalBasis returns the law behind a statutory preset and how its rate
// is set, for documents ("Directive 2011/7/EU: ECB main refinancing rate +
// 8 percentage points, ..."), or "" for an unknown preset. It reads as for
// a business client under the default rate fixing (InterestLegalBasis says
// it for given terms and client).
func PresetLegalBasis(name string) string {
	return InterestLegalBasis(InterestTerms{Preset: name}, ClientBusiness)
}

// InterestLegalBasis returns the law behind the terms' statutory preset and
// how its rate is set for a client of kind, in plain words, or "" when the
// terms name no known preset.
func InterestLegalBasis(it InterestTerms, kind string) string {
	p, ok := presetFor(it.Preset)
	if !ok {
		return ""
	}
	rule := p.rule
	if kind == ClientConsumer && p.consumerRule != "" {
		rule = p.consumerRule
	}
	if p.rateFixing && it.RateFixing == RateFixingAtDueDate {
		rule = strings.Replace(rule, "fixed for each half-year at the rate in force on 1 January and on 1 July",
			"fixed at the rate in force on 1 January or 1 July of the half-year in which payment fell overdue, for the whole delay", 1)
	}
	return p.law + ": " + rule
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
	return presetCompensation(name, currency, ClientBusiness, principal)
}

// presetCompensation is PresetCompensation for a client of kind: de_bgb_288
// grants its EUR 40.00 against a business debtor only (BGB section 288(5)),
// fr_code_commerce EUR 40.00 (L441-10).
func presetCompensation(name, currency, kind string, principal int64) int64 {
	switch {
	case (name == PresetEULatePayment || name == PresetFRCodeCommerce) && currency == "EUR":
		return 4000
	case name == PresetDEBGB288 && currency == "EUR":
		if kind == ClientConsumer {
			return 0
		}
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
	case PresetEULatePayment, PresetDEBGB288, PresetFRCodeCommerce:
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
// The rate is a business client's, fixed on d's own half-year (see
// rateFixingDay for at_due_date).
func AnnualRateOn(it InterestTerms, rates RateTable, d Date) (*big.Rat, error) {
	src, err := annualRateSource(it, rates, d)
	if err != nil {
		return nil, err
	}
	return annualRateFrom(it, ClientBusiness, src)
}

// rateFixingDay returns the day whose half-year fixes the rate of day d of
// a delay that began on day1: d, but day1 under rate_fixing at_due_date.
func rateFixingDay(it InterestTerms, day1, d Date) Date {
	if p, ok := presetFor(it.Preset); ok && p.rateFixing && it.RateFixing == RateFixingAtDueDate {
		return day1
	}
	return d
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
func annualRateFrom(it InterestTerms, kind string, src RatePoint) (*big.Rat, error) {
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
	r := ref.Add(ref, big.NewRat(p.marginFor(kind), 1))
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
	case DayCountAct360, DayCount30E360:
		return 360
	case DayCountActAct:
		return int64(d.DaysInYear())
	}
	return 365
}

// dayWeight returns how many days day d counts for under a day count: 1,
// but under 30e/360 day 31 of a month counts 0 and the last day of February
// counts 30 less the days of that February plus 1 (3, or 2 in a leap year),
// so that every whole month counts 30 (ENFORCEMENT.md section 5).
func dayWeight(dayCount string, d Date) int64 {
	if dayCount != DayCount30E360 {
		return 1
	}
	last := d.LastOfMonth().Day()
	switch {
	case d.Day() == 31:
		return 0
	case d.Month() == time.February && d.Day() == last:
		return int64(30 - last + 1)
	}
	return 1
}

// How a statutory preset fixes its reference rate (StatutoryRule.Fixing).
const (
	// FixingJanuaryJuly fixes it for each half-year at the rate in force on
	// 1 January and on 1 July.
	FixingJanuaryJuly = "half_year_jan_jul"
	// FixingDecemberJune fixes it for each half-year at the rate in force on
	// 31 December and on 30 June.
	FixingDecemberJune = "half_year_dec_jun"
	// FixingAtDueDate fixes it for the whole delay at the rate in force on
	// 1 January or 1 July of the half-year payment fell overdue in.
	FixingAtDueDate = "at_due_date"
	// FixingDaily takes the rate in force on each day of the delay.
	FixingDaily = "daily"
)

// StatutoryRule is the law behind a statutory preset and how it sets the
// rate, as figures each language words (InterestLegalBasis words it in
// English): the reference Series plus Margin percentage points, for a
// Debtor of a kind where the law distinguishes ("" where it does not),
// fixed as Fixing says.
type StatutoryRule struct {
	Preset string
	Series string
	Margin int64
	Debtor string
	Fixing string
}

// PresetRule returns the rule of the terms' statutory preset for a client of
// kind, and false when the terms name no known preset.
func PresetRule(it InterestTerms, kind string) (StatutoryRule, bool) {
	p, ok := presetFor(it.Preset)
	if !ok {
		return StatutoryRule{}, false
	}
	r := StatutoryRule{Preset: it.Preset, Series: p.series, Margin: p.marginFor(kind), Fixing: FixingJanuaryJuly}
	if p.consumerMargin >= 0 {
		r.Debtor = ClientBusiness
		if kind == ClientConsumer {
			r.Debtor = ClientConsumer
		}
	}
	switch {
	case it.Preset == PresetRUCivilCode395:
		r.Fixing = FixingDaily
	case it.Preset == PresetUKLatePayment:
		r.Fixing = FixingDecemberJune
	case p.rateFixing && it.RateFixing == RateFixingAtDueDate:
		r.Fixing = FixingAtDueDate
	}
	return r, true
}
