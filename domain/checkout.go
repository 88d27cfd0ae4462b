package domain

import "time"

// The life of a Checkout Session that charges a day's payoff. Stripe keeps
// a session open at least 30 minutes and at most 24 hours from its
// creation; the margins allow for Stripe's clock and Remit's to differ by
// a few minutes.
const (
	// CheckoutDayMargin is how long before the end of the quoted day its
	// session closes, so that Stripe's event for a payment completed in
	// time still falls on that day.
	CheckoutDayMargin = 5 * time.Minute
	// CheckoutMinLife is the shortest session Remit asks for (Stripe's 30
	// minutes and a margin).
	CheckoutMinLife = 35 * time.Minute
	// CheckoutMaxLife is the longest (Stripe's 24 hours less a margin).
	CheckoutMaxLife = 24*time.Hour - 5*time.Minute
)

// CheckoutWindow returns the day whose payoff a Checkout Session opened at
// now charges, and when the session closes (its expires_at), for an
// invoice in time zone loc. A payment is dated the day it is made and the
// ledger then posts interest to that day, so a session charges the payoff
// of one day and closes CheckoutDayMargin before that day ends: paid in
// time, it pays the invoice exactly.
//
// A session opened too late in the day to stay open CheckoutMinLife before
// that close charges the next day's payoff instead, and closes
// CheckoutDayMargin before the next day ends. Either closes no later than
// CheckoutMaxLife after now (to the minute). Paid that evening, the payment
// brings one day's interest too many, which the ledger keeps as client
// credit; nothing is lost.
func CheckoutWindow(now time.Time, loc *time.Location) (day Date, closes time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	day = DateOf(now, loc)
	if closes = dayClose(day, loc); closes.Sub(now) < CheckoutMinLife {
		day = day.AddDays(1)
		closes = dayClose(day, loc)
	}
	// A day of 25 hours (clocks going back) outlasts Stripe's limit.
	if limit := now.Truncate(time.Minute).Add(CheckoutMaxLife); closes.After(limit) {
		closes = limit
	}
	return day, closes
}

// dayClose is when the sessions quoting day close.
func dayClose(day Date, loc *time.Location) time.Time {
	return day.AddDays(1).Midnight(loc).Add(-CheckoutDayMargin)
}

// StripeAmount returns what to charge through Stripe for an amount due in
// Remit's minor units. Stripe counts in the same minor unit as ISO 4217 for
// every currency it takes (zero-decimal JPY in yen, EUR in cents, KWD in
// fils), so the amount passes unchanged, with one exception: Stripe takes
// three-decimal currencies (BHD, JOD, KWD, OMR, TND, ...) only in multiples
// of 10, so the amount is rounded up to the next multiple of 10. The payer
// then pays at most 9 fils more, which becomes client credit, and the
// invoice is settled; rounding down would leave a balance no card payment
// could close. Four-decimal units of account (CLF, UYW) return EINVALID.
func StripeAmount(amount int64, currency string) (int64, error) {
	exp, ok := CurrencyExponent(currency)
	switch {
	case !ok || exp > 3:
		return 0, &Error{Code: EINVALID, Message: "currency: Stripe cannot take payments in " + currency,
			Fields: map[string]string{"currency": "not a currency Stripe takes"}}
	case amount <= 0:
		return 0, Errorf(EINVALID, "amount: must be positive")
	case exp == 3 && amount%10 != 0:
		return amount + 10 - amount%10, nil
	}
	return amount, nil
}
