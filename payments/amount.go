package payments

import (
	"github.com/remit/remit/domain"
)

// StripeAmount returns what to charge through Stripe for an amount due in
// Remit's minor units: domain.StripeAmount, the rule the hosted page's Pay
// button shows its amount by.
func StripeAmount(amount int64, currency string) (int64, error) {
	return domain.StripeAmount(amount, currency)
}
