-- +goose Up
-- A client is a business (the default) or a consumer: some statutory
-- interest presets depend on it (de_bgb_288). Its tax identifier (VAT
-- number) prints on its invoices.
ALTER TABLE clients ADD COLUMN kind TEXT NOT NULL DEFAULT 'business';
ALTER TABLE clients ADD COLUMN tax_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE clients DROP COLUMN tax_id;
ALTER TABLE clients DROP COLUMN kind;
