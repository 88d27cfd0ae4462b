-- +goose Up
-- A revoked link: the page answers 404 and the API gives no URL until the
-- link is rotated again. Revoking also replaces nonce and token_hash with
-- values no URL derives from, so the old token cannot match.
ALTER TABLE links ADD COLUMN revoked_at TIMESTAMP;

-- +goose Down
ALTER TABLE links DROP COLUMN revoked_at;
