-- +goose Up
-- The next day the sweep has anything to do for an invoice (a reminder, day 1
-- overdue, a fee, an interest posting, a suspension step); NULL: nothing ever.
ALTER TABLE invoices ADD COLUMN next_action_on TEXT;
CREATE INDEX invoices_next_action ON invoices (next_action_on, id);

-- Who suspended a client: 'billing' (the sweep reinstates it when paid) or 'manual'.
ALTER TABLE clients ADD COLUMN suspension_source TEXT NOT NULL DEFAULT '';

-- Notices sent per invoice (reminders, overdue, suspension warning):
-- (invoice_id, key) makes each one happen once.
CREATE TABLE notices (
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    key        TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    due_on     TEXT NOT NULL,
    skipped    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (invoice_id, key)
);

-- +goose Down
DROP TABLE notices;
DROP INDEX invoices_next_action;
ALTER TABLE invoices DROP COLUMN next_action_on;
ALTER TABLE clients DROP COLUMN suspension_source;
