package domain

import (
	"context"
	"time"
)

// IdempotencyTTL is how long a stored response answers replays.
const IdempotencyTTL = 24 * time.Hour

// IdempotentResponse is the first response to a request with an Idempotency-Key.
type IdempotentResponse struct {
	Status      int
	ContentType string
	Body        []byte
}

// IdempotencyRecord is the state of one (key id, Idempotency-Key) pair.
type IdempotencyRecord struct {
	Fingerprint string
	Done        bool
	Response    IdempotentResponse
}

// IdempotencyService reserves keys and stores first responses.
type IdempotencyService interface {
	// ReserveIdempotencyKey claims (scope, key) for a request with fingerprint.
	// When it returns reserved=false, rec is the existing record (pending or done).
	ReserveIdempotencyKey(ctx context.Context, scope, key, fingerprint string) (reserved bool, rec *IdempotencyRecord, err error)
	// CompleteIdempotencyKey stores the response of a reserved key.
	CompleteIdempotencyKey(ctx context.Context, scope, key string, resp IdempotentResponse) error
	// ReleaseIdempotencyKey forgets a reservation whose request failed on our side,
	// so that a retry runs again.
	ReleaseIdempotencyKey(ctx context.Context, scope, key string) error
	// PurgeIdempotencyKeys deletes records older than IdempotencyTTL.
	PurgeIdempotencyKeys(ctx context.Context) (int64, error)
}
