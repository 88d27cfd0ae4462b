-- +goose Up
-- One row per offboarded client: why, and the plan as it was carried out
-- (JSON), which a repeated offboarding call returns instead of acting again.
CREATE TABLE offboardings (
    client_id  TEXT PRIMARY KEY REFERENCES clients (id),
    reason     TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    plan       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE offboardings;
