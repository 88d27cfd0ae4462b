-- +goose Up
-- Webhook endpoints can be changed, deleted and have their secret rolled:
-- the previous secret keeps signing deliveries until it expires, and a
-- deleted endpoint stays (its deliveries point at it) but is hidden.
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_expires_at TIMESTAMP;
ALTER TABLE webhook_endpoints ADD COLUMN deleted_at TIMESTAMP;

-- +goose Down
ALTER TABLE webhook_endpoints DROP COLUMN deleted_at;
ALTER TABLE webhook_endpoints DROP COLUMN previous_secret_expires_at;
ALTER TABLE webhook_endpoints DROP COLUMN previous_secret;
