package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// apiKeyRow is the api_keys table. Digest is the hex SHA-256 of the secret.
type apiKeyRow struct {
	ID        string
	Name      string
	Digest    string
	Prefix    string
	Scopes    string
	CreatedAt time.Time
	RevokedAt *time.Time
}

func (apiKeyRow) TableName() string { return "api_keys" }

func (r *apiKeyRow) toDomain() domain.APIKey {
	k := domain.APIKey{ID: r.ID, Name: r.Name, Prefix: r.Prefix, Scopes: strings.Split(r.Scopes, ","), CreatedAt: r.CreatedAt.UTC()}
	if r.RevokedAt != nil {
		t := r.RevokedAt.UTC()
		k.RevokedAt = &t
	}
	return k
}

func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// APIKeyService implements domain.APIKeyService.
type APIKeyService struct{ db *DB }

// NewAPIKeyService returns the API key service on db.
func NewAPIKeyService(db *DB) *APIKeyService { return &APIKeyService{db: db} }

// CreateAPIKey implements domain.APIKeyService.
func (s *APIKeyService) CreateAPIKey(ctx context.Context, k *domain.APIKey) error {
	_, err := s.insert(ctx, k, "rk_"+randomToken(24), false)
	return err
}

// EnsureAPIKey implements domain.APIKeyService.
func (s *APIKeyService) EnsureAPIKey(ctx context.Context, k *domain.APIKey, secret string) (bool, error) {
	return s.insert(ctx, k, secret, true)
}

func (s *APIKeyService) insert(ctx context.Context, k *domain.APIKey, secret string, ifAbsent bool) (bool, error) {
	if err := k.Validate(); err != nil {
		return false, err
	}
	k.ID, k.CreatedAt = s.db.newID("key"), s.db.now()
	k.Prefix = secret[:min(len(secret), 7)]
	row := apiKeyRow{ID: k.ID, Name: k.Name, Digest: digest(secret), Prefix: k.Prefix, Scopes: strings.Join(k.Scopes, ","), CreatedAt: k.CreatedAt}
	created := true
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		if ifAbsent {
			var n int64
			if err := tx.Model(&apiKeyRow{}).Where("digest = ?", row.Digest).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				created = false
				return nil
			}
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return false, err
	}
	k.Secret = secret
	return created, nil
}

// CountAPIKeys implements domain.APIKeyService.
func (s *APIKeyService) CountAPIKeys(ctx context.Context) (int, error) {
	var n int64
	err := s.db.reader(ctx).Model(&apiKeyRow{}).Where("revoked_at IS NULL").Count(&n).Error
	return int(n), translate(err)
}

// Authenticate implements domain.APIKeyService.
func (s *APIKeyService) Authenticate(ctx context.Context, secret string) (*domain.APIKey, error) {
	d := digest(secret)
	var row apiKeyRow
	err := s.db.reader(ctx).Raw("SELECT id, name, digest, prefix, scopes, created_at, revoked_at FROM api_keys WHERE digest = ?", d).
		Row().Scan(&row.ID, &row.Name, &row.Digest, &row.Prefix, &row.Scopes, &row.CreatedAt, &row.RevokedAt)
	if errors.Is(err, sql.ErrNoRows) {
		err = gorm.ErrRecordNotFound
	}
	if err != nil || subtle.ConstantTimeCompare([]byte(row.Digest), []byte(d)) != 1 {
		if err != nil && domain.ErrorCode(translate(err)) != domain.ENOTFOUND {
			return nil, translate(err)
		}
		return nil, domain.Errorf(domain.EUNAUTHORIZED, "invalid API key")
	}
	if row.RevokedAt != nil {
		return nil, domain.Errorf(domain.EUNAUTHORIZED, "API key %s was revoked", row.ID)
	}
	k := row.toDomain()
	return &k, nil
}

// FindAPIKeys implements domain.APIKeyService.
func (s *APIKeyService) FindAPIKeys(ctx context.Context, p domain.PageParams) (domain.Page[domain.APIKey], error) {
	var rows []apiKeyRow
	if err := page(s.db.reader(ctx).Model(&apiKeyRow{}), p).Find(&rows).Error; err != nil {
		return domain.Page[domain.APIKey]{}, translate(err)
	}
	return finishPage(rows, p, (*apiKeyRow).toDomain), nil
}

// RevokeAPIKey implements domain.APIKeyService.
func (s *APIKeyService) RevokeAPIKey(ctx context.Context, id string) (*domain.APIKey, error) {
	var out domain.APIKey
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		var row apiKeyRow
		if err := tx.Take(&row, "id = ?", id).Error; err != nil {
			if domain.ErrorCode(translate(err)) == domain.ENOTFOUND {
				return domain.Errorf(domain.ENOTFOUND, "API key %s not found", id)
			}
			return err
		}
		if row.RevokedAt == nil {
			now := s.db.now()
			row.RevokedAt = &now
			if err := tx.Model(&row).Update("revoked_at", now).Error; err != nil {
				return err
			}
		}
		out = row.toDomain()
		return nil
	})
	return &out, err
}
