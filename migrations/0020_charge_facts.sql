-- +goose Up
-- The figures behind a charge that the words explaining it need in each
-- language (domain.ChargeFacts as JSON); NULL on charges posted before.
ALTER TABLE charges ADD COLUMN facts TEXT;

-- +goose Down
ALTER TABLE charges DROP COLUMN facts;
