package domain

import (
	"context"
	"errors"
	"time"
)

// IdempotencyTTL is how long a stored response answers replays.
const IdempotencyTTL = 24 * time.Hour

// IdempotentResponse is the first response to a request with an Idempotency-Key.
type IdempotentResponse struct {
	Status      int
	ContentType string
	Body        []byte
	// Stored, when set, is kept and replayed instead of Body: a response
	// that shows a secret once (a new API key) is stored without it.
	Stored []byte
}

// Kept returns the body to store and replay.
func (r IdempotentResponse) Kept() []byte {
	if r.Stored != nil {
		return r.Stored
	}
	return r.Body
}

// ErrNeedsTransaction is returned, before anything is written, by a store
// write that a request of IdempotentGrouped cannot hold back; the request
// runs again in a transaction (see IdempotentGrouped).
var ErrNeedsTransaction = errors.New("this write needs the request's transaction")

// IdempotencyService runs requests with an Idempotency-Key exactly once.
type IdempotencyService interface {
	// Idempotent runs fn once per (scope, key). In one transaction it claims
	// the key, runs fn with a context whose store calls join that
	// transaction, and stores fn's response, so the request's effect and its
	// response commit together or not at all (a crash in between leaves
	// neither). A concurrent request with the same key waits for the first
	// to finish and gets its response; a replay gets the stored response
	// (replayed = true) without running fn. A response of 5xx or 429 is not
	// kept and its effects are rolled back. Returns EIDEMPOTENCY when the
	// key was used with another fingerprint.
	Idempotent(ctx context.Context, scope, key, fingerprint string, fn func(ctx context.Context) IdempotentResponse) (resp IdempotentResponse, replayed bool, err error)
	// IdempotentOutside is Idempotent for requests that call another
	// service (Stripe) or run long (a billing run): fn runs outside any
	// transaction, so that no database writer waits on a network call. The
	// claim and the response are stored in transactions of their own; a
	// replay gets the stored response. Until a response is stored, a repeat
	// runs fn again, so fn must itself be safe to repeat (Stripe idempotency
	// keys, state checks); when two runs race, both callers get the
	// response stored first. Returns EIDEMPOTENCY as Idempotent does.
	IdempotentOutside(ctx context.Context, scope, key, fingerprint string, fn func(ctx context.Context) IdempotentResponse) (resp IdempotentResponse, replayed bool, err error)
	// IdempotentGrouped is Idempotent for requests whose only write is one
	// the store can hold back (a new client, an invoice issued at creation):
	// on PostgreSQL fn runs outside any transaction, and its write, with the
	// key's record and fn's response, goes in one statement through the
	// group commit that writes of its kind share, so that keyed requests
	// commit together as requests without a key do. The effect and the
	// response still commit together or not at all, a replay and a
	// concurrent duplicate get the first response, and a key of another
	// request is EIDEMPOTENCY. A write the store cannot hold back returns
	// ErrNeedsTransaction before it writes anything; fn then runs again the
	// way of Idempotent, as it does whenever the key already has a record.
	IdempotentGrouped(ctx context.Context, scope, key, fingerprint string, fn func(ctx context.Context) IdempotentResponse) (resp IdempotentResponse, replayed bool, err error)
	// PurgeIdempotencyKeys deletes records older than IdempotencyTTL.
	PurgeIdempotencyKeys(ctx context.Context) (int64, error)
}
