package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/remit/remit/domain"
)

// linkRow is the links table.
type linkRow struct {
	Kind      string `gorm:"primaryKey"`
	SubjectID string `gorm:"primaryKey"`
	Nonce     string
	TokenHash string
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
	// RevokedAt is set while the link is revoked (no token works).
	RevokedAt *time.Time
}

func (linkRow) TableName() string { return "links" }

// LinkService implements domain.LinkService. Key is REMIT_LINK_KEY: tokens
// are derived from it and the stored nonce, and only their SHA-256 is kept.
type LinkService struct {
	db  *DB
	key []byte
}

// NewLinkService returns the service on db with key.
func NewLinkService(db *DB, key []byte) *LinkService { return &LinkService{db: db, key: key} }

func (s *LinkService) newRow(kind, subjectID string) linkRow {
	nonce := randomToken(16) // 128 random bits
	return linkRow{Kind: kind, SubjectID: subjectID, Nonce: nonce,
		TokenHash: domain.LinkTokenHash(domain.LinkToken(s.key, kind, subjectID, nonce)), CreatedAt: s.db.now()}
}

// LinkTokens implements domain.LinkService.
func (s *LinkService) LinkTokens(ctx context.Context, kind string, subjectIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(subjectIDs))
	if len(subjectIDs) == 0 {
		return out, nil
	}
	revoked := map[string]bool{}
	find := func(q *gorm.DB) error {
		var rows []linkRow
		if err := q.Where("kind = ? AND subject_id IN ?", kind, subjectIDs).Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			if r.RevokedAt != nil {
				revoked[r.SubjectID] = true
				continue
			}
			out[r.SubjectID] = domain.LinkToken(s.key, r.Kind, r.SubjectID, r.Nonce)
		}
		return nil
	}
	if err := find(s.db.reader(ctx)); err != nil {
		return nil, translate(err)
	}
	var missing []linkRow
	for _, id := range subjectIDs {
		if _, ok := out[id]; !ok && !revoked[id] {
			missing = append(missing, s.newRow(kind, id))
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	// A concurrent request may create the same link: the first row stays,
	// and both read it back.
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&missing).Error; err != nil {
			return err
		}
		return find(tx)
	})
	return out, err
}

// RotateLink implements domain.LinkService.
func (s *LinkService) RotateLink(ctx context.Context, kind, subjectID string) (string, error) {
	row := s.newRow(kind, subjectID)
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "kind"}, {Name: "subject_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"nonce", "token_hash", "created_at", "revoked_at"}),
		}).Create(&row).Error
	})
	if err != nil {
		return "", err
	}
	return domain.LinkToken(s.key, kind, subjectID, row.Nonce), nil
}

// ResolveLink implements domain.LinkService.
func (s *LinkService) ResolveLink(ctx context.Context, kind, token string) (string, error) {
	var row linkRow
	err := s.db.reader(ctx).Where("token_hash = ? AND kind = ?", domain.LinkTokenHash(token), kind).Take(&row).Error
	if err != nil {
		return "", translate(err)
	}
	return row.SubjectID, nil
}

// RevokeLink implements domain.LinkService. The row stays, with a nonce
// and hash no URL derives from, so LinkTokens does not create a new link
// for the subject; only the change from live (or never made) to revoked
// is recorded.
func (s *LinkService) RevokeLink(ctx context.Context, kind, subjectID string) error {
	return s.db.tx(ctx, func(tx *gorm.DB) error {
		clientID, invoiceID, event := subjectID, "", domain.EventClientLinkRevoked
		var err error
		switch kind {
		case domain.LinkInvoice:
			invoiceID, event = subjectID, domain.EventInvoiceLinkRevoked
			err = tx.Table("invoices").Select("client_id").Where("id = ?", subjectID).Take(&clientID).Error
		case domain.LinkClient:
			var n int64
			if err = tx.Table("clients").Where("id = ?", subjectID).Count(&n).Error; err == nil && n == 0 {
				err = gorm.ErrRecordNotFound
			}
		default:
			return domain.Errorf(domain.EINVALID, "no links of kind %q", kind)
		}
		if err != nil {
			return err
		}
		now := s.db.now()
		row := s.newRow(kind, subjectID) // a fresh nonce: the old token cannot match
		row.RevokedAt = &now
		res := tx.Model(&linkRow{}).Where("kind = ? AND subject_id = ? AND revoked_at IS NULL", kind, subjectID).
			Updates(map[string]any{"nonce": row.Nonce, "token_hash": row.TokenHash, "revoked_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			// Never made, or already revoked: the insert tells which.
			res = tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
		}
		return s.db.emit(ctx, tx, event, clientID, invoiceID, map[string]any{"kind": kind, "revoked_at": now.UTC()}, false)
	})
}
