package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/remit/remit/domain"
)

// emailDeliveryRow is the email_deliveries table.
type emailDeliveryRow struct {
	ID             string
	OutboxID       string
	EventID        string
	EventType      string
	ClientID       string
	Recipient      string
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	FirstAttemptAt *time.Time
	LastAttemptAt  *time.Time
	LastStatusCode int
	LastError      string
	CreatedAt      time.Time `gorm:"autoCreateTime:false"`
	DeliveredAt    *time.Time
}

func (emailDeliveryRow) TableName() string { return "email_deliveries" }

func (r *emailDeliveryRow) toDomain() domain.EmailDelivery {
	d := domain.EmailDelivery{
		ID: r.ID, EventID: r.EventID, EventType: r.EventType, ClientID: r.ClientID, Recipient: r.Recipient,
		Status: r.Status, Attempts: r.Attempts, FirstAttemptAt: utcPtr(r.FirstAttemptAt), LastAttemptAt: utcPtr(r.LastAttemptAt),
		LastStatusCode: r.LastStatusCode, LastError: r.LastError, CreatedAt: r.CreatedAt.UTC(), DeliveredAt: utcPtr(r.DeliveredAt),
	}
	if r.Status == domain.DeliveryPending {
		next := r.NextAttemptAt.UTC()
		d.NextAttemptAt = &next
	}
	return d
}

// toDomain returns the message of an outbox row and its event.
func (r *outboxRow) toDomain(ev *eventRow) (domain.OutboxMessage, error) {
	payload, err := ev.envelope()
	m := domain.OutboxMessage{ID: r.ID, EventID: r.EventID, Type: r.Type, ClientID: r.ClientID, Payload: payload, CreatedAt: r.CreatedAt.UTC()}
	if r.InvoiceID != nil {
		m.InvoiceID = *r.InvoiceID
	}
	return m, err
}

// Limits on what an attempt's result may store.
const (
	maxErrorLen   = 1000
	maxExcerptLen = 1024
)

// OutboxService implements domain.OutboxService.
type OutboxService struct {
	db *DB
	// BusinessEmail receives the e-mail of events for the business
	// (domain.ForBusiness), such as payment.unapplied; "": none is mailed.
	BusinessEmail string
}

// NewOutboxService returns the outbox service on db.
func NewOutboxService(db *DB) *OutboxService { return &OutboxService{db: db} }

// Enqueue implements domain.OutboxService.
func (s *OutboxService) Enqueue(ctx context.Context, typ, clientID, invoiceID string, data any) (*domain.OutboxMessage, error) {
	f := domain.FieldErrors{}
	if typ == "" {
		f.Add("type", "is required")
	}
	if clientID == "" {
		f.Add("client_id", "is required")
	}
	raw, err := json.Marshal(data)
	if err != nil {
		f.Add("data", "must be JSON")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	var out *domain.OutboxMessage
	err = s.db.tx(ctx, func(tx *gorm.DB) error {
		m, err := s.db.enqueue(ctx, tx, typ, clientID, invoiceID, raw)
		out = m
		return err
	})
	return out, err
}

// enqueue writes an audit event and its outbox row in tx and returns the
// outbox message.
func (db *DB) enqueue(ctx context.Context, tx *gorm.DB, typ, clientID, invoiceID string, data json.RawMessage) (*domain.OutboxMessage, error) {
	ev, row, err := db.notice(ctx, tx, typ, clientID, invoiceID, data)
	if err != nil {
		return nil, err
	}
	m, err := row.toDomain(&ev)
	return &m, err
}

// notice writes an audit event and its outbox row in tx (on PostgreSQL in
// one statement) and returns both.
func (db *DB) notice(ctx context.Context, tx *gorm.DB, typ, clientID, invoiceID string, data json.RawMessage) (eventRow, outboxRow, error) {
	ev := db.newEvent(ctx, typ, clientID, invoiceID, data)
	row := outboxRow{ID: db.newID("obx"), EventID: ev.ID, Type: typ, ClientID: clientID, InvoiceID: ev.InvoiceID, CreatedAt: ev.CreatedAt}
	if db.dialect == Postgres {
		_, err := rawExec(tx, noticeSQL, append(ev.values(), row.values()...)...)
		return ev, row, err
	}
	if _, err := rawExec(tx, valuesSQL("events", eventCols, 1), ev.values()...); err != nil {
		return ev, row, err
	}
	_, err := rawExec(tx, valuesSQL("outbox", outboxCols, 1), row.values()...)
	return ev, row, err
}

// noticeSQL writes an event and its outbox row in one PostgreSQL statement.
var noticeSQL = "WITH e AS (" + valuesSQL("events", eventCols, 1) + ") " + valuesSQL("outbox", outboxCols, 1)

// skipLocked makes a SELECT on PostgreSQL lock the rows it returns and pass
// over rows another transaction holds, so replicas claim disjoint batches.
// SQLite needs nothing: its one writer runs write transactions one at a time.
func (db *DB) skipLocked(q *gorm.DB) *gorm.DB {
	if db.dialect == Postgres {
		return q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	return q
}

// FanOut implements domain.OutboxService.
func (s *OutboxService) FanOut(ctx context.Context, limit int, email bool) (int, error) {
	n := 0
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		var rows []outboxRow
		q := tx.Model(&outboxRow{}).Where("processed_at IS NULL").Order("id").Limit(limit)
		if err := s.db.skipLocked(q).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		var endpointRows []webhookEndpointRow
		if err := tx.Where("enabled = ?", true).Order("id").Find(&endpointRows).Error; err != nil {
			return err
		}
		endpoints := make([]domain.WebhookEndpoint, len(endpointRows))
		for i := range endpointRows {
			endpoints[i] = endpointRows[i].toDomain()
		}
		addresses := map[string]string{}
		if email {
			var err error
			if addresses, err = clientAddresses(tx, rows); err != nil {
				return err
			}
		}
		now := s.db.now()
		var hooks []webhookDeliveryRow
		var mails []emailDeliveryRow
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
			for _, e := range endpoints {
				if e.Wants(r.Type) {
					hooks = append(hooks, webhookDeliveryRow{ID: s.db.newID("whd"), EndpointID: e.ID, OutboxID: r.ID,
						EventID: r.EventID, EventType: r.Type, Status: domain.DeliveryPending, NextAttemptAt: now, CreatedAt: now})
				}
			}
			to := addresses[r.ClientID]
			if domain.ForBusiness(r.Type) {
				to = s.BusinessEmail
				if !email {
					to = ""
				}
			}
			if to != "" && (domain.EmailedEventType(r.Type) || domain.ForBusiness(r.Type)) {
				mails = append(mails, emailDeliveryRow{ID: s.db.newID("eml"), OutboxID: r.ID, EventID: r.EventID,
					EventType: r.Type, ClientID: r.ClientID, Recipient: to, Status: domain.DeliveryPending, NextAttemptAt: now, CreatedAt: now})
			}
		}
		// The unique keys (endpoint_id, event_id) and (event_id, recipient)
		// make a second fan-out of the same event a no-op.
		if len(hooks) > 0 {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(hooks, 200).Error; err != nil {
				return err
			}
		}
		if len(mails) > 0 {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(mails, 200).Error; err != nil {
				return err
			}
		}
		n = len(rows)
		return tx.Model(&outboxRow{}).Where("id IN ?", ids).Update("processed_at", now).Error
	})
	return n, err
}

