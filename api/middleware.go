package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/remit/remit/domain"
)

// keyContextKey is where authorize stores the caller's *domain.APIKey;
// requestIDKey is where requestID stores the request's id.
const (
	keyContextKey = "remit.api_key"
	requestIDKey  = "remit.request_id"
)

// requestIDOf returns the request's id. It is kept in the echo context, not
// read back from the response headers, which the idempotency middleware
// swaps for a buffer's while the handler runs.
func requestIDOf(c echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}

// requestID gives every request an id (the caller's X-Request-Id when it is
// sane, else a fresh one) and echoes it in the response.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if id == "" || len(id) > 128 || strings.ContainsAny(id, "\r\n") {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = "req_" + hex.EncodeToString(b)
		}
		c.Set(requestIDKey, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// accessLog writes one structured line per request.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			s.handleError(err, c)
		}
		attrs := []slog.Attr{
			slog.String("request_id", requestIDOf(c)),
			slog.String("method", c.Request().Method),
			slog.String("route", c.Path()),
			slog.Int("status", c.Response().Status),
			slog.Int64("bytes", c.Response().Size),
			slog.Duration("duration", time.Since(start)),
		}
		if k, ok := c.Get(keyContextKey).(*domain.APIKey); ok {
			attrs = append(attrs, slog.String("key_id", k.ID))
		}
		s.Logger.LogAttrs(c.Request().Context(), slog.LevelInfo, "request", attrs...)
		return nil
	}
}

// recover turns a panic into a 500 "internal" response and a log line with the stack.
func (s *Server) recover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.Logger.Error("panic", "request_id", requestIDOf(c),
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// bodyLimit caps the bytes read from every request body. A declared length
// over the cap is refused before reading; a body that lies about its length
// (or is chunked) fails when the reader crosses the cap.
func (s *Server) bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > s.Config.BodyLimit {
			return domain.Errorf(domain.ETOOLARGE, "request body is larger than %d bytes", s.Config.BodyLimit)
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, s.Config.BodyLimit)
		return next(c)
	}
}

// textParams refuses path and query parameters that are not one line of
// text (NUL, control characters, invalid UTF-8) with 400 naming them.
func (s *Server) textParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := checkParams(c); err != nil {
			return err
		}
		return next(c)
	}
}

