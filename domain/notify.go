package domain

import (
	"context"
	"encoding/json"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Outgoing event types: what Remit tells other tools (webhooks) and clients
// (e-mail) about.
const (
	EventInvoiceIssued           = "invoice.issued"
	EventInvoiceOverdue          = "invoice.overdue"
	EventInvoiceReminder         = "invoice.reminder"
	EventInvoicePaid             = "invoice.paid"
	EventChargePosted            = "charge.posted"
	EventChargeAdjusted          = "charge.adjusted"
	EventClientSuspensionWarning = "client.suspension_warning"
	EventClientSuspended         = "client.suspended"
	EventClientReinstated        = "client.reinstated"
	EventAgreementNotice         = "agreement.notice"
	EventMilestonePaid           = "milestone.paid"
	EventMilestoneUnlocked       = "milestone.unlocked"
	EventClientOffboarded        = "client.offboarded"
	// EventPaymentReallocated is an audit event (not sent): a payment's
	// allocation changed because a fact dated before it was recorded late.
	EventPaymentReallocated = "payment.reallocated"
	// Sent to webhooks only (no e-mail to the client).
	EventMilestoneClientDelayInvoiced = "milestone.client_delay_invoiced"
	EventMilestoneReopened            = "milestone.reopened"
	EventInvoiceDisputeOpened         = "invoice.dispute_opened"
	EventInvoiceDisputeClosed         = "invoice.dispute_closed"
	EventCreditNoteIssued             = "credit_note.issued"
	// EventPaymentReceived: a payment that leaves part of the invoice to
	// pay (the client gets a receipt).
	EventPaymentReceived = "payment.received"
	// EventAgreementAccepted: the client accepted a version on the account page.
	EventAgreementAccepted = "agreement.accepted"
	// EventAll in an endpoint's filter stands for every type.
	EventAll = "*"
)

// Limits on webhook endpoints and reference rates.
const (
	MaxWebhookURLLen         = 2048
	MaxWebhookDescriptionLen = 500
	MaxReferenceRate         = 1000 // percent, either sign
	MaxRatePointsPerSeries   = 10000
)

// emailEventTypes lists the outgoing event types the client is e-mailed
// about, in the order documents show them.
var emailEventTypes = []string{
	EventInvoiceIssued, EventInvoiceOverdue, EventInvoiceReminder, EventInvoicePaid,
	EventChargePosted, EventChargeAdjusted, EventClientSuspensionWarning, EventClientSuspended, EventClientReinstated,
	EventAgreementNotice, EventMilestonePaid, EventMilestoneUnlocked, EventClientOffboarded,
	EventPaymentUnapplied, EventPaymentReceived, EventInvoiceAutoChargeFailed,
}

// eventTypes lists every outgoing event type: those e-mailed, then those
// only webhooks receive.
var eventTypes = append(slices.Clone(emailEventTypes),
	EventMilestoneClientDelayInvoiced, EventMilestoneReopened, EventInvoiceDisputeOpened, EventInvoiceDisputeClosed,
	EventCreditNoteIssued, EventRecurringInvoiceIssued, EventRecurringInvoiceEnded, EventAgreementAccepted)

// ForBusiness reports whether events of type t are mailed to the business
// (REMIT_BUSINESS_EMAIL) rather than to the client they concern.
func ForBusiness(t string) bool { return t == EventPaymentUnapplied }

// EventTypes returns every outgoing event type.
func EventTypes() []string { return slices.Clone(eventTypes) }

// ValidEventType reports whether t is an outgoing event type (one a webhook
// endpoint may ask for).
func ValidEventType(t string) bool { return slices.Contains(eventTypes, t) }

// EmailedEventType reports whether the client is e-mailed about events of
// type t.
func EmailedEventType(t string) bool { return slices.Contains(emailEventTypes, t) }

// WebhookSecretPrefix starts every webhook endpoint secret.
const WebhookSecretPrefix = "whsec_"

// WebhookEndpoint is a URL that receives outgoing events, signed with its
// secret. The secret is shown once, in Secret, when the endpoint is created.
type WebhookEndpoint struct {
	ID          string `json:"id"`
	URL         string `json:"url"`
	Description string `json:"description"`
	// EnabledEvents are the event types sent to the endpoint, or ["*"] for all.
	EnabledEvents []string  `json:"enabled_events"`
	Enabled       bool      `json:"enabled"`
	CreatedAt     time.Time `json:"created_at"`
	// Secret is set only on the value returned by CreateWebhookEndpoint
	// (and RollWebhookSecret).
	Secret string `json:"secret,omitempty"`
	// SecretRedacted marks a replay of the creation (Idempotency-Key): the
	// secret was shown once, and a replay does not show it again.
	SecretRedacted bool `json:"secret_redacted,omitempty"`
	// PreviousSecretExpiresAt is set after a roll while the previous secret
	// still signs deliveries (beside the new one).
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
}

// WebhookSecretOverlap is how long the previous secret of an endpoint keeps
// signing deliveries after its secret is rolled: receivers have that long
// to switch to the new one.
const WebhookSecretOverlap = 24 * time.Hour

// WebhookEndpointUpdate holds what a PATCH may change; nil means unchanged.
type WebhookEndpointUpdate struct {
	URL           *string
	Description   *string
	EnabledEvents *[]string
	Enabled       *bool
}

// Apply changes e by the update and validates the result.
func (u WebhookEndpointUpdate) Apply(e *WebhookEndpoint) error {
	set(&e.URL, u.URL)
	set(&e.Description, u.Description)
	if u.EnabledEvents != nil {
		e.EnabledEvents = *u.EnabledEvents
	}
	set(&e.Enabled, u.Enabled)
	return e.Validate()
}

// Validate checks the URL (http or https with a host), the description and
// the event filter, naming each bad field.
func (e *WebhookEndpoint) Validate() error {
	f := FieldErrors{}
	if e.URL == "" {
		f.Add("url", "is required")
	} else if u, err := url.Parse(e.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") ||
		u.Hostname() == "" || u.Opaque != "" || len(e.URL) > MaxWebhookURLLen {
		f.Add("url", "must be an http:// or https:// URL with a host, at most %d characters", MaxWebhookURLLen)
	} else if u.User != nil {
		f.Add("url", "must not contain a user name or password; the signature authenticates Remit")
	} else if u.Fragment != "" {
		f.Add("url", "must not contain a #fragment")
	}
	checkLines(f, "description", e.Description, MaxWebhookDescriptionLen, false)
	switch {
	case len(e.EnabledEvents) == 0:
		f.Add("enabled_events", `is required: a list of event types, or ["*"] for all`)
	case slices.Contains(e.EnabledEvents, EventAll) && len(e.EnabledEvents) > 1:
		f.Add("enabled_events", `"*" stands for every type and must be alone`)
	}
	for i, t := range e.EnabledEvents {
		if t != EventAll && !ValidEventType(t) {
			f.Add("enabled_events["+strconv.Itoa(i)+"]", "unknown event type %q: use one of %s, or \"*\"", t, strings.Join(eventTypes, ", "))
		}
		if slices.Index(e.EnabledEvents, t) < i {
			f.Add("enabled_events["+strconv.Itoa(i)+"]", "%q is listed twice", t)
		}
	}
	return f.Err()
}

// Wants reports whether the endpoint is enabled and its filter takes events
// of type t.
func (e *WebhookEndpoint) Wants(t string) bool {
	return e.Enabled && (slices.Contains(e.EnabledEvents, EventAll) || slices.Contains(e.EnabledEvents, t))
}

// Delivery statuses, of webhooks and e-mails alike.
const (
	DeliveryPending   = "pending"   // waiting for its first or next attempt
	DeliverySucceeded = "succeeded" // the receiver took it
	DeliveryFailed    = "failed"    // every attempt failed; Remit gave up
)

// ValidDeliveryStatus reports whether s is a delivery status.
func ValidDeliveryStatus(s string) bool {
	return s == DeliveryPending || s == DeliverySucceeded || s == DeliveryFailed
}

// WebhookDelivery is one event sent (or being sent) to one endpoint, with
// the result of its latest attempt.
type WebhookDelivery struct {
	ID             string     `json:"id"`
	EndpointID     string     `json:"endpoint_id"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	FirstAttemptAt *time.Time `json:"first_attempt_at"`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	// LastStatusCode is the HTTP status of the latest attempt; 0 when it got none.
	LastStatusCode int    `json:"last_status_code"`
	LastError      string `json:"last_error"`
	// ResponseExcerpt is the start of the receiver's latest response body.
	ResponseExcerpt string     `json:"response_excerpt"`
	CreatedAt       time.Time  `json:"created_at"`
	DeliveredAt     *time.Time `json:"delivered_at"`
}

// EmailDelivery is one event mailed (or being mailed) to a client's address.
type EmailDelivery struct {
	ID             string     `json:"id"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type"`
	ClientID       string     `json:"client_id"`
	Recipient      string     `json:"recipient"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	FirstAttemptAt *time.Time `json:"first_attempt_at"`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	// LastStatusCode is the SMTP reply code of the latest attempt; 0 when it got none.
	LastStatusCode int        `json:"last_status_code"`
	LastError      string     `json:"last_error"`
	CreatedAt      time.Time  `json:"created_at"`
	DeliveredAt    *time.Time `json:"delivered_at"`
}

// DeliveryFilter selects an endpoint's deliveries for a list.
type DeliveryFilter struct {
	Status string // "" for every status
	Page   PageParams
}

// WebhookService stores webhook endpoints and shows what was sent to them.
type WebhookService interface {
	// CreateWebhookEndpoint validates and stores an enabled endpoint with a
	// fresh secret (whsec_...), returned once in Secret. Returns EINVALID.
	CreateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error
	// FindWebhookEndpointByID returns the endpoint without its secret.
	// Returns ENOTFOUND.
	FindWebhookEndpointByID(ctx context.Context, id string) (*WebhookEndpoint, error)
	// FindWebhookEndpoints lists endpoints, newest first, without secrets.
	FindWebhookEndpoints(ctx context.Context, p PageParams) (Page[WebhookEndpoint], error)
	// FindWebhookDeliveries lists an endpoint's deliveries, newest first.
	// Returns ENOTFOUND when the endpoint does not exist.
	FindWebhookDeliveries(ctx context.Context, endpointID string, f DeliveryFilter) (Page[WebhookDelivery], error)
	// FindEmailDeliveries lists the e-mails to a client, newest first: each
	// with its attempts and, for a bounce, the server's refusal (a 5xx
	// last_status_code, status failed). Returns ENOTFOUND (client).
	FindEmailDeliveries(ctx context.Context, clientID string, f DeliveryFilter) (Page[EmailDelivery], error)
	// UpdateWebhookEndpoint changes the URL, description, event filter or
	// enabled flag. A disabled endpoint gets no new deliveries and its
	// pending ones wait until it is enabled again. Returns EINVALID, ENOTFOUND.
	UpdateWebhookEndpoint(ctx context.Context, id string, u WebhookEndpointUpdate) (*WebhookEndpoint, error)
	// DeleteWebhookEndpoint removes the endpoint: it is no longer listed or
	// sent to, and its pending deliveries fail. Returns ENOTFOUND.
	DeleteWebhookEndpoint(ctx context.Context, id string) (*WebhookEndpoint, error)
	// RollWebhookSecret gives the endpoint a fresh secret, returned once in
	// Secret; the current one keeps signing deliveries beside it for
	// WebhookSecretOverlap. Returns ENOTFOUND.
	RollWebhookSecret(ctx context.Context, id string) (*WebhookEndpoint, error)
}

// OutboxMessage is a notice in the outbox: an event to tell other tools and
// the client about. Payload is the full event JSON, the body of every
// webhook: {"id", "type", "created", "client_id", "invoice_id", "data"}.
type OutboxMessage struct {
	ID        string          `json:"id"`
	EventID   string          `json:"event_id"`
	Type      string          `json:"type"`
	ClientID  string          `json:"client_id"`
	InvoiceID string          `json:"invoice_id,omitempty"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt time.Time       `json:"created_at"`
}

// WebhookJob is a claimed webhook delivery with what sending it takes: the
// endpoint's URL and secret and the message.
type WebhookJob struct {
	Delivery WebhookDelivery
	URL      string
	Secret   string
	// PreviousSecret is the secret before the latest roll while it is in its
	// overlap ("" otherwise); the delivery is signed with both.
	PreviousSecret string
	Message        OutboxMessage
}

// EmailJob is a claimed e-mail delivery with its message.
type EmailJob struct {
	Delivery EmailDelivery
	Message  OutboxMessage
}

// DeliveryAttempt is the result of one attempt to deliver.
type DeliveryAttempt struct {
	At time.Time
	// Delivered is true when the receiver took the notice.
	Delivered bool
	// StatusCode is the HTTP status or SMTP reply code; 0 when there was none.
	StatusCode int
	// Error says why the attempt failed, for people.
	Error string
	// ResponseExcerpt is the start of the receiver's answer.
	ResponseExcerpt string
	// NextAttemptAt is when to try again after a failure; the zero time
	// means give up and mark the delivery failed.
	NextAttemptAt time.Time
}

// OutboxService moves notices from the outbox to their receivers: it fans
// outbox rows out into deliveries and hands due deliveries to the sender,
// each exactly once even with several replicas.
type OutboxService interface {
	// Enqueue records an event of type typ about the client (and invoice,
	// when not "") with data, and puts it in the outbox, in one
	// transaction. Returns EINVALID (no type or client, data not JSON).
	Enqueue(ctx context.Context, typ, clientID, invoiceID string, data any) (*OutboxMessage, error)
	// FanOut claims up to limit unprocessed outbox rows, oldest first, and
	// in one transaction creates a webhook delivery for every enabled
	// endpoint whose filter takes the event and, when email is set, an
	// e-mail delivery to the client's address for client-facing types; then
	// it marks the rows processed. Fanning out an event twice creates each
	// delivery once. It returns how many rows it processed.
	FanOut(ctx context.Context, limit int, email bool) (int, error)
	// ClaimWebhookJobs claims up to limit pending webhook deliveries whose
	// next attempt is due, hiding them from other claimers for lease.
	ClaimWebhookJobs(ctx context.Context, limit int, lease time.Duration) ([]WebhookJob, error)
	// RecordWebhookAttempt stores the result of an attempt on a pending
	// delivery. Returns ENOTFOUND when no pending delivery has the id.
	RecordWebhookAttempt(ctx context.Context, deliveryID string, a DeliveryAttempt) error
	// ClaimEmailJobs is ClaimWebhookJobs for e-mail deliveries.
	ClaimEmailJobs(ctx context.Context, limit int, lease time.Duration) ([]EmailJob, error)
	// RecordEmailAttempt is RecordWebhookAttempt for e-mail deliveries.
	// Returns ENOTFOUND.
	RecordEmailAttempt(ctx context.Context, deliveryID string, a DeliveryAttempt) error
}

// CheckSeries returns an ENOTFOUND error naming the known series unless
// name is one of them.
func CheckSeries(name string) error {
	if !ValidSeries(name) {
		return Errorf(ENOTFOUND, "unknown reference series %q: use %s, %s or %s", name, SeriesECBMRO, SeriesBOEBase, SeriesCBRKey)
	}
	return nil
}

// ValidateRatePoints checks the rows of a reference series as an admin sends
// them: each needs a date and a rate (a decimal string of percent, negative
// allowed, at most 1000 in size), dates must not repeat. Problems are named
// by field, such as rates[1].rate.
func ValidateRatePoints(points []RatePoint) error {
	f := FieldErrors{}
	if len(points) == 0 {
		f.Add("rates", "at least one row {effective_from, rate} is required")
	}
	if len(points) > MaxRatePointsPerSeries {
		f.Add("rates", "at most %d rows", MaxRatePointsPerSeries)
		return f.Err()
	}
	seen := map[Date]int{}
	for i, p := range points {
		field := "rates[" + strconv.Itoa(i) + "]"
		if p.EffectiveFrom.IsZero() {
			f.Add(field+".effective_from", "is required (YYYY-MM-DD)")
		} else if j, dup := seen[p.EffectiveFrom]; dup {
			f.Add(field+".effective_from", "%s is already the date of rates[%d]", p.EffectiveFrom, j)
		} else {
			seen[p.EffectiveFrom] = i
		}
		r, err := ParseReferenceRate(p.Rate)
		switch {
		case p.Rate == "":
			f.Add(field+".rate", "is required: a decimal string of percent such as \"2.15\"")
		case err != nil:
			f.Add(field+".rate", "%s", ErrorMessage(err))
		case new(big.Rat).Abs(r).Cmp(big.NewRat(MaxReferenceRate, 1)) > 0:
			f.Add(field+".rate", "must be between -%d and %d percent", MaxReferenceRate, MaxReferenceRate)
		}
	}
	return f.Err()
}

// ReferenceRateService stores reference rate series (docs/RULES.md section 8).
type ReferenceRateService interface {
	// PutRates replaces every row of series with points, atomically, and
	// returns the stored rows, oldest first. Returns ENOTFOUND for a series
	// Remit does not know, EINVALID for bad rows (see ValidateRatePoints).
	PutRates(ctx context.Context, series string, points []RatePoint) ([]RatePoint, error)
	// FindRates returns the rows of series, oldest first; none when nothing
	// is loaded. Returns ENOTFOUND for a series Remit does not know.
	FindRates(ctx context.Context, series string) ([]RatePoint, error)
	// RateTable returns every loaded series.
	RateTable(ctx context.Context) (RateTable, error)
}

// What started a billing run.
const (
	RunTriggerSchedule = "scheduler" // the scheduler's interval
	RunTriggerStart    = "start"     // the service started
	RunTriggerAPI      = "api"       // POST /v1/billing/run
)

// SkippedInvoice is an invoice a billing run left alone, and why (such as a
// reference rate that is not loaded).
type SkippedInvoice struct {
	InvoiceID string `json:"invoice_id"`
	// Kind is SkipPaused, SkipMissingRate or SkipFailed.
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// BillingRun is what one enforcement sweep did: the day it enforced
// (AsOf), what it posted, sent and changed, what it skipped and why.
type BillingRun struct {
	ID         string    `json:"id"`
	Trigger    string    `json:"trigger"`
	AsOf       Date      `json:"as_of"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	DurationMS int64     `json:"duration_ms"`

	InvoicesExamined int `json:"invoices_examined"`
	// Posted counts the charges posted, by kind.
	Posted             map[ChargeKind]int `json:"posted"`
	Reminders          int                `json:"reminders"`
	SuspensionWarnings int                `json:"suspension_warnings"`
	Suspensions        int                `json:"suspensions"`
	Reinstatements     int                `json:"reinstatements"`
	Skipped            []SkippedInvoice   `json:"skipped"`
	// SkippedByKind counts every invoice skipped, by kind, where Skipped
	// names only the first 100. Not stored: it feeds the metrics.
	SkippedByKind map[string]int `json:"-"`
	// Error is why the run stopped early; "" when it finished.
	Error string `json:"error"`
}

// ChargesPosted returns the number of charges posted, of every kind.
func (r *BillingRun) ChargesPosted() int {
	n := 0
	for _, c := range r.Posted {
		n += c
	}
	return n
}

// BillingRunService keeps the log of billing runs.
type BillingRunService interface {
	// RecordRun stores a finished run, setting its ID, and DurationMS from
	// StartedAt and FinishedAt when it is 0. Returns EINVALID (no trigger,
	// as-of date, start, or a finish before the start).
	RecordRun(ctx context.Context, r *BillingRun) error
	// FindRuns lists runs, newest first.
	FindRuns(ctx context.Context, p PageParams) (Page[BillingRun], error)
}

// EmailContext is what a client's e-mail states beyond its event, read when
// the mail is sent: whom to greet, what is due today, by when, how to pay
// and on what basis.
type EmailContext struct {
	// Greeting is the contact's name, else the client's.
	Greeting string
	// Language is the client's (Languages; "" is English).
	Language string
	Currency string
	// InvoiceNumber is the invoice the mail is about ("" for a client-wide notice).
	InvoiceNumber string
	// Owed: AmountDueToday is the payoff on AsOf (interest to that day
	// included): the invoice's, or for a client-wide notice the total of
	// the client's statement.
	Owed           bool
	AmountDueToday int64
	AsOf           Date
	// PayBy is the due date while it is still ahead; Overdue says it passed.
	PayBy   Date
	Overdue bool
	// PayURL is the hosted invoice page (or the account page); Bank the
	// transfer details; Reference what a transfer should quote.
	PayURL    string
	Bank      BankDetails
	Reference string
	// Kind is the client's (business or consumer), which some statutory
	// terms depend on.
	Kind string
	// Basis is what the terms rest on: the agreement version, or the law,
	// in the client's language.
	Basis string
	// Charge says what the charge a charge.posted or charge.adjusted mail
	// is about is, in the client's language ("" when unknown).
	Charge string
	// AcceptURL is the account page when a version awaits the client's acceptance.
	AcceptURL string
}
