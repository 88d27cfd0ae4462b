package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
		var late *lateNumber
		if s.db.dialect == Postgres {
			late = &lateNumber{}
			ctx = context.WithValue(ctx, lateNumberKey{}, late)
		}
		// An expired record no longer answers (claim forgets it). Here a
		// record that holds the key is always done: its claim committed
		// with its response.
		existing, err := s.claim(tx, scope, key, fingerprint)
		if err != nil {
			return err
		}
		if existing != nil {
			resp, replayed = existing.response(), true
			return nil
		}
		resp = fn(ctx)
		if resp.Status >= 500 || resp.Status == 429 {
			return errDiscard
		}
		if late != nil && late.query != "" {
			return late.write(tx, scope, key, &resp)
		}
		return tx.Model(&idempotencyRow{}).Where("scope = ? AND key = ?", scope, key).
			Updates(map[string]any{"done": true, "status": resp.Status, "content_type": resp.ContentType, "body": string(resp.Kept())}).Error
	})
	if errors.Is(err, errDiscard) {
		err = nil
	}
	return resp, replayed, err
}

// lateNumber is the numbered write of an invoice issued by a request with
// an Idempotency-Key on PostgreSQL (see CreateInvoice), held back until
// the request's response is known: the invoice's series counter row, on
// which every issuer in the business queues, is then locked by the one
// statement that writes the invoice and stores the response, and held
// until the commit that follows, instead of across the storing of the
// response too. Until then the invoice's number is a token of the request
// (one nobody could guess and place in a memo), which that statement
// replaces in the stored response and write in the one sent.
type lateNumber struct {
	token string
	query string
	args  []any
}

type lateNumberKey struct{}

// numberLate returns the request's lateNumber, when the request has one
// and it holds nothing yet.
func numberLate(ctx context.Context) *lateNumber {
	late, _ := ctx.Value(lateNumberKey{}).(*lateNumber)
	if late == nil || late.query != "" {
		return nil
	}
	return late
}

// write runs the held-back statement with the storing of resp as one
// statement (numberedSQL ends by selecting the number from n) and puts the
// number in place of the token in resp.
func (l *lateNumber) write(tx *gorm.DB, scope, key string, resp *domain.IdempotentResponse) error {
	base, ok := strings.CutSuffix(l.query, numberedTail)
	if !ok {
		return fmt.Errorf("the numbered statement does not end with %q", numberedTail)
	}
	q := base + ", k AS (UPDATE idempotency_keys SET done = true, status = ?, content_type = ?," +
		" body = replace(?::text, ?::text, (SELECT number FROM n)) WHERE scope = ? AND key = ?)" + numberedTail
	args := append(slices.Clip(l.args), resp.Status, resp.ContentType, string(resp.Kept()), l.token, scope, key)
	var number string
	if err := rawScan(tx, q, args, &number); err != nil {
		return err
	}
	resp.Body = bytes.ReplaceAll(resp.Body, []byte(l.token), []byte(number))
	if resp.Stored != nil {
		resp.Stored = bytes.ReplaceAll(resp.Stored, []byte(l.token), []byte(number))
	}
	return nil
}

// IdempotentOutside implements domain.IdempotencyService.
func (s *IdempotencyService) IdempotentOutside(ctx context.Context, scope, key, fingerprint string, fn func(ctx context.Context) domain.IdempotentResponse) (domain.IdempotentResponse, bool, error) {
	var stored *idempotencyRow
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := s.claim(tx, scope, key, fingerprint)
		if row != nil && row.Done {
			stored = row
		}
		return err
	})
	if err != nil {
		return domain.IdempotentResponse{}, false, err
	}
	if stored != nil {
		return stored.response(), true, nil
	}
	resp := fn(ctx)
	if resp.Status >= 500 || resp.Status == 429 {
		return resp, false, nil
	}
	err = s.db.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&idempotencyRow{}).Where("scope = ? AND key = ? AND done = ?", scope, key, false).
			Updates(map[string]any{"done": true, "status": resp.Status, "content_type": resp.ContentType, "body": string(resp.Kept())})
		if res.Error != nil || res.RowsAffected == 1 {
			return res.Error
		}
		// A concurrent run stored its response first: answer with it.
		var first idempotencyRow
		if err := tx.Take(&first, "scope = ? AND key = ?", scope, key).Error; err != nil {
			return err
		}
		stored = &first
		return nil
	})
	if err != nil {
		return domain.IdempotentResponse{}, false, err
	}
	if stored != nil {
		return stored.response(), true, nil
	}
	return resp, false, nil
}

// claim claims the key, or returns the record that holds it (nil when this
// call claimed it). A record of another request is EIDEMPOTENCY. A record
// older than IdempotencyTTL is forgotten and the key claimed anew. The
// claim is tried first, so that a new key, the common case, costs one
// statement.
func (s *IdempotencyService) claim(tx *gorm.DB, scope, key, fingerprint string) (*idempotencyRow, error) {
	now := s.db.now()
	for forgot := false; ; forgot = true {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&idempotencyRow{Scope: scope, Key: key, Fingerprint: fingerprint, CreatedAt: now})
		if res.Error != nil || res.RowsAffected == 1 {
			return nil, res.Error
		}
		var existing idempotencyRow
		if err := tx.Take(&existing, "scope = ? AND key = ?", scope, key).Error; err != nil {
			return nil, err
		}
		if !forgot && existing.CreatedAt.Before(now.Add(-domain.IdempotencyTTL)) {
			if err := tx.Where("scope = ? AND key = ? AND created_at < ?", scope, key, now.Add(-domain.IdempotencyTTL)).
				Delete(&idempotencyRow{}).Error; err != nil {
				return nil, err
			}
			continue
		}
		if existing.Fingerprint != fingerprint {
			return nil, domain.Errorf(domain.EIDEMPOTENCY, "Idempotency-Key %q was used with another request; use a new key for a new request", key)
		}
		return &existing, nil
	}
}

func (r *idempotencyRow) response() domain.IdempotentResponse {
	return domain.IdempotentResponse{Status: r.Status, ContentType: r.ContentType, Body: []byte(r.Body)}
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