// clientAddresses returns the e-mail address of each client the rows concern.
func clientAddresses(tx *gorm.DB, rows []outboxRow) (map[string]string, error) {
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ClientID)
	}
	var clients []struct{ ID, Email string }
	if err := tx.Table("clients").Select("id, email").Where("id IN ?", ids).Find(&clients).Error; err != nil {
		return nil, err
	}
	out := make(map[string]string, len(clients))
	for _, c := range clients {
		out[c.ID] = c.Email
	}
	return out, nil
}

// claimDue claims up to limit pending deliveries of R's table whose next
// attempt is due, oldest first, and moves their next attempt lease ahead so
// no other claimer takes them while they are being sent. A claimer that dies
// leaves them due again when the lease ends.
func claimDue[R any](db *DB, tx *gorm.DB, limit int, lease time.Duration, id func(*R) string) ([]R, error) {
	now := db.now()
	var rows []R
	q := tx.Model(new(R)).Where("status = ? AND next_attempt_at <= ?", domain.DeliveryPending, now).
		Order("next_attempt_at, id").Limit(limit)
	if err := db.skipLocked(q).Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, err
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = id(&rows[i])
	}
	err := tx.Model(new(R)).Where("id IN ?", ids).Update("next_attempt_at", now.Add(lease)).Error
	return rows, err
}

// messages returns the outbox rows with the ids, by id, each with the
// envelope of its event.
func messages(tx *gorm.DB, ids []string) (map[string]domain.OutboxMessage, error) {
	var rows []outboxRow
	if err := tx.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	eventIDs := make([]string, len(rows))
	for i := range rows {
		eventIDs[i] = rows[i].EventID
	}
	var events []eventRow
	if err := tx.Where("id IN ?", eventIDs).Find(&events).Error; err != nil {
		return nil, err
	}
	byID := make(map[string]*eventRow, len(events))
	for i := range events {
		byID[events[i].ID] = &events[i]
	}
	out := make(map[string]domain.OutboxMessage, len(rows))
	for i := range rows {
		ev := byID[rows[i].EventID]
		if ev == nil {
			return nil, fmt.Errorf("outbox row %s: event %s is missing", rows[i].ID, rows[i].EventID)
		}
		m, err := rows[i].toDomain(ev)
		if err != nil {
			return nil, err
		}
		out[rows[i].ID] = m
	}
	return out, nil
}

