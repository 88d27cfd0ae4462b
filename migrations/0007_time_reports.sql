-- +goose Up
-- Time spent for a client, one row per day's entry. project_id is the id of
-- a project when the entry belongs to one (no foreign key: it is only kept).
-- external_key is "<api key id>:<external_id>" when the sender gave an id,
-- so a re-sent bulk import finds its entries instead of adding them again.
CREATE TABLE time_entries (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES clients (id),
    project_id   TEXT,
    date         TEXT NOT NULL,
    minutes      INTEGER NOT NULL CHECK (minutes > 0 AND minutes <= 1440),
    description  TEXT NOT NULL DEFAULT '',
    billable     BOOLEAN NOT NULL DEFAULT TRUE,
    api_key_id   TEXT NOT NULL DEFAULT '',
    external_id  TEXT,
    external_key TEXT UNIQUE,
    created_at   TIMESTAMP NOT NULL
);
-- Covers the health report's sum of minutes per client and period.
CREATE INDEX time_entries_client ON time_entries (client_id, date, minutes, billable);

-- The day a charge was waived (YYYY-MM-DD in the invoice's time zone), so
-- exceptions can be counted by period. Waivers made before this column
-- existed are dated by the day their charge was posted.
ALTER TABLE charges ADD COLUMN waived_on TEXT;
UPDATE charges SET waived_on = posted_on WHERE waive_reason <> '';
CREATE INDEX charges_waived ON charges (waived_on) WHERE waived_on IS NOT NULL;

-- Client suspensions by period, for the health report.
CREATE INDEX events_type_created ON events (type, created_at);

-- +goose Down
DROP INDEX events_type_created;
DROP INDEX charges_waived;
ALTER TABLE charges DROP COLUMN waived_on;
DROP INDEX time_entries_client;
DROP TABLE time_entries;
