-- +goose Up
-- Money Stripe collected that no invoice took (its metadata names an
-- invoice Remit does not have, or it is in another currency than the
-- invoice's): kept until an admin applies it to an invoice or refunds it.
-- One row per PaymentIntent.
CREATE TABLE unapplied_payments (
    id                 TEXT PRIMARY KEY,
    payment_intent_id  TEXT NOT NULL UNIQUE,
    invoice_id         TEXT NOT NULL DEFAULT '',
    client_id          TEXT NOT NULL DEFAULT '',
    amount             BIGINT NOT NULL CHECK (amount > 0),
    currency           TEXT NOT NULL,
    reason             TEXT NOT NULL,
    status             TEXT NOT NULL,
    applied_invoice_id TEXT NOT NULL DEFAULT '',
    payment_id         TEXT NOT NULL DEFAULT '',
    refund_id          TEXT NOT NULL DEFAULT '',
    received_at        TIMESTAMP NOT NULL,
    resolved_at        TIMESTAMP,
    created_at         TIMESTAMP NOT NULL
);
CREATE INDEX unapplied_payments_status ON unapplied_payments (status, id);

-- +goose Down
DROP INDEX unapplied_payments_status;
DROP TABLE unapplied_payments;
