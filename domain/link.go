package domain

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// Kinds of client-facing links.
const (
	LinkInvoice = "invoice" // the hosted invoice page
	LinkClient  = "client"  // the client's account page (portal)
)

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

// LinkService keeps the links of the client-facing pages.
type LinkService interface {
	// LinkTokens returns the token of each subject's link of kind,
	// creating the links that do not exist yet.
	LinkTokens(ctx context.Context, kind string, subjectIDs []string) (map[string]string, error)
	// RotateLink replaces the subject's link with a new one (the old token
	// stops working at once) and returns the new token.
	RotateLink(ctx context.Context, kind, subjectID string) (string, error)
	// ResolveLink returns the subject of the link of kind whose token is
	// token. Returns ENOTFOUND.
	ResolveLink(ctx context.Context, kind, token string) (string, error)
}
