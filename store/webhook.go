package store

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// webhookEndpointRow is the webhook_endpoints table.
type webhookEndpointRow struct {
	ID            string
	URL           string
	Description   string
	Secret        string
	EnabledEvents string // JSON array
	Enabled       bool
	CreatedAt     time.Time `gorm:"autoCreateTime:false"`
	// PreviousSecret signs deliveries beside Secret until
	// PreviousSecretExpiresAt, after a roll.
	PreviousSecret          string
	PreviousSecretExpiresAt *time.Time
	// DeletedAt hides a deleted endpoint (its deliveries still point at it).
	DeletedAt *time.Time
}

func (webhookEndpointRow) TableName() string { return "webhook_endpoints" }

// toDomain converts the row, leaving the secret out.
func (r *webhookEndpointRow) toDomain() domain.WebhookEndpoint {
	e := domain.WebhookEndpoint{ID: r.ID, URL: r.URL, Description: r.Description, Enabled: r.Enabled, CreatedAt: r.CreatedAt.UTC(),
		PreviousSecretExpiresAt: utcPtr(r.PreviousSecretExpiresAt)}
	// The column is written only from a validated list.
	_ = json.Unmarshal([]byte(r.EnabledEvents), &e.EnabledEvents)
	return e
}

// webhookDeliveryRow is the webhook_deliveries table.
type webhookDeliveryRow struct {
	ID              string
	EndpointID      string
	OutboxID        string
	EventID         string
	EventType       string
	Status          string
	Attempts        int
	NextAttemptAt   time.Time
	FirstAttemptAt  *time.Time
	LastAttemptAt   *time.Time
	LastStatusCode  int
	LastError       string
	ResponseExcerpt string
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
	DeliveredAt     *time.Time
}

func (webhookDeliveryRow) TableName() string { return "webhook_deliveries" }

func (r *webhookDeliveryRow) toDomain() domain.WebhookDelivery {
	d := domain.WebhookDelivery{
		ID: r.ID, EndpointID: r.EndpointID, EventID: r.EventID, EventType: r.EventType, Status: r.Status,
		Attempts: r.Attempts, FirstAttemptAt: utcPtr(r.FirstAttemptAt), LastAttemptAt: utcPtr(r.LastAttemptAt),
		LastStatusCode: r.LastStatusCode, LastError: r.LastError, ResponseExcerpt: r.ResponseExcerpt,
		CreatedAt: r.CreatedAt.UTC(), DeliveredAt: utcPtr(r.DeliveredAt),
	}
	if r.Status == domain.DeliveryPending {
		next := r.NextAttemptAt.UTC()
		d.NextAttemptAt = &next
	}
	return d
}

// utcPtr returns a copy of *t in UTC, or nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// WebhookService implements domain.WebhookService.
type WebhookService struct{ db *DB }

// NewWebhookService returns the webhook endpoint service on db.
func NewWebhookService(db *DB) *WebhookService { return &WebhookService{db: db} }

// CreateWebhookEndpoint implements domain.WebhookService.
func (s *WebhookService) CreateWebhookEndpoint(ctx context.Context, e *domain.WebhookEndpoint) error {
	if err := e.Validate(); err != nil {
		return err
	}
	events, err := json.Marshal(e.EnabledEvents)
	if err != nil {
		return err
	}
	e.ID, e.CreatedAt, e.Enabled = s.db.newID("whe"), s.db.now(), true
	e.Secret = domain.WebhookSecretPrefix + randomToken(24)
	row := webhookEndpointRow{ID: e.ID, URL: e.URL, Description: e.Description, Secret: e.Secret,
		EnabledEvents: string(events), Enabled: e.Enabled, CreatedAt: e.CreatedAt}
	// One INSERT is atomic on its own.
	return translate(s.db.writer(ctx).Create(&row).Error)
}

// FindWebhookEndpointByID implements domain.WebhookService.
func (s *WebhookService) FindWebhookEndpointByID(ctx context.Context, id string) (*domain.WebhookEndpoint, error) {
	row, err := findEndpoint(s.db.reader(ctx), id)
	if err != nil {
		return nil, err
	}
	e := row.toDomain()
	return &e, nil
}

// findEndpoint reads the endpoint unless it is deleted; on PostgreSQL
// within a write it locks the row.
func findEndpoint(tx *gorm.DB, id string) (*webhookEndpointRow, error) {
	var row webhookEndpointRow
	if err := tx.Take(&row, "id = ? AND deleted_at IS NULL", id).Error; err != nil {
		if err = translate(err); domain.ErrorCode(err) == domain.ENOTFOUND {
			return nil, domain.Errorf(domain.ENOTFOUND, "webhook endpoint %s not found", id)
		}
		return nil, err
	}
	return &row, nil
}

