package domain

import (
	"context"
	"slices"
	"time"
)

// Scopes an API key may hold. Admin implies every other scope; write implies
// read and time_entries; time_entries alone may only post and list time entries.
const (
	ScopeAdmin       = "admin"
	ScopeWrite       = "write"
	ScopeRead        = "read"
	ScopeTimeEntries = "time_entries"
)

// ValidScope reports whether s names a scope.
func ValidScope(s string) bool {
	switch s {
	case ScopeAdmin, ScopeWrite, ScopeRead, ScopeTimeEntries:
		return true
	}
	return false
}

// APIKey is a credential for the REST API. Only the SHA-256 digest of its
// secret is stored; the secret is shown once, at creation.
type APIKey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	// Secret is set only on the value returned by CreateAPIKey.
	Secret string `json:"secret,omitempty"`
	// SecretRedacted marks a replay of the creation (Idempotency-Key): the
	// secret was shown once and is stored nowhere, so it is left out.
	SecretRedacted bool `json:"secret_redacted,omitempty"`
}

// Allows reports whether the key grants scope.
func (k *APIKey) Allows(scope string) bool {
	for _, s := range k.Scopes {
		switch {
		case s == scope, s == ScopeAdmin:
			return true
		case s == ScopeWrite && (scope == ScopeRead || scope == ScopeTimeEntries):
			return true
		}
	}
	return false
}

// Validate checks the name and scopes.
func (k *APIKey) Validate() error {
	f := FieldErrors{}
	checkText(f, "name", k.Name, MaxNameLen, true)
	if len(k.Scopes) == 0 {
		f.Add("scopes", "at least one of admin, write, read, time_entries is required")
	}
	for i, s := range k.Scopes {
		if !ValidScope(s) {
			f.Add("scopes", "unknown scope %q: use admin, write, read or time_entries", s)
		}
		if slices.Index(k.Scopes, s) < i {
			f.Add("scopes", "%q is listed twice", s)
		}
	}
	return f.Err()
}

// APIKeyService stores API keys.
type APIKeyService interface {
	// CreateAPIKey stores a new key with a fresh secret, returned once in Secret. Returns EINVALID.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// EnsureAPIKey makes the key with the given secret exist, be live and
	// hold k's scopes: it stores a new key, re-activates a revoked one (the
	// owner's way back in), or leaves a live one be, and says which.
	EnsureAPIKey(ctx context.Context, k *APIKey, secret string) (KeyEnsured, error)
	// CountAPIKeys counts keys that are not revoked.
	CountAPIKeys(ctx context.Context) (int, error)
	// Authenticate returns the live key whose secret is given. Returns EUNAUTHORIZED.
	Authenticate(ctx context.Context, secret string) (*APIKey, error)
	// FindAPIKeys lists keys, newest first, revoked ones included.
	FindAPIKeys(ctx context.Context, p PageParams) (Page[APIKey], error)
	// RevokeAPIKey revokes the key at once. Returns ENOTFOUND, and
	// ELASTADMINKEY for the last live admin key.
	RevokeAPIKey(ctx context.Context, id string) (*APIKey, error)
}

// KeyEnsured is what EnsureAPIKey did.
type KeyEnsured string

// Outcomes of EnsureAPIKey.
const (
	KeyExisted     KeyEnsured = "existed"     // the key was live already
	KeyCreated     KeyEnsured = "created"     // no key had the secret
	KeyReactivated KeyEnsured = "reactivated" // the key was revoked (or lost its admin scope) and is live again
)

// ELASTADMINKEY refuses to revoke the last live admin key: nobody could
// manage keys afterwards. REMIT_ADMIN_KEY at start is the way back in.
const ELASTADMINKEY = "last_admin_key"

// Actor is who asked for a change: the API key's id and name, or the system.
type Actor struct {
	KeyID string
	Name  string
}

// SystemActor is the actor of changes the scheduler makes.
var SystemActor = Actor{Name: "system"}

type actorKey struct{}

// WithActor returns a context that carries the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the context's actor, or SystemActor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return SystemActor
}
