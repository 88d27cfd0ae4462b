package store

import (
	"context"
	"errors"
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
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

// IdempotencyService implements domain.IdempotencyService.
type IdempotencyService struct{ db *DB }

// NewIdempotencyService returns the idempotency service on db.
func NewIdempotencyService(db *DB) *IdempotencyService { return &IdempotencyService{db: db} }

// errDiscard rolls back a request whose response is not to be kept.
var errDiscard = errors.New("discard the request's effects")

// Idempotent implements domain.IdempotencyService. The claim is an INSERT
// on the primary key (scope, key) inside the request's transaction: a
// concurrent request with the same key blocks on it (the row lock on
// PostgreSQL, the single writer on SQLite) until the first commits, then
// finds the stored response.
func (s *IdempotencyService) Idempotent(ctx context.Context, scope, key, fingerprint string, fn func(ctx context.Context) domain.IdempotentResponse) (domain.IdempotentResponse, bool, error) {
	var (
		resp     domain.IdempotentResponse
		replayed bool
	)
	err := s.db.WithinTx(ctx, func(ctx context.Context) error {
		tx := s.db.writer(ctx)
		now := s.db.now()
		// An expired record no longer answers: forget it so the key is free.
		if err := tx.Where("scope = ? AND key = ? AND created_at < ?", scope, key, now.Add(-domain.IdempotencyTTL)).
			Delete(&idempotencyRow{}).Error; err != nil {
			return err
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&idempotencyRow{Scope: scope, Key: key, Fingerprint: fingerprint, CreatedAt: now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var existing idempotencyRow
			if err := tx.Take(&existing, "scope = ? AND key = ?", scope, key).Error; err != nil {
				return err
			}
			if existing.Fingerprint != fingerprint {
				return domain.Errorf(domain.EIDEMPOTENCY, "Idempotency-Key %q was used with another request; use a new key for a new request", key)
			}
			resp, replayed = domain.IdempotentResponse{Status: existing.Status, ContentType: existing.ContentType, Body: []byte(existing.Body)}, true
			return nil
		}
		resp = fn(ctx)
		if resp.Status >= 500 || resp.Status == 429 {
			return errDiscard
		}
		return tx.Model(&idempotencyRow{}).Where("scope = ? AND key = ?", scope, key).
			Updates(map[string]any{"done": true, "status": resp.Status, "content_type": resp.ContentType, "body": string(resp.Body)}).Error
	})
	if errors.Is(err, errDiscard) {
		err = nil
	}
	return resp, replayed, err
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
