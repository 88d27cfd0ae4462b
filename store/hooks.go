package store

import (
	"context"

	"gorm.io/gorm"
)

// afterInvoicePaid runs in the transaction that makes an invoice paid, after
// invoice.paid is emitted: follow-ups that depend on payment (milestones
// unlocking, reinstatement) hang here so they commit with the payment.
func (db *DB) afterInvoicePaid(ctx context.Context, tx *gorm.DB, row *invoiceRow) error {
	return db.milestoneInvoicePaid(ctx, tx, row)
}

// afterInvoiceReopened runs in the transaction that moves a paid invoice
// back to open (a refund, a reversed payment): what payment unlocked is
// taken back so it commits with the reversal.
func (db *DB) afterInvoiceReopened(ctx context.Context, tx *gorm.DB, row *invoiceRow) error {
	return db.milestoneInvoiceReopened(ctx, tx, row)
}

// afterInvoiceVoided runs in the transaction that voids an invoice, after
// invoice.voided is emitted: whatever the invoice billed is released.
func (db *DB) afterInvoiceVoided(ctx context.Context, tx *gorm.DB, row *invoiceRow) error {
	return db.milestoneInvoiceVoided(ctx, tx, row)
}