// ClaimWebhookJobs implements domain.OutboxService.
func (s *OutboxService) ClaimWebhookJobs(ctx context.Context, limit int, lease time.Duration) ([]domain.WebhookJob, error) {
	var jobs []domain.WebhookJob
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		jobs = nil // a retried claim starts afresh
		rows, err := claimDue(s.db, tx, limit, lease, func(r *webhookDeliveryRow) string { return r.ID })
		if err != nil || len(rows) == 0 {
			return err
		}
		var outboxIDs, endpointIDs []string
		for _, r := range rows {
			outboxIDs, endpointIDs = append(outboxIDs, r.OutboxID), append(endpointIDs, r.EndpointID)
		}
		msgs, err := messages(tx, outboxIDs)
		if err != nil {
			return err
		}
		var endpoints []webhookEndpointRow
		if err := tx.Where("id IN ?", endpointIDs).Find(&endpoints).Error; err != nil {
			return err
		}
		byID := make(map[string]*webhookEndpointRow, len(endpoints))
		for i := range endpoints {
			byID[endpoints[i].ID] = &endpoints[i]
		}
		now := s.db.now()
		for i := range rows {
			e := byID[rows[i].EndpointID]
			if !e.Enabled {
				continue // disabled: the delivery waits, leased, until the endpoint is enabled again
			}
			j := domain.WebhookJob{Delivery: rows[i].toDomain(), URL: e.URL, Secret: e.Secret, Message: msgs[rows[i].OutboxID]}
			if e.PreviousSecretExpiresAt != nil && now.Before(*e.PreviousSecretExpiresAt) {
				j.PreviousSecret = e.PreviousSecret
			}
			jobs = append(jobs, j)
		}
		return nil
	})
	return jobs, err
}

// ClaimEmailJobs implements domain.OutboxService.
func (s *OutboxService) ClaimEmailJobs(ctx context.Context, limit int, lease time.Duration) ([]domain.EmailJob, error) {
	var jobs []domain.EmailJob
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		jobs = nil // a retried claim starts afresh
		rows, err := claimDue(s.db, tx, limit, lease, func(r *emailDeliveryRow) string { return r.ID })
		if err != nil || len(rows) == 0 {
			return err
		}
		var outboxIDs []string
		for _, r := range rows {
			outboxIDs = append(outboxIDs, r.OutboxID)
		}
		msgs, err := messages(tx, outboxIDs)
		if err != nil {
			return err
		}
		for i := range rows {
			jobs = append(jobs, domain.EmailJob{Delivery: rows[i].toDomain(), Message: msgs[rows[i].OutboxID]})
		}
		return nil
	})
	return jobs, err
}

// RecordWebhookAttempt implements domain.OutboxService.
func (s *OutboxService) RecordWebhookAttempt(ctx context.Context, deliveryID string, a domain.DeliveryAttempt) error {
	set := attemptUpdates(a)
	set["response_excerpt"] = clip(a.ResponseExcerpt, maxExcerptLen)
	return s.recordAttempt(ctx, &webhookDeliveryRow{}, "webhook", deliveryID, set)
}

// RecordEmailAttempt implements domain.OutboxService.
func (s *OutboxService) RecordEmailAttempt(ctx context.Context, deliveryID string, a domain.DeliveryAttempt) error {
	return s.recordAttempt(ctx, &emailDeliveryRow{}, "e-mail", deliveryID, attemptUpdates(a))
}

// recordAttempt applies set to the pending delivery of model's table.
func (s *OutboxService) recordAttempt(ctx context.Context, model any, what, id string, set map[string]any) error {
	// One UPDATE is atomic on its own. Only a pending delivery changes, so a
	// late result from a claimer whose lease ran out cannot undo a success.
	res := s.db.writer(ctx).Model(model).Where("id = ? AND status = ?", id, domain.DeliveryPending).Updates(set)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return domain.Errorf(domain.ENOTFOUND, "no pending %s delivery %s", what, id)
	}
	return nil
}

// attemptUpdates returns the columns an attempt's result sets.
func attemptUpdates(a domain.DeliveryAttempt) map[string]any {
	at := a.At.UTC().Truncate(time.Microsecond)
	set := map[string]any{
		"attempts":         gorm.Expr("attempts + 1"),
		"first_attempt_at": gorm.Expr("COALESCE(first_attempt_at, ?)", at),
		"last_attempt_at":  at,
		"last_status_code": a.StatusCode,
		"last_error":       clip(a.Error, maxErrorLen),
	}
	switch {
	case a.Delivered:
		set["status"], set["delivered_at"], set["last_error"] = domain.DeliverySucceeded, at, ""
	case a.NextAttemptAt.IsZero():
		set["status"] = domain.DeliveryFailed
	default:
		set["next_attempt_at"] = a.NextAttemptAt.UTC().Truncate(time.Microsecond)
	}
	return set
}

// clip makes s storable text of at most max bytes: valid UTF-8 without NUL
// (PostgreSQL refuses it in TEXT), cut at a character boundary.
func clip(s string, max int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
