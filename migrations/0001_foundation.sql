-- +goose Up
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    digest      TEXT NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);

CREATE TABLE clients (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    email               TEXT NOT NULL,
    contact_name        TEXT NOT NULL DEFAULT '',
    account_manager     TEXT NOT NULL DEFAULT '',
    address             TEXT NOT NULL DEFAULT '',
    timezone            TEXT NOT NULL,
    currency            TEXT NOT NULL,
    channel             TEXT NOT NULL DEFAULT '',
    response_time_hours INTEGER NOT NULL DEFAULT 0,
    turnaround_days     INTEGER NOT NULL DEFAULT 0,
    relationship        TEXT NOT NULL,
    status              TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX clients_status ON clients (status, id);

-- One row per (scope, Idempotency-Key): the scope is the API key's id.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    done         BOOLEAN NOT NULL DEFAULT FALSE,
    status       INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE clients;
DROP TABLE api_keys;
