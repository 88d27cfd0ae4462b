-- +goose Up
-- Recurring invoices: templates the sweep issues an ordinary invoice from,
-- once per period (see domain.Schedule). lines is the JSON of the template's
-- lines; issue_from is the first day a period may be issued (the start, or
-- the last resume: periods due while paused are skipped); last_period is
-- the index of the last period issued (-1 before the first); next_issue_on
-- is the next period's issue day in the client's time zone, NULL when
-- nothing is left to issue or while paused, which is what the sweep looks for.
CREATE TABLE recurring_invoices (
    id                TEXT PRIMARY KEY,
    client_id         TEXT NOT NULL REFERENCES clients (id),
    status            TEXT NOT NULL,
    currency          TEXT NOT NULL,
    lines             TEXT NOT NULL,
    memo              TEXT NOT NULL DEFAULT '',
    auto_charge       BOOLEAN NOT NULL DEFAULT FALSE,
    interval_unit     TEXT NOT NULL,
    interval_count    INTEGER NOT NULL,
    anchor_day        INTEGER NOT NULL DEFAULT 0,
    start_date        TEXT NOT NULL,
    end_date          TEXT,
    max_count         INTEGER NOT NULL DEFAULT 0,
    issue_days_before INTEGER NOT NULL DEFAULT 0,
    issue_from        TEXT,
    last_period       INTEGER NOT NULL DEFAULT -1,
    invoices_issued   INTEGER NOT NULL DEFAULT 0,
    next_issue_on     TEXT,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE INDEX recurring_invoices_client ON recurring_invoices (client_id, id);
CREATE INDEX recurring_invoices_next_issue ON recurring_invoices (next_issue_on);

-- One row per period issued. The primary key (template, period) is what
-- makes a period impossible to issue twice, whatever restarts, replicas or
-- repeated sweeps do; invoice_id is the invoice it issued.
CREATE TABLE recurring_invoice_periods (
    recurring_invoice_id TEXT NOT NULL REFERENCES recurring_invoices (id),
    period_index         INTEGER NOT NULL,
    period_from          TEXT NOT NULL,
    period_to            TEXT NOT NULL,
    issue_date           TEXT NOT NULL,
    invoice_id           TEXT UNIQUE REFERENCES invoices (id),
    created_at           TIMESTAMP NOT NULL,
    PRIMARY KEY (recurring_invoice_id, period_index)
);

-- Attempts to charge an auto-charged invoice's saved card: one row per
-- (invoice, attempt), on the due date and 3 and 7 days after it. The status
-- moves from pending to attempting under a conditional update, so each
-- attempt is made once; the Stripe idempotency key is (invoice, attempt).
CREATE TABLE invoice_auto_charges (
    invoice_id        TEXT NOT NULL REFERENCES invoices (id),
    attempt           INTEGER NOT NULL,
    charge_on         TEXT NOT NULL,
    status            TEXT NOT NULL,
    payment_intent_id TEXT NOT NULL DEFAULT '',
    reason            TEXT NOT NULL DEFAULT '',
    attempted_at      TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (invoice_id, attempt)
);
CREATE INDEX invoice_auto_charges_due ON invoice_auto_charges (status, charge_on);

-- A client whose every invoice issued from this day (in its time zone) on
-- is auto-charged; NULL: off.
ALTER TABLE clients ADD COLUMN auto_charge_since TEXT;

-- +goose Down
ALTER TABLE clients DROP COLUMN auto_charge_since;
DROP TABLE invoice_auto_charges;
DROP TABLE recurring_invoice_periods;
DROP TABLE recurring_invoices;
