package pdf_test

import (
	"slices"
	"testing"

	"github.com/remit/remit/pdf"
)

func TestTermsText(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terms    pdf.AgreementTerms
		currency string
		want     []string
	}{
		{
			name:     "nothing agreed",
			terms:    pdf.AgreementTerms{},
			currency: "EUR",
			want:     nil,
		},
		{
			name: "worked example 1: net 30 and a one-time fee",
			terms: pdf.AgreementTerms{
				PaymentTerms: "net_30", LateFee: pdf.LateFeeTerms{Flat: 2500, Percent: "1.5"},
			},
			currency: "EUR",
			want: []string{
				"Payment is due within 30 days of the issue date.",
				"If this invoice is not paid in time, a late fee of 25.00 EUR plus 1.5 % of the amount still unpaid is charged on the day after the due date. No fee is charged on fees or on interest.",
				"Payments are applied first to compensation and late fees, then to interest, then to the invoice amount.",
			},
		},
		{
			name: "repeating fee, grace, simple annual interest, principal first",
			terms: pdf.AgreementTerms{
				EffectiveFrom: day("2026-01-01"), PaymentTerms: "due_on_receipt", GraceDays: 5,
				LateFee:    pdf.LateFeeTerms{Percent: "2", RepeatEveryDays: 14, MaxCount: 3, MaxTotal: 100000},
				Interest:   pdf.InterestTerms{AnnualRate: "12", DayCount: "act/360"},
				Allocation: "principal_first", SuspendAfterDays: 45,
			},
			currency: "JPY",
			want: []string{
				"These terms are those of our agreement in force from 1 January 2026.",
				"Payment is due on receipt of this invoice.",
				"If this invoice is not paid in time, a late fee of 2 % of the amount still unpaid is charged on the day after the due date and a grace period of 5 days, and again every 14 days while it remains unpaid (at most 3 fees, no more than 100,000 JPY in all). No fee is charged on fees or on interest.",
				"Interest of 12 % a year is charged on the unpaid amount from the day after the due date and a grace period of 5 days, counted daily (actual/360) and posted monthly.",
				"Interest is simple: it is never charged on fees or on earlier interest.",
				"Payments are applied to the invoice amount first, then to charges.",
				"Our services may be suspended when an invoice is 45 days overdue, after a written warning.",
			},
		},
		{
			name: "UK preset with compensation, compound",
			terms: pdf.AgreementTerms{
				PaymentTerms: "net_0", Interest: pdf.InterestTerms{Preset: pdf.PresetUK, Compound: true}, FixedCompensation: 7000,
			},
			currency: "GBP",
			want: []string{
				"Payment is due on receipt of this invoice.",
				"Statutory interest under the Late Payment of Commercial Debts (Interest) Act 1998: the Bank of England base rate plus 8 percentage points a year, fixed for each half-year at the rate in force on 31 December and on 30 June, counted daily on the unpaid amount (actual/365) and charged monthly.",
				"Interest once posted is itself charged interest from the next day.",
				"A fixed compensation of 70.00 GBP for recovery costs is charged once, on the day after the due date.",
				"Payments are applied first to compensation and late fees, then to interest, then to the invoice amount.",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pdf.TermsText(tc.terms, tc.currency); !slices.Equal(got, tc.want) {
				t.Errorf("TermsText:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestLegalBasis(t *testing.T) {
	for preset, want := range map[string]string{
		pdf.PresetEU: "Directive 2011/7/EU of the European Parliament and of the Council on combating late payment in commercial transactions (interest: article 3; compensation for recovery costs: article 6)",
		pdf.PresetUK: "Late Payment of Commercial Debts (Interest) Act 1998 (statutory interest: section 1; fixed sum compensation: section 5A)",
		pdf.PresetRU: "Civil Code of the Russian Federation, article 395 (liability for failure to perform a monetary obligation)",
		"":           "",
	} {
		if got := pdf.LegalBasis(preset); got != want {
			t.Errorf("LegalBasis(%q) = %q, want %q", preset, got, want)
		}
	}
}
