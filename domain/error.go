// Package domain holds Remit's types, their validation, the pure billing rules
// (due dates, fees, interest, allocation) and the service interfaces that the
// store, billing and api packages implement or use. It imports the standard
// library only.
package domain

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error codes. Only the api package maps them to HTTP statuses.
const (
	EINVALID       = "invalid"              // the input is wrong; Fields names what
	EUNAUTHORIZED  = "unauthorized"         // no or unknown credentials
	EFORBIDDEN     = "forbidden"            // credentials lack the scope
	ENOTFOUND      = "not_found"            // no such resource
	ECONFLICT      = "conflict"             // state forbids it; Code may be more specific
	EIDEMPOTENCY   = "idempotency_mismatch" // same Idempotency-Key, other request
	EINPROGRESS    = "idempotency_in_progress"
	ETOOLARGE      = "too_large"     // body over the limit
	ERATELIMITED   = "rate_limited"  // too many requests for this key
	EUNPROCESSABLE = "unprocessable" // well-formed but refused by a rule (422)
	EUNAVAILABLE   = "unavailable"   // a dependency is not configured or down (503)
	EINTERNAL      = "internal"      // a bug or an outage; never shown in detail
)

// Specific conflict and rule codes named by the API contract.
const (
	ENOTICEPERIOD        = "notice_period"
	EINVOICENOTDRAFT     = "invoice_not_draft"
	EINVOICEPAID         = "invoice_paid"
	EINVOICEVOID         = "invoice_void"
	EINVOICENOTOPEN      = "invoice_not_open"
	EPREVMILESTONEUNPAID = "previous_milestone_unpaid"
	ECLIENTOFFBOARDED    = "client_offboarded"
	ESTRIPENOTCONFIGURED = "stripe_not_configured"
	// EMISSINGRATE: interest cannot be worked out, a reference rate it
	// needs is not loaded (422).
	EMISSINGRATE = "missing_reference_rate"
)

// Error is an application error with a machine-readable code, a message a
// client may read, and, for EINVALID, the offending fields.
type Error struct {
	// Code is one of the E* constants.
	Code string
	// Kind is the general class of Code (EINVALID, ECONFLICT, ...) when Code is
	// a specific one such as EINVOICENOTDRAFT; empty means Code is the class.
	Kind string
	// Message is safe to show to the API user.
	Message string
	// Fields maps a request field (JSON path) to what is wrong with it.
	Fields map[string]string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("remit error: code=%s message=%s", e.Code, e.Message)
	}
	return fmt.Sprintf("remit error: code=%s message=%s fields=%v", e.Code, e.Message, e.Fields)
}

// Class returns the general class of the error's code.
func (e *Error) Class() string {
	if e.Kind != "" {
		return e.Kind
	}
	return e.Code
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Conflictf returns a conflict error with a specific code (e.g. EINVOICENOTDRAFT).
func Conflictf(code, format string, args ...any) *Error {
	return &Error{Code: code, Kind: ECONFLICT, Message: fmt.Sprintf(format, args...)}
}

// Unprocessablef returns a 422 rule error with a specific code (e.g. ENOTICEPERIOD).
func Unprocessablef(code, format string, args ...any) *Error {
	return &Error{Code: code, Kind: EUNPROCESSABLE, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, else EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	}
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err if it is an *Error, else "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// FieldErrors collects validation problems, one per field, and turns them into
// a single EINVALID error naming every field.
type FieldErrors map[string]string

// Add records a problem with field unless one is already recorded.
func (f FieldErrors) Add(field, format string, args ...any) {
	if _, ok := f[field]; !ok {
		f[field] = fmt.Sprintf(format, args...)
	}
}

// Err returns nil when there are no problems, else an EINVALID *Error whose
// message lists the fields in order.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, n+": "+f[n])
	}
	return &Error{Code: EINVALID, Message: "invalid request: " + strings.Join(parts, "; "), Fields: map[string]string(f)}
}
