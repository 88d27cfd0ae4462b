-- +goose Up
-- Agreement versions: terms is the JSON of domain.Agreement.
CREATE TABLE agreements (
    id             TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES clients (id),
    version        INTEGER NOT NULL,
    effective_from TEXT NOT NULL,
    terms          TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    UNIQUE (client_id, version)
);
CREATE INDEX agreements_in_force ON agreements (client_id, effective_from, version);

-- Gapless numbering: one row per series (INV-2026), bumped inside the issuing transaction.
CREATE TABLE invoice_counters (
    series      TEXT PRIMARY KEY,
    last_number BIGINT NOT NULL
);

CREATE TABLE invoices (
    id                 TEXT PRIMARY KEY,
    client_id          TEXT NOT NULL REFERENCES clients (id),
    number             TEXT UNIQUE,
    status             TEXT NOT NULL,
    currency           TEXT NOT NULL,
    timezone           TEXT NOT NULL,
    memo               TEXT NOT NULL DEFAULT '',
    issue_date         TEXT,
    due_date           TEXT,
    overdue_from       TEXT,            -- day 1 overdue: due date + grace + 1
    overdue_at         TIMESTAMP,       -- the start of overdue_from in the invoice's time zone
    paid_on            TEXT,
    subtotal           BIGINT NOT NULL,
    tax                BIGINT NOT NULL,
    total              BIGINT NOT NULL,
    charges_total      BIGINT NOT NULL DEFAULT 0,  -- posted charges less waivers
    amount_paid        BIGINT NOT NULL DEFAULT 0,  -- payments allocated here less refunds
    credit_applied     BIGINT NOT NULL DEFAULT 0,  -- client credit used here
    credit_created     BIGINT NOT NULL DEFAULT 0,  -- overpayments of this invoice turned into credit
    principal_paid     BIGINT NOT NULL DEFAULT 0,  -- the part of amount_paid and credit that went to principal
    balance_due        BIGINT NOT NULL,
    agreement_id       TEXT,
    agreement          TEXT,                       -- JSON of the version in force on the issue date
    disputed           BOOLEAN NOT NULL DEFAULT FALSE,
    processing         INTEGER NOT NULL DEFAULT 0, -- payments in processing
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    issued_at          TIMESTAMP
);
CREATE INDEX invoices_client ON invoices (client_id, id);
CREATE INDEX invoices_status ON invoices (status, id);
CREATE INDEX invoices_overdue ON invoices (status, overdue_from);
CREATE INDEX invoices_overdue_at ON invoices (status, overdue_at);

CREATE TABLE invoice_lines (
    invoice_id  TEXT NOT NULL REFERENCES invoices (id),
    position    INTEGER NOT NULL,
    description TEXT NOT NULL,
    quantity    TEXT NOT NULL,
    unit_amount BIGINT NOT NULL,
    tax_rate    TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    tax         BIGINT NOT NULL,
    PRIMARY KEY (invoice_id, position)
);

-- Fees, interest and compensation. (invoice_id, key) is the exactly-once guard.
CREATE TABLE charges (
    id            TEXT PRIMARY KEY,
    invoice_id    TEXT NOT NULL REFERENCES invoices (id),
    kind          TEXT NOT NULL,
    key           TEXT NOT NULL,
    amount        BIGINT NOT NULL,
    posted_on     TEXT NOT NULL,
    period_from   TEXT,
    period_to     TEXT,
    days          INTEGER NOT NULL DEFAULT 0,
    description   TEXT NOT NULL DEFAULT '',
    breakdown     TEXT NOT NULL DEFAULT '',
    paid          BIGINT NOT NULL DEFAULT 0,
    waived_amount BIGINT NOT NULL DEFAULT 0,
    waive_reason  TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    UNIQUE (invoice_id, key)
);

-- Payments: external_key (PaymentIntent id, or the manual Idempotency-Key) is unique.
CREATE TABLE payments (
    id                TEXT PRIMARY KEY,
    invoice_id        TEXT NOT NULL REFERENCES invoices (id),
    client_id         TEXT NOT NULL REFERENCES clients (id),
    amount            BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    paid_on           TEXT NOT NULL,
    method            TEXT NOT NULL,
    reference         TEXT NOT NULL DEFAULT '',
    source            TEXT NOT NULL,
    external_key      TEXT NOT NULL UNIQUE,
    alloc_compensation BIGINT NOT NULL DEFAULT 0,
    alloc_fees        BIGINT NOT NULL DEFAULT 0,
    alloc_interest    BIGINT NOT NULL DEFAULT 0,
    alloc_principal   BIGINT NOT NULL DEFAULT 0,
    alloc_credit      BIGINT NOT NULL DEFAULT 0,
    refunded          BIGINT NOT NULL DEFAULT 0,
    created_at        TIMESTAMP NOT NULL
);
CREATE INDEX payments_invoice ON payments (invoice_id, paid_on);
CREATE INDEX payments_client ON payments (client_id, paid_on);

CREATE TABLE refunds (
    id                 TEXT PRIMARY KEY,
    payment_id         TEXT NOT NULL REFERENCES payments (id),
    invoice_id         TEXT NOT NULL REFERENCES invoices (id),
    amount             BIGINT NOT NULL,
    refunded_on        TEXT NOT NULL,
    reason             TEXT NOT NULL DEFAULT '',
    external_key       TEXT NOT NULL UNIQUE,
    rev_compensation   BIGINT NOT NULL DEFAULT 0,
    rev_fees           BIGINT NOT NULL DEFAULT 0,
    rev_interest       BIGINT NOT NULL DEFAULT 0,
    rev_principal      BIGINT NOT NULL DEFAULT 0,
    rev_credit         BIGINT NOT NULL DEFAULT 0,
    created_at         TIMESTAMP NOT NULL
);
CREATE INDEX refunds_payment ON refunds (payment_id);

-- Client credit ledger: + from an overpayment, - when applied or refunded.
CREATE TABLE client_credits (
    id         TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients (id),
    amount     BIGINT NOT NULL,
    currency   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    invoice_id TEXT,
    payment_id TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX client_credits_client ON client_credits (client_id);

-- The audit trail of every change.
CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    invoice_id   TEXT,
    actor        TEXT NOT NULL,
    actor_key_id TEXT NOT NULL DEFAULT '',
    data         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX events_invoice ON events (invoice_id, id);
CREATE INDEX events_client ON events (client_id, id);

-- Notices to send (webhooks, e-mail), written in the same transaction as the
-- change that caused them; delivered and retried by the outbox worker.
CREATE TABLE outbox (
    id         TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL,
    type       TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    invoice_id TEXT,
    payload    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE outbox;
DROP TABLE events;
DROP TABLE client_credits;
DROP TABLE refunds;
DROP TABLE payments;
DROP TABLE charges;
DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP TABLE invoice_counters;
DROP TABLE agreements;
