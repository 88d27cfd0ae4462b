package store

import (
	"context"

	"github.com/remit/remit/domain"
)

// OutboxBacklog returns the number of outbox events not yet fanned out into
// deliveries (the partial index outbox_pending makes it cheap).
func (db *DB) OutboxBacklog(ctx context.Context) (int64, error) {
	var n int64
	err := db.reader(ctx).Raw("SELECT COUNT(*) FROM outbox WHERE processed_at IS NULL").Scan(&n).Error
	return n, translate(err)
}

// FailedDeliveries returns the deliveries given up after the retry window,
// by channel: "webhook" and "email".
func (db *DB) FailedDeliveries(ctx context.Context) (map[string]int64, error) {
	var webhook, email int64
	r := db.reader(ctx)
	if err := r.Raw("SELECT COUNT(*) FROM webhook_deliveries WHERE status = ?", domain.DeliveryFailed).Scan(&webhook).Error; err != nil {
		return nil, translate(err)
	}
	if err := r.Raw("SELECT COUNT(*) FROM email_deliveries WHERE status = ?", domain.DeliveryFailed).Scan(&email).Error; err != nil {
		return nil, translate(err)
	}
	return map[string]int64{"webhook": webhook, "email": email}, nil
}
