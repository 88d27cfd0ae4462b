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
		var late *lateWrite
		if s.db.dialect == Postgres {
			late = &lateWrite{}
			ctx = context.WithValue(ctx, lateWriteKey{}, late)
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

// lateWrite is a request's one write held back until its response is
// known, so that the write and the storing of the response go in one
// statement (on PostgreSQL). In a transaction (Idempotent) that is the
// numbered write of an invoice issued at creation: its series' counter row,
// on which every issuer in the business queues, is then locked by the
// statement that writes the invoice and stores the response, and held until
// the commit that follows, not across the storing of the response too.
// Without one (IdempotentGrouped) it is the request's whole write, which,
// with the key's record and the response, goes through the group commit
// that writes of its kind share. Until then an invoice's number is a token
// of the request (one nobody could guess and place in a memo), which that
// statement replaces in the stored response and write in the one sent.
type lateWrite struct {
	grouped bool // IdempotentGrouped: no transaction; the write goes through writer
	refused bool // a write that cannot wait was asked for (ErrNeedsTransaction)
	token   string
	writer  *groupWriter
	series  string
	query   string // ending with numberedTail, with ? placeholders
	args    []any
}

type lateWriteKey struct{}

// heldWrite returns the request's lateWrite, if it has one that can take
// a write: one that holds nothing yet, or any in grouped mode (where a
// second write is refused: see hold).
func heldWrite(ctx context.Context) *lateWrite {
	late, _ := ctx.Value(lateWriteKey{}).(*lateWrite)
	if late == nil || late.query != "" && !late.grouped {
		return nil
	}
	return late
}

// hold keeps the write: query (ending with numberedTail) with args, sent
// through writer for series in grouped mode. With numbered, the number is
// the token until then; hold returns the token ("" without). A request
// holds one write: a second is refused, and the request runs again in a
// transaction.
func (l *lateWrite) hold(writer *groupWriter, series, query string, args []any, numbered bool) (string, error) {
	if l.query != "" {
		return "", l.refuse()
	}
	if numbered {
		l.token = "remit-number-" + randomToken(16)
	}
	l.writer, l.series, l.query, l.args = writer, series, query, args
	return l.token, nil
}

// refuse marks a write that cannot be held back in grouped mode.
func (l *lateWrite) refuse() error {
	l.refused = true
	return domain.ErrNeedsTransaction
}

// statement returns the held write with the storing of resp added before
// its tail: the UPDATE of the key's claim (in a transaction), or the key's
// record (grouped).
func (l *lateWrite) statement(scope, key, fingerprint string, createdAt time.Time, resp domain.IdempotentResponse) (string, []any, error) {
	base, ok := strings.CutSuffix(l.query, numberedTail)
	if !ok {
		return "", nil, fmt.Errorf("the held write does not end with %q", numberedTail)
	}
	args := slices.Clip(l.args)
	if l.grouped {
		base += ", k AS (INSERT INTO idempotency_keys (scope, key, fingerprint, done, status, content_type, body, created_at)" +
			" VALUES (?, ?, ?, true, ?, ?, replace(?::text, ?::text, (SELECT number FROM n)), ?))"
		args = append(args, scope, key, fingerprint, resp.Status, resp.ContentType, string(resp.Kept()), l.token, createdAt)
	} else {
		base += ", k AS (UPDATE idempotency_keys SET done = true, status = ?, content_type = ?," +
			" body = replace(?::text, ?::text, (SELECT number FROM n)) WHERE scope = ? AND key = ?)"
		args = append(args, resp.Status, resp.ContentType, string(resp.Kept()), l.token, scope, key)
	}
	return base + numberedTail, args, nil
}

// answer puts the number in place of the token in resp.
func (l *lateWrite) answer(resp *domain.IdempotentResponse, number string) {
	if l.token == "" {
		return
	}
	resp.Body = bytes.ReplaceAll(resp.Body, []byte(l.token), []byte(number))
	if resp.Stored != nil {
		resp.Stored = bytes.ReplaceAll(resp.Stored, []byte(l.token), []byte(number))
	}
}

// write runs the held write with the storing of resp in the request's
// transaction tx.
func (l *lateWrite) write(tx *gorm.DB, scope, key string, resp *domain.IdempotentResponse) error {
	q, args, err := l.statement(scope, key, "", time.Time{}, *resp)
	if err != nil {
		return err
	}
	var number string
	if err := rawScan(tx, q, args, &number); err != nil {
		return err
	}
	l.answer(resp, number)
	return nil
}

// IdempotentGrouped implements domain.IdempotencyService. On SQLite, and
// for a key that has a record (a replay, a duplicate in flight, another
// request's key, an expired record), it is Idempotent.
func (s *IdempotencyService) IdempotentGrouped(ctx context.Context, scope, key, fingerprint string, fn func(ctx context.Context) domain.IdempotentResponse) (domain.IdempotentResponse, bool, error) {
	_, inTx := ctx.Value(txKey{}).(*gorm.DB)
	if s.db.dialect != Postgres || s.db.issuer == nil || inTx {
		return s.Idempotent(ctx, scope, key, fingerprint, fn)
	}
	if known, err := s.known(ctx, scope, key); err != nil || known {
		if err != nil {
			return domain.IdempotentResponse{}, false, err
		}
		return s.Idempotent(ctx, scope, key, fingerprint, fn)
	}
	late := &lateWrite{grouped: true}
	resp := fn(context.WithValue(ctx, lateWriteKey{}, late))
	switch {
	case late.refused:
		return s.Idempotent(ctx, scope, key, fingerprint, fn)
	case resp.Status >= 500 || resp.Status == 429:
		return resp, false, nil // nothing was written, nothing is kept
	}
	var err error
	if late.query != "" {
		var q string
		var args []any
		if q, args, err = late.statement(scope, key, fingerprint, s.db.now(), resp); err != nil {
			return domain.IdempotentResponse{}, false, err
		}
		var number string
		if number, err = late.writer.run(ctx, late.series, rebindPostgres(q), args); err == nil {
			late.answer(&resp, number)
			return resp, false, nil
		}
	} else {
		// Nothing written (a refusal, say): the response alone is kept.
		res := s.db.writer(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&idempotencyRow{Scope: scope, Key: key,
			Fingerprint: fingerprint, Done: true, Status: resp.Status, ContentType: resp.ContentType, Body: string(resp.Kept()), CreatedAt: s.db.now()})
		if err = res.Error; err == nil && res.RowsAffected == 1 {
			return resp, false, nil
		}
	}
	// Another request with the key stored its record first (or the write
	// failed): when the key has a record now, it answers.
	if known, kerr := s.known(ctx, scope, key); kerr == nil && known {
		return s.Idempotent(ctx, scope, key, fingerprint, fn)
	}
	if err == nil {
		err = errors.New("the response could not be stored")
	}
	return domain.IdempotentResponse{}, false, err
}

// known reports whether (scope, key) has a record, expired or not.
func (s *IdempotencyService) known(ctx context.Context, scope, key string) (bool, error) {
	var n int
	err := rawScan(s.db.reader(ctx), "SELECT 1 FROM idempotency_keys WHERE scope = ? AND key = ?", []any{scope, key}, &n)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	return err == nil, translate(err)
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