// UpdateWebhookEndpoint implements domain.WebhookService.
func (s *WebhookService) UpdateWebhookEndpoint(ctx context.Context, id string, u domain.WebhookEndpointUpdate) (*domain.WebhookEndpoint, error) {
	var out domain.WebhookEndpoint
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := findEndpoint(forUpdate(tx), id)
		if err != nil {
			return err
		}
		e := row.toDomain()
		if err := u.Apply(&e); err != nil {
			return err
		}
		events, err := json.Marshal(e.EnabledEvents)
		if err != nil {
			return err
		}
		out = e
		return tx.Model(&webhookEndpointRow{}).Where("id = ?", id).Updates(map[string]any{
			"url": e.URL, "description": e.Description, "enabled_events": string(events), "enabled": e.Enabled}).Error
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteWebhookEndpoint implements domain.WebhookService.
func (s *WebhookService) DeleteWebhookEndpoint(ctx context.Context, id string) (*domain.WebhookEndpoint, error) {
	var out domain.WebhookEndpoint
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := findEndpoint(forUpdate(tx), id)
		if err != nil {
			return err
		}
		now := s.db.now()
		if err := tx.Model(&webhookEndpointRow{}).Where("id = ?", id).
			Updates(map[string]any{"deleted_at": now, "enabled": false, "previous_secret": "", "previous_secret_expires_at": nil}).Error; err != nil {
			return err
		}
		if err := tx.Model(&webhookDeliveryRow{}).Where("endpoint_id = ? AND status = ?", id, domain.DeliveryPending).
			Updates(map[string]any{"status": domain.DeliveryFailed, "last_error": "the endpoint was deleted"}).Error; err != nil {
			return err
		}
		row.Enabled = false
		out = row.toDomain()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// RollWebhookSecret implements domain.WebhookService.
func (s *WebhookService) RollWebhookSecret(ctx context.Context, id string) (*domain.WebhookEndpoint, error) {
	var out domain.WebhookEndpoint
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := findEndpoint(forUpdate(tx), id)
		if err != nil {
			return err
		}
		expires := s.db.now().Add(domain.WebhookSecretOverlap)
		row.PreviousSecret, row.PreviousSecretExpiresAt = row.Secret, &expires
		row.Secret = domain.WebhookSecretPrefix + randomToken(24)
		if err := tx.Model(&webhookEndpointRow{}).Where("id = ?", id).Updates(map[string]any{
			"secret": row.Secret, "previous_secret": row.PreviousSecret, "previous_secret_expires_at": expires}).Error; err != nil {
			return err
		}
		out = row.toDomain()
		out.Secret = row.Secret
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// FindWebhookEndpoints implements domain.WebhookService.
func (s *WebhookService) FindWebhookEndpoints(ctx context.Context, p domain.PageParams) (domain.Page[domain.WebhookEndpoint], error) {
	var rows []webhookEndpointRow
	if err := page(s.db.reader(ctx).Model(&webhookEndpointRow{}).Where("deleted_at IS NULL"), p).Find(&rows).Error; err != nil {
		return domain.Page[domain.WebhookEndpoint]{}, translate(err)
	}
	return finishPage(rows, p, (*webhookEndpointRow).toDomain), nil
}

// FindWebhookDeliveries implements domain.WebhookService.
func (s *WebhookService) FindWebhookDeliveries(ctx context.Context, endpointID string, f domain.DeliveryFilter) (domain.Page[domain.WebhookDelivery], error) {
	if _, err := s.FindWebhookEndpointByID(ctx, endpointID); err != nil {
		return domain.Page[domain.WebhookDelivery]{}, err
	}
	q := s.db.reader(ctx).Model(&webhookDeliveryRow{}).Where("endpoint_id = ?", endpointID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var rows []webhookDeliveryRow
	if err := page(q, f.Page).Find(&rows).Error; err != nil {
		return domain.Page[domain.WebhookDelivery]{}, translate(err)
	}
	return finishPage(rows, f.Page, (*webhookDeliveryRow).toDomain), nil
}

// FindEmailDeliveries implements domain.WebhookService.
func (s *WebhookService) FindEmailDeliveries(ctx context.Context, clientID string, f domain.DeliveryFilter) (domain.Page[domain.EmailDelivery], error) {
	if _, err := findClient(s.db.reader(ctx), clientID); err != nil {
		return domain.Page[domain.EmailDelivery]{}, err
	}
	q := s.db.reader(ctx).Model(&emailDeliveryRow{}).Where("client_id = ?", clientID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var rows []emailDeliveryRow
	if err := page(q, f.Page).Find(&rows).Error; err != nil {
		return domain.Page[domain.EmailDelivery]{}, translate(err)
	}
	return finishPage(rows, f.Page, (*emailDeliveryRow).toDomain), nil
}
