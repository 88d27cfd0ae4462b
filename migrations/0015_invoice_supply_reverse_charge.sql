-- +goose Up
-- What an EU invoice must show: the date or period of supply when it
-- differs from the issue date, and whether the reverse charge applies
-- (Directive 2006/112/EC, art. 196: the client owes the VAT).
ALTER TABLE invoices ADD COLUMN supply_date TEXT;
ALTER TABLE invoices ADD COLUMN supply_end_date TEXT;
ALTER TABLE invoices ADD COLUMN reverse_charge BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE invoices DROP COLUMN reverse_charge;
ALTER TABLE invoices DROP COLUMN supply_end_date;
ALTER TABLE invoices DROP COLUMN supply_date;