// authorize requires a live API key holding one of the scopes.
func (s *Server) authorize(scopes ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			addr := clientAddr(c)
			if wait := s.authFailures.wait(addr); wait > 0 {
				return s.throttled(c, wait)
			}
			secret, ok := bearer(c.Request().Header.Get(echo.HeaderAuthorization))
			if !ok {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="remit"`)
				return domain.Errorf(domain.EUNAUTHORIZED, "send your API key as Authorization: Bearer <key>")
			}
			key, err := s.APIKeys.Authenticate(c.Request().Context(), secret)
			if domain.ErrorCode(err) == domain.EUNAUTHORIZED {
				if wait := s.authFailures.fail(addr); wait > 0 {
					return s.throttled(c, wait)
				}
			}
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(scopes, key.Allows) {
				return domain.Errorf(domain.EFORBIDDEN, "API key %s lacks the %s scope", key.ID, strings.Join(scopes, " or "))
			}
			c.Set(keyContextKey, key)
			ctx := domain.WithActor(c.Request().Context(), domain.Actor{KeyID: key.ID, Name: key.Name})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// bearer returns the credentials of an Authorization header of the Bearer
// scheme, whose name is case-insensitive (RFC 9110 section 11.1).
func bearer(h string) (string, bool) {
	scheme, secret, _ := strings.Cut(strings.TrimSpace(h), " ")
	secret = strings.TrimSpace(secret)
	return secret, strings.EqualFold(scheme, "Bearer") && secret != ""
}

// clientAddr is the address of the peer that sent the request: the TCP
// connection's, never a header the caller could forge.
func clientAddr(c echo.Context) string {
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	if err != nil {
		return c.Request().RemoteAddr
	}
	return host
}

// throttled answers 429 to an address that failed authentication too often.
func (s *Server) throttled(c echo.Context, wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return domain.Errorf(domain.ERATELIMITED, "too many failed authentications from your address; retry in %d s", secs)
}

// failureLimiter throttles failed authentication per client address: each
// address has a bucket of Burst failures refilled at Rate per second; an
// address whose bucket is empty is refused (even with a good key, so that
// guessing gains nothing) until a failure's worth has refilled.
type failureLimiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	by    map[string]*rate.Limiter
}

// maxTrackedAddrs bounds the addresses kept; beyond it, addresses whose
// bucket is full again are forgotten.
const maxTrackedAddrs = 10000

func newFailureLimiter(perSecond float64, burst int) *failureLimiter {
	return &failureLimiter{rate: rate.Limit(perSecond), burst: burst, by: map[string]*rate.Limiter{}}
}

// wait returns how long addr must wait before it may try again (0: now).
func (l *failureLimiter) wait(addr string) time.Duration {
	if l.rate <= 0 {
		return 0
	}
	l.mu.Lock()
	lim := l.by[addr]
	l.mu.Unlock()
	if lim == nil || lim.Tokens() >= 1 {
		return 0
	}
	r := lim.Reserve()
	defer r.Cancel()
	return r.Delay()
}

// fail counts a failed authentication of addr and returns how long it must
// now wait (0 while its bucket holds failures).
func (l *failureLimiter) fail(addr string) time.Duration {
	if l.rate <= 0 {
		return 0
	}
	l.mu.Lock()
	lim, ok := l.by[addr]
	if !ok {
		if len(l.by) >= maxTrackedAddrs {
			for a, old := range l.by {
				if old.Tokens() >= float64(l.burst) {
					delete(l.by, a)
				}
			}
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.by[addr] = lim
	}
	l.mu.Unlock()
	if lim.Allow() {
		return 0
	}
	r := lim.Reserve()
	defer r.Cancel()
	return r.Delay()
}

// apiKey returns the authenticated key of the request.
func apiKey(c echo.Context) *domain.APIKey {
	k, _ := c.Get(keyContextKey).(*domain.APIKey)
	return k
}

// keyLimiter holds one token bucket per API key.
type keyLimiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	byKey map[string]*rate.Limiter
}

func newKeyLimiter(perSecond float64, burst int) *keyLimiter {
	return &keyLimiter{rate: rate.Limit(perSecond), burst: burst, byKey: map[string]*rate.Limiter{}}
}

func (l *keyLimiter) allow(key string) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	lim, ok := l.byKey[key]
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.byKey[key] = lim
	}
	l.mu.Unlock()
	return lim.Allow()
}

// rateLimit answers 429 when a key sends faster than its bucket allows.
func (s *Server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if k := apiKey(c); k != nil && !s.limiter.allow(k.ID) {
			c.Response().Header().Set("Retry-After", "1")
			return domain.Errorf(domain.ERATELIMITED, "too many requests for API key %s; slow down to %g per second", k.ID, float64(s.limiter.rate))
		}
		return next(c)
	}
}

// bufferWriter holds a handler's response until its transaction commits.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferWriter) Header() http.Header         { return w.header }
func (w *bufferWriter) Write(b []byte) (int, error) { return w.body.Write(b) }
func (w *bufferWriter) WriteHeader(status int)      { w.status = status }

// outsideTx are the routes whose handlers call Stripe or run the whole
// sweep: with an Idempotency-Key they run outside the key's transaction
// (IdempotentOutside), so that no network call or long run holds the
// database's writer; each is safe to repeat by itself (Stripe idempotency
// keys, the offboarding's and the sweep's own checks).
var outsideTx = map[string]bool{
	"/v1/invoices/:id/checkout": true,
	// A setup Checkout Session for a client's card.
	"/v1/clients/:id/payment_methods/setup": true,
	"/v1/clients/:id/offboard":              true,
	"/v1/stripe/reconcile":                  true,
	"/v1/billing/run":                       true,
	// Refunds through Stripe (its idempotency key makes a repeat safe).
	"/v1/unapplied_payments/:id/refund": true,
}

// groupedTx are the routes whose one write the store can hold back until
// the response is known and send, with the key's record, through the group
// commit of its kind (IdempotentGrouped): a new client, an invoice issued
// at creation.
var groupedTx = map[string]bool{
	"/v1/clients":  true,
	"/v1/invoices": true,
}

// idempotency makes a POST with an Idempotency-Key run exactly once: the
// handler runs inside one transaction with the key's claim and its stored
// response, so a crash can never leave an effect without its response (or
// the reverse). A replay with the same body gets the first response byte
// for byte; another body with the same key is refused; a concurrent
// duplicate waits for the first and gets its response. Responses of 5xx and
// 429 are not kept (and their effects are rolled back), so such a request
// may be retried. The routes of outsideTx run outside the transaction.
func (s *Server) idempotency(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get("Idempotency-Key")
		if c.Request().Method != http.MethodPost || key == "" {
			return next(c)
		}
		if len(key) > 255 {
			return fieldError("Idempotency-Key", "must be at most 255 characters")
		}
		if p := domain.TextProblem(key, false); p != "" {
			return fieldError("Idempotency-Key", "%s", p)
		}
		body, err := readBody(c)
		if err != nil {
			return err
		}
		fingerprint := requestFingerprint(c.Request().Method, c.Request().URL.RequestURI(), body)

		res := c.Response()
		real, req := res.Writer, c.Request()
		run := s.Idempotency.Idempotent
		switch {
		case outsideTx[c.Path()]:
			run = s.Idempotency.IdempotentOutside
		case groupedTx[c.Path()]:
			run = s.Idempotency.IdempotentGrouped
		}
		// The store may run the handler more than once (a transaction that
		// lost a deadlock is retried as a whole); only the last run's
		// headers go out.
		var header http.Header
		resp, replayed, err := run(req.Context(), apiKey(c).ID, key, fingerprint, func(ctx context.Context) domain.IdempotentResponse {
			buf := &bufferWriter{header: http.Header{echo.HeaderXRequestID: {requestIDOf(c)}}, status: http.StatusOK}
			res.Writer, res.Committed, res.Status, res.Size = buf, false, 0, 0
			c.SetRequest(req.WithContext(ctx))
			var stored []byte
			c.Set(storedKey, &stored)
			// A write that needs the transaction: the store runs the
			// handler again in one, and this run's answer is not sent.
			if err := next(c); err != nil && !errors.Is(err, domain.ErrNeedsTransaction) {
				s.handleError(err, c)
			}
			c.Set(storedKey, nil)
			c.SetRequest(req)
			header = buf.header
			return domain.IdempotentResponse{Status: buf.status, ContentType: buf.header.Get(echo.HeaderContentType), Body: buf.body.Bytes(), Stored: stored}
		})
		res.Writer, res.Committed, res.Size = real, false, 0
		if err != nil {
			return err
		}
		if replayed {
			res.Header().Set("Idempotent-Replayed", "true")
		} else {
			for k, v := range header {
				real.Header()[k] = v
			}
		}
		return c.Blob(resp.Status, resp.ContentType, resp.Body)
	}
}

// storedKey is where the idempotency middleware takes, from a handler that
// shows a secret once, the body to keep for replays instead.
const storedKey = "remit.stored_body"

// respondWithSecret answers status with v, which shows a secret once. With
// an Idempotency-Key only redacted is stored, and a replay gets it: no
// secret is kept in the idempotency table (nor so in its WAL or backups).
func respondWithSecret(c echo.Context, status int, v, redacted any) error {
	if stored, ok := c.Get(storedKey).(*[]byte); ok && stored != nil {
		b, err := stdjson.Marshal(redacted)
		if err != nil {
			return err
		}
		*stored = append(b, '\n')
	}
	return c.JSON(status, v)
}

// requestFingerprint identifies a request by its method, path and body. A
// JSON body counts by its canonical form (RFC 8785 key order, no
// whitespace, canonical string escapes; numbers as sent, so that no two
// amounts ever compare equal), so a retry that re-serialises the same value
// is the same request. A body that is not JSON counts byte for byte.
func requestFingerprint(method, uri string, body []byte) string {
	canonical := jsontext.Value(bytes.Clone(body))
	if err := canonical.Canonicalize(jsontext.CanonicalizeRawInts(false), jsontext.CanonicalizeRawFloats(false)); err == nil {
		body = canonical
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "%s %s\n", method, uri)
	sum.Write(body)
	return hex.EncodeToString(sum.Sum(nil))
}
