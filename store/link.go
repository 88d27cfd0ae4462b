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
	find := func(q *gorm.DB) error {
		var rows []linkRow
		if err := q.Where("kind = ? AND subject_id IN ?", kind, subjectIDs).Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			out[r.SubjectID] = domain.LinkToken(s.key, r.Kind, r.SubjectID, r.Nonce)
		}
		return nil
	}
	if err := find(s.db.reader(ctx)); err != nil {
		return nil, translate(err)
	}
	var missing []linkRow
	for _, id := range subjectIDs {
		if _, ok := out[id]; !ok {
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
			DoUpdates: clause.AssignmentColumns([]string{"nonce", "token_hash", "created_at"}),
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
