package store

import (
	"context"

	"gorm.io/gorm"
)

// afterInvoicePaid runs in the transaction that makes an invoice paid, after
// invoice.paid is emitted: follow-ups that depend on payment (milestones
// unlocking, reinstatement) hang here so they commit with the payment.
func (db *DB) afterInvoicePaid(ctx context.Context, tx *gorm.DB, row *invoiceRow) error {
	return nil
}
