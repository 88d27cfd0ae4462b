-- +goose Up
-- Every Stripe event applied, by Stripe's event id: a second delivery of the
-- same id finds its row and changes nothing. outcome says what it did.
CREATE TABLE stripe_events (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    api_version  TEXT NOT NULL DEFAULT '',
    created      TIMESTAMP NOT NULL,
    intent_id    TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL,
    outcome      TEXT NOT NULL DEFAULT '',
    processed_at TIMESTAMP NOT NULL
);
CREATE INDEX stripe_events_intent ON stripe_events (intent_id);

-- The Stripe Customer of each client, created on first need.
CREATE TABLE stripe_customers (
    client_id   TEXT PRIMARY KEY REFERENCES clients (id),
    customer_id TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL
);

-- What Remit knows of each PaymentIntent, merged from every event about it in
-- any order: status moves by rank (succeeded is final; among the others the
-- latest event wins), refunded and the dispute only ever move forward.
CREATE TABLE stripe_payment_intents (
    id              TEXT PRIMARY KEY,
    invoice_id      TEXT REFERENCES invoices (id),
    amount          BIGINT NOT NULL DEFAULT 0,    -- amount received, in the invoice currency's minor unit
    currency        TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT '',     -- '', processing, failed, canceled, succeeded
    status_at       TIMESTAMP,                    -- created time of the event that set status
    payment_id      TEXT,                         -- the payment recorded for it
    charge_id       TEXT NOT NULL DEFAULT '',
    refunded        BIGINT NOT NULL DEFAULT 0,    -- the largest amount_refunded Stripe reported
    dispute_id      TEXT NOT NULL DEFAULT '',
    dispute_status  TEXT NOT NULL DEFAULT '',     -- '', open, won, lost, closed
    dispute_amount  BIGINT NOT NULL DEFAULT 0,
    last_event_at   TIMESTAMP,                    -- created time of the newest event seen
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX stripe_payment_intents_invoice ON stripe_payment_intents (invoice_id);
CREATE INDEX stripe_payment_intents_charge ON stripe_payment_intents (charge_id);

-- +goose Down
DROP TABLE stripe_payment_intents;
DROP TABLE stripe_customers;
DROP TABLE stripe_events;
