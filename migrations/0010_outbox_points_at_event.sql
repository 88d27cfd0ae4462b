-- +goose Up
-- An outbox row points at its event; the JSON that is sent (the envelope:
-- the event's id, type, time, client, invoice and data) is built from the
-- event when it is delivered, instead of a second copy of it being written
-- with every notice.
ALTER TABLE outbox DROP COLUMN payload;

-- +goose Down
-- The copies are not written back: rows written since Up get an empty
-- payload, which the code before this migration would send as it is.
ALTER TABLE outbox ADD COLUMN payload TEXT NOT NULL DEFAULT '';
