-- +goose Up
-- The language a client reads Remit's pages in (BCP 47: en, ru, bg, de).
ALTER TABLE clients ADD COLUMN language TEXT NOT NULL DEFAULT 'en';

-- +goose Down
ALTER TABLE clients DROP COLUMN language;
