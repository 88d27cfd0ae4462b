-- +goose Up
-- The outbox worker marks a row processed once it has fanned it out into
-- deliveries; pending rows are found through the partial index.
ALTER TABLE outbox ADD COLUMN processed_at TIMESTAMP;
CREATE INDEX outbox_pending ON outbox (id) WHERE processed_at IS NULL;

-- Where outgoing events are POSTed. secret signs them (Remit-Signature);
-- enabled_events is a JSON array of event types, or ["*"] for all.
CREATE TABLE webhook_endpoints (
    id             TEXT PRIMARY KEY,
    url            TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    secret         TEXT NOT NULL,
    enabled_events TEXT NOT NULL,
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     TIMESTAMP NOT NULL
);

-- One row per (endpoint, event): the unique key makes a repeated fan-out a
-- no-op. The row carries the latest attempt; status is pending, succeeded or
-- failed (gave up).
CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY,
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    outbox_id        TEXT NOT NULL REFERENCES outbox (id),
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL,
    first_attempt_at TIMESTAMP,
    last_attempt_at  TIMESTAMP,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    response_excerpt TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    delivered_at     TIMESTAMP,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- E-mail notices to a client's address, one per (event, recipient).
-- last_status_code is the SMTP reply code of the latest attempt.
CREATE TABLE email_deliveries (
    id               TEXT PRIMARY KEY,
    outbox_id        TEXT NOT NULL REFERENCES outbox (id),
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL,
    first_attempt_at TIMESTAMP,
    last_attempt_at  TIMESTAMP,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    delivered_at     TIMESTAMP,
    UNIQUE (event_id, recipient)
);
CREATE INDEX email_deliveries_due ON email_deliveries (status, next_attempt_at);

-- Reference rate series (ECB_MRO, BOE_BASE, CBR_KEY): the rate, a decimal
-- string of percent, in force from effective_from (YYYY-MM-DD).
CREATE TABLE reference_rates (
    series         TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    rate           TEXT NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (series, effective_from)
);

-- What each enforcement sweep did. posted is a JSON object of charge counts
-- by kind; skipped a JSON array of {invoice_id, reason}.
CREATE TABLE billing_runs (
    id                  TEXT PRIMARY KEY,
    triggered_by        TEXT NOT NULL,
    as_of               TEXT NOT NULL,
    started_at          TIMESTAMP NOT NULL,
    finished_at         TIMESTAMP NOT NULL,
    duration_ms         BIGINT NOT NULL,
    invoices_examined   BIGINT NOT NULL DEFAULT 0,
    charges_posted      BIGINT NOT NULL DEFAULT 0,
    posted              TEXT NOT NULL DEFAULT '{}',
    reminders           BIGINT NOT NULL DEFAULT 0,
    suspension_warnings BIGINT NOT NULL DEFAULT 0,
    suspensions         BIGINT NOT NULL DEFAULT 0,
    reinstatements      BIGINT NOT NULL DEFAULT 0,
    skipped_count       BIGINT NOT NULL DEFAULT 0,
    skipped             TEXT NOT NULL DEFAULT '[]',
    error_message       TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE billing_runs;
DROP TABLE reference_rates;
DROP TABLE email_deliveries;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP INDEX outbox_pending;
ALTER TABLE outbox DROP COLUMN processed_at;
