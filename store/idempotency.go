package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/remit/remit/domain"
)

// idempotencyRow is the idempotency_keys table.
type idempotencyRow struct {
	Scope       string `gorm:"primaryKey"`
	Key         string `gorm:"primaryKey"`
	Fingerprint string
	Done        bool
	Status      int
	ContentType string
	Body        string
	CreatedAt   time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

// IdempotencyService implements domain.IdempotencyService.
type IdempotencyService struct{ db *DB }

// NewIdempotencyService returns the idempotency service on db.
func NewIdempotencyService(db *DB) *IdempotencyService { return &IdempotencyService{db: db} }

// ReserveIdempotencyKey implements domain.IdempotencyService. The primary key
// (scope, key) makes two concurrent reservations impossible: exactly one
// insert wins, on SQLite and on PostgreSQL.
func (s *IdempotencyService) ReserveIdempotencyKey(ctx context.Context, scope, key, fingerprint string) (bool, *domain.IdempotencyRecord, error) {
	now := s.db.now()
	var existing idempotencyRow
	reserved := false
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		// An expired record no longer answers: forget it so the key is free.
		if err := tx.Where("scope = ? AND key = ? AND created_at < ?", scope, key, now.Add(-domain.IdempotencyTTL)).
			Delete(&idempotencyRow{}).Error; err != nil {
			return err
		}
		row := idempotencyRow{Scope: scope, Key: key, Fingerprint: fingerprint, CreatedAt: now}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			reserved = true
			return nil
		}
		return tx.Take(&existing, "scope = ? AND key = ?", scope, key).Error
	})
	if err != nil || reserved {
		return reserved, nil, err
	}
	return false, &domain.IdempotencyRecord{
		Fingerprint: existing.Fingerprint,
		Done:        existing.Done,
		Response:    domain.IdempotentResponse{Status: existing.Status, ContentType: existing.ContentType, Body: []byte(existing.Body)},
	}, nil
}

// CompleteIdempotencyKey implements domain.IdempotencyService.
func (s *IdempotencyService) CompleteIdempotencyKey(ctx context.Context, scope, key string, resp domain.IdempotentResponse) error {
	return s.db.tx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&idempotencyRow{}).Where("scope = ? AND key = ?", scope, key).
			Updates(map[string]any{"done": true, "status": resp.Status, "content_type": resp.ContentType, "body": string(resp.Body)}).Error
	})
}

// ReleaseIdempotencyKey implements domain.IdempotencyService.
func (s *IdempotencyService) ReleaseIdempotencyKey(ctx context.Context, scope, key string) error {
	return s.db.tx(ctx, func(tx *gorm.DB) error {
		return tx.Where("scope = ? AND key = ? AND done = ?", scope, key, false).Delete(&idempotencyRow{}).Error
	})
}

// PurgeIdempotencyKeys implements domain.IdempotencyService.
func (s *IdempotencyService) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("created_at < ?", s.db.now().Add(-domain.IdempotencyTTL)).Delete(&idempotencyRow{})
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}
