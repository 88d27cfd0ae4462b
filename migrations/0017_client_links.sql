-- +goose Up
-- The links of the client-facing pages: one per issued invoice (kind
-- invoice) and per client (kind client). The token in the URL is derived
-- from nonce with REMIT_LINK_KEY (an HMAC), so the database alone does not
-- give it away; token_hash (SHA-256 of the token, hex) finds the row from
-- a URL. Rotating a link stores a new nonce and hash: the old URL is then
-- unknown, a plain 404.
CREATE TABLE links (
    kind        TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, subject_id)
);

-- +goose Down
DROP TABLE links;
