-- +goose Up
-- Projects: a client's work in ordered milestones (ENFORCEMENT.md section 9).
-- status is active or cancelled; "completed" is derived when read.
CREATE TABLE projects (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES clients (id),
    name         TEXT NOT NULL,
    status       TEXT NOT NULL,
    currency     TEXT NOT NULL,
    cancelled_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX projects_client ON projects (client_id, id);

-- Milestones, ordered by position within their project. invoice_id links the
-- milestone's live invoice (unique: an invoice pays one milestone); the
-- payment hook finds the milestone through it. Dates are YYYY-MM-DD in the
-- client's time zone. delay_invoiced_on is set once, when the sweep invoices
-- the milestone under the client-delay rule, so it never does so twice.
CREATE TABLE milestones (
    id                TEXT PRIMARY KEY,
    project_id        TEXT NOT NULL REFERENCES projects (id),
    client_id         TEXT NOT NULL REFERENCES clients (id),
    position          INTEGER NOT NULL,
    name              TEXT NOT NULL,
    amount            BIGINT NOT NULL,
    planned_date      TEXT NOT NULL,
    deposit           BOOLEAN NOT NULL DEFAULT FALSE,
    status            TEXT NOT NULL,
    invoice_id        TEXT UNIQUE REFERENCES invoices (id),
    invoiced_for      TEXT NOT NULL DEFAULT '',
    started_on        TEXT,
    delivered_on      TEXT,
    invoiced_on       TEXT,
    paid_on           TEXT,
    cancelled_on      TEXT,
    client_delay_on   TEXT,
    client_delay_note TEXT NOT NULL DEFAULT '',
    delay_invoiced_on TEXT,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE INDEX milestones_project ON milestones (project_id, position);
-- What the sweep looks for: milestones in progress held up by the client.
CREATE INDEX milestones_client_delay ON milestones (status, client_delay_on, planned_date);

-- +goose Down
DROP TABLE milestones;
DROP TABLE projects;
