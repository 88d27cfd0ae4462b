package payments

import (
	"github.com/remit/remit/domain"
)

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
	exp, ok := domain.CurrencyExponent(currency)
	switch {
	case !ok || exp > 3:
		return 0, &domain.Error{Code: domain.EINVALID, Message: "currency: Stripe cannot take payments in " + currency,
			Fields: map[string]string{"currency": "not a currency Stripe takes"}}
	case amount <= 0:
		return 0, domain.Errorf(domain.EINVALID, "amount: must be positive")
	case exp == 3 && amount%10 != 0:
		return amount + 10 - amount%10, nil
	}
	return amount, nil
}
