-- +goose Up
-- Agreement versions the client must accept on the account page, and the
-- evidence of each acceptance (one per version).
ALTER TABLE agreements ADD COLUMN require_acceptance BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE agreement_acceptances (
    agreement_id  TEXT PRIMARY KEY REFERENCES agreements (id),
    client_id     TEXT NOT NULL,
    accepted_at   TIMESTAMP NOT NULL,
    name          TEXT NOT NULL,
    ip_address    TEXT NOT NULL,
    user_agent    TEXT NOT NULL,
    terms_sha256  TEXT NOT NULL,
    terms_text    TEXT NOT NULL
);
CREATE INDEX agreement_acceptances_client ON agreement_acceptances (client_id);

-- +goose Down
DROP TABLE agreement_acceptances;
ALTER TABLE agreements DROP COLUMN require_acceptance;
