-- +goose Up
-- Credit notes: the document that corrects an issued invoice, numbered in
-- its own gapless series (CN-YYYY-NNNN, counted in invoice_counters). It
-- reduces the invoice's principal from its issue date; alloc_principal and
-- alloc_credit are the ledger's split of it (principal reduced, client
-- credit created), rewritten when a late fact changes it.
CREATE TABLE credit_notes (
    id              TEXT PRIMARY KEY,
    number          TEXT NOT NULL UNIQUE,
    invoice_id      TEXT NOT NULL REFERENCES invoices (id),
    client_id       TEXT NOT NULL REFERENCES clients (id),
    currency        TEXT NOT NULL,
    issue_date      TEXT NOT NULL,
    reason          TEXT NOT NULL,
    lines           TEXT NOT NULL,
    subtotal        BIGINT NOT NULL,
    tax             BIGINT NOT NULL,
    amount          BIGINT NOT NULL CHECK (amount > 0),
    alloc_principal BIGINT NOT NULL DEFAULT 0,
    alloc_credit    BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX credit_notes_invoice ON credit_notes (invoice_id);
CREATE INDEX credit_notes_client ON credit_notes (client_id, issue_date);
-- The principal credit notes took off the invoice (a cache of the rows).
ALTER TABLE invoices ADD COLUMN credited BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE invoices DROP COLUMN credited;
DROP TABLE credit_notes;
