package store

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// eventRow is the events table: the audit trail.
type eventRow struct {
	ID         string
	Type       string
	ClientID   string
	InvoiceID  *string
	Actor      string
	ActorKeyID string
	Data       string
	CreatedAt  time.Time
}

func (eventRow) TableName() string { return "events" }

// eventCols are the events table's columns in the order of eventRow.values.
var eventCols = []string{"id", "type", "client_id", "invoice_id", "actor", "actor_key_id", "data", "created_at"}

func (r *eventRow) values() []any {
	return []any{r.ID, r.Type, r.ClientID, nullable(r.InvoiceID), r.Actor, r.ActorKeyID, r.Data, r.CreatedAt}
}

func (r *eventRow) toDomain() domain.Event {
	e := domain.Event{ID: r.ID, Type: r.Type, ClientID: r.ClientID, Actor: r.Actor, ActorKey: r.ActorKeyID,
		Data: json.RawMessage(r.Data), CreatedAt: r.CreatedAt.UTC()}
	if r.InvoiceID != nil {
		e.InvoiceID = *r.InvoiceID
	}
	return e
}

// outboxRow is the outbox table: notices waiting to be delivered.
type outboxRow struct {
	ID        string
	EventID   string
	Type      string
	ClientID  string
	InvoiceID *string
	CreatedAt time.Time
}

func (outboxRow) TableName() string { return "outbox" }

// outboxCols are the outbox table's columns as the hot paths insert them.
var outboxCols = []string{"id", "event_id", "type", "client_id", "invoice_id", "created_at"}

func (r *outboxRow) values() []any {
	return []any{r.ID, r.EventID, r.Type, r.ClientID, nullable(r.InvoiceID), r.CreatedAt}
}

// envelope is the JSON sent for an event: the webhook body, the e-mail's
// source. It is built from the event row whenever a notice goes out.
func (r *eventRow) envelope() (json.RawMessage, error) {
	e := Envelope{ID: r.ID, Type: r.Type, Created: r.CreatedAt.UTC(), ClientID: r.ClientID, Data: json.RawMessage(r.Data)}
	if r.InvoiceID != nil {
		e.Invoice = *r.InvoiceID
	}
	return json.Marshal(e)
}

// Envelope is the JSON of an outgoing event (webhook body, e-mail source).
type Envelope struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	Created  time.Time `json:"created"`
	ClientID string    `json:"client_id"`
	Invoice  string    `json:"invoice_id,omitempty"`
	Data     any       `json:"data"`
}

// emit writes an audit event in tx, and when notify is set also an outbox
// row, so the notice is sent if and only if the change commits.
func (db *DB) emit(ctx context.Context, tx *gorm.DB, typ, clientID, invoiceID string, data any, notify bool) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if notify {
		_, _, err := db.notice(ctx, tx, typ, clientID, invoiceID, raw)
		return err
	}
	ev := db.newEvent(ctx, typ, clientID, invoiceID, raw)
	_, err = rawExec(tx, valuesSQL("events", eventCols, 1), ev.values()...)
	return err
}

// insertWithEvent runs the INSERT statement write (? placeholders, args)
// and writes an audit event without a notice beside it: on PostgreSQL in
// one statement.
func (db *DB) insertWithEvent(ctx context.Context, tx *gorm.DB, write string, args []any, typ, clientID, invoiceID string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	ev := db.newEvent(ctx, typ, clientID, invoiceID, raw)
	if db.dialect == Postgres {
		_, err := rawExec(tx, "WITH w AS ("+write+") "+valuesSQL("events", eventCols, 1), append(slices.Clip(args), ev.values()...)...)
		return err
	}
	if _, err := rawExec(tx, write, args...); err != nil {
		return err
	}
	_, err = rawExec(tx, valuesSQL("events", eventCols, 1), ev.values()...)
	return err
}

// newEvent returns an audit event row of the request's actor, not yet
// written; data is its JSON (nil: filled in by the caller).
func (db *DB) newEvent(ctx context.Context, typ, clientID, invoiceID string, data []byte) eventRow {
	actor := domain.ActorFrom(ctx)
	ev := eventRow{ID: db.newID("evt"), Type: typ, ClientID: clientID, Actor: actor.Name, ActorKeyID: actor.KeyID,
		Data: string(data), CreatedAt: db.now()}
	if invoiceID != "" {
		ev.InvoiceID = &invoiceID
	}
	return ev
}

// pageAsc applies keyset pagination in ascending id order.
func pageAsc(q *gorm.DB, p domain.PageParams) *gorm.DB {
	if p.StartingAfter != "" {
		q = q.Where("id > ?", p.StartingAfter)
	}
	return q.Order("id ASC").Limit(p.Limit + 1)
}

// dateCol stores a date as YYYY-MM-DD text, or NULL when unset.
func dateCol(d domain.Date) *string {
	if d.IsZero() {
		return nil
	}
	s := d.String()
	return &s
}

// dateOf reads a date column; a NULL or unreadable value is the zero date.
func dateOf(s *string) domain.Date {
	if s == nil {
		return domain.Date{}
	}
	d, err := domain.ParseDate(*s)
	if err != nil {
		return domain.Date{}
	}
	return d
}
