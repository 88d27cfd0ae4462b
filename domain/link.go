package domain

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
)

// Kinds of client-facing links.
const (
	LinkInvoice = "invoice" // the hosted invoice page
	LinkClient  = "client"  // the client's account page (portal)
)

// PageLink is the address of a client-facing page as the API shows it
// (hosted_invoice_url, portal_url): left out where the object has no page
// (hosted pages off, a draft), null while its link is revoked, else the URL.
// Tag it omitzero.
type PageLink struct {
	URL     string
	Revoked bool
}

// IsZero reports whether the link is left out of JSON.
func (l PageLink) IsZero() bool { return l.URL == "" && !l.Revoked }

// MarshalJSON writes the URL, or null.
func (l PageLink) MarshalJSON() ([]byte, error) {
	if l.URL == "" {
		return []byte("null"), nil
	}
	return json.Marshal(l.URL)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (l *PageLink) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*l = PageLink{Revoked: true}
		return nil
	}
	*l = PageLink{}
	return json.Unmarshal(b, &l.URL)
}

// MinLinkKeyLen is the shortest REMIT_LINK_KEY taken, in bytes.
const MinLinkKeyLen = 32

// LinkToken returns the token of a link: the HMAC-SHA-256 under key of the
// link's kind, subject and nonce, base64url without padding (43
// characters, 256 bits). Only a holder of key can derive it from what the
// database keeps.
func LinkToken(key []byte, kind, subjectID, nonce string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("remit-link\x00" + kind + "\x00" + subjectID + "\x00" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// LinkTokenHash returns the SHA-256 of a token, hex: what the database
// keeps to find a link from its URL.
func LinkTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Audit events of links (kept in the audit trail, not sent).
const (
	EventInvoiceLinkRevoked = "invoice.link_revoked"
	EventClientLinkRevoked  = "client.link_revoked"
)

// LinkService keeps the links of the client-facing pages.
type LinkService interface {
	// LinkTokens returns the token of each subject's link of kind,
	// creating the links that do not exist yet. A revoked link is left
	// out: its subject has no token until the link is rotated.
	LinkTokens(ctx context.Context, kind string, subjectIDs []string) (map[string]string, error)
	// RotateLink replaces the subject's link with a new one (the old token
	// stops working at once), revoked or not, and returns the new token.
	RotateLink(ctx context.Context, kind, subjectID string) (string, error)
	// RevokeLink ends the subject's link without a new one: its token
	// stops working at once and the subject has no link until RotateLink.
	// Revoking a revoked link changes nothing; the first revocation is
	// recorded in the audit trail (EventInvoiceLinkRevoked,
	// EventClientLinkRevoked). Returns ENOTFOUND (no such invoice or client).
	RevokeLink(ctx context.Context, kind, subjectID string) error
	// ResolveLink returns the subject of the link of kind whose token is
	// token. Returns ENOTFOUND.
	ResolveLink(ctx context.Context, kind, token string) (string, error)
}
