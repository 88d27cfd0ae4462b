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
	if err := k.Validate(); err != nil {
		return err
	}
	secret := "rk_" + randomToken(24)
	row := s.newRow(k, secret)
	if err := s.db.tx(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error }); err != nil {
		return err
	}
	k.Secret = secret
	return nil
}

// EnsureAPIKey implements domain.APIKeyService.
func (s *APIKeyService) EnsureAPIKey(ctx context.Context, k *domain.APIKey, secret string) (domain.KeyEnsured, error) {
	if err := k.Validate(); err != nil {
		return "", err
	}
	row := s.newRow(k, secret)
	scopes := row.Scopes
	outcome := domain.KeyCreated
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		var existing apiKeyRow
		err := forUpdate(tx).Take(&existing, "digest = ?", row.Digest).Error
		if domain.ErrorCode(translate(err)) == domain.ENOTFOUND {
			return tx.Create(&row).Error
		}
		if err != nil {
			return err
		}
		row, outcome = existing, domain.KeyExisted
		if existing.RevokedAt == nil && existing.Scopes == scopes {
			return nil
		}
		outcome = domain.KeyReactivated
		row.RevokedAt, row.Scopes = nil, scopes
		if err := tx.Model(&apiKeyRow{}).Where("id = ?", existing.ID).
			Updates(map[string]any{"revoked_at": nil, "scopes": scopes}).Error; err != nil {
			return err
		}
		return keyChanged(tx, existing.ID)
	})
	if err != nil {
		return "", err
	}
	if outcome == domain.KeyReactivated {
		s.db.afterCommit(ctx, s.db.keys.invalidate)
	}
	*k = row.toDomain()
	k.Secret = secret
	return outcome, nil
}

// newRow gives k an id, a creation time and the prefix of secret, and
// returns its row, which stores only the secret's digest.
func (s *APIKeyService) newRow(k *domain.APIKey, secret string) apiKeyRow {
	k.ID, k.CreatedAt = s.db.newID("key"), s.db.now()
	k.Prefix = secret[:min(len(secret), 7)]
	return apiKeyRow{ID: k.ID, Name: k.Name, Digest: digest(secret), Prefix: k.Prefix, Scopes: strings.Join(k.Scopes, ","), CreatedAt: k.CreatedAt}
}

// CountAPIKeys implements domain.APIKeyService.
func (s *APIKeyService) CountAPIKeys(ctx context.Context) (int, error) {
	var n int64
	err := s.db.reader(ctx).Model(&apiKeyRow{}).Where("revoked_at IS NULL").Count(&n).Error
	return int(n), translate(err)
}

// Authenticate implements domain.APIKeyService. A live key that
// authenticated recently is answered from memory (see keyCache); a change
// to a key takes effect at once on every replica all the same.
func (s *APIKeyService) Authenticate(ctx context.Context, secret string) (*domain.APIKey, error) {
	d := digest(secret)
	if s.db.dialect == Postgres {
		s.db.listenForKeyChanges()
	}
	// The cache's expiry is the process's own time, not the business
	// clock (which REMIT_NOW may pin).
	now := time.Now()
	cached, gen := s.db.keys.get(d, now)
	if cached != nil {
		return cached, nil
	}
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
	if _, inTx := ctx.Value(txKey{}).(*gorm.DB); !inTx {
		s.db.keys.put(d, k, gen, now)
	}
	return &k, nil
}

// keyChanged announces, in tx, that a key was revoked or re-activated or
// its scopes changed: on PostgreSQL every replica's listener hears it when
// tx commits (see keyCache).
func keyChanged(tx *gorm.DB, id string) error {
	if tx.Dialector.Name() != Postgres {
		return nil
	}
	_, err := rawExec(tx, "SELECT pg_notify(?, ?)", keyChannel, id)
	return err
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
			if err := lastAdminCheck(tx, row); err != nil {
				return err
			}
			now := s.db.now()
			row.RevokedAt = &now
			if err := tx.Model(&row).Update("revoked_at", now).Error; err != nil {
				return err
			}
			if err := keyChanged(tx, row.ID); err != nil {
				return err
			}
		}
		out = row.toDomain()
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.db.afterCommit(ctx, s.db.keys.invalidate)
	return &out, nil
}

// lastAdminCheck refuses to revoke row when it is the last live admin key.
// The live admin keys are locked on PostgreSQL, so two revocations of the
// last two cannot both pass (SQLite has one writer).
func lastAdminCheck(tx *gorm.DB, row apiKeyRow) error {
	if k := row.toDomain(); !k.Allows(domain.ScopeAdmin) {
		return nil
	}
	var live []apiKeyRow
	if err := forUpdate(tx).Where("revoked_at IS NULL").Order("id").Find(&live).Error; err != nil {
		return err
	}
	for _, other := range live {
		if k := other.toDomain(); other.ID != row.ID && k.Allows(domain.ScopeAdmin) {
			return nil
		}
	}
	return domain.Conflictf(domain.ELASTADMINKEY,
		"API key %s is the last live admin key; create another admin key first (REMIT_ADMIN_KEY at start also restores one)", row.ID)
}
