package api_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/remit/remit/api"
	"github.com/remit/remit/domain"
)

// fakeKeys knows one admin key, "good-key".
type fakeKeys struct{ domain.APIKeyService }

func (fakeKeys) Authenticate(_ context.Context, secret string) (*domain.APIKey, error) {
	if secret != "good-key" {
		return nil, domain.Errorf(domain.EUNAUTHORIZED, "invalid API key")
	}
	return &domain.APIKey{ID: "key_1", Name: "admin", Scopes: []string{domain.ScopeAdmin}}, nil
}

// fakeIdempotency runs every request, as a first run would.
type fakeIdempotency struct{ domain.IdempotencyService }

func (fakeIdempotency) Idempotent(ctx context.Context, _, _, _ string, fn func(context.Context) domain.IdempotentResponse) (domain.IdempotentResponse, bool, error) {
	return fn(ctx), false, nil
}

func (f fakeIdempotency) IdempotentGrouped(ctx context.Context, scope, key, fp string, fn func(context.Context) domain.IdempotentResponse) (domain.IdempotentResponse, bool, error) {
	return f.Idempotent(ctx, scope, key, fp, fn)
}

// brokenClients fails as an outage would.
type brokenClients struct{ domain.ClientService }

func (brokenClients) CreateClient(context.Context, *domain.Client) error {
	return errors.New("disk on fire")
}

func newTestServer(cfg api.Config, logs *bytes.Buffer) *api.Server {
	return api.NewServer(cfg, api.Deps{
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), APIKeys: fakeKeys{},
		Idempotency: fakeIdempotency{}, Clients: brokenClients{},
		Business: domain.Business{Timezone: "UTC"},
	})
}

func send(s http.Handler, method, path, auth, body string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.7:4000"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// TestIdempotentRequestLogsItsRequestID: the internal error of a request
// on the idempotent path is logged with the request's id, the one its
// response carries.
func TestIdempotentRequestLogsItsRequestID(t *testing.T) {
	var logs bytes.Buffer
	s := newTestServer(api.DefaultConfig(), &logs)
	rec := send(s, "POST", "/v1/clients", "Bearer good-key", `{"name":"A","email":"a@example.com","currency":"EUR"}`,
		map[string]string{"Idempotency-Key": "k1", "X-Request-Id": "req-from-the-caller"})
	if rec.Code != 500 || rec.Header().Get("X-Request-Id") != "req-from-the-caller" {
		t.Fatalf("status %d, request id %q: %s", rec.Code, rec.Header().Get("X-Request-Id"), rec.Body)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.Contains(line, `"request_id":"req-from-the-caller"`) {
			t.Errorf("a log line without the request id: %s", line)
		}
	}
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Fatalf("the internal error is not logged:\n%s", logs.String())
	}
}

// TestAuthorizationScheme: the scheme name is case-insensitive (RFC 9110).
func TestAuthorizationScheme(t *testing.T) {
	var logs bytes.Buffer
	s := newTestServer(api.DefaultConfig(), &logs)
	for _, auth := range []string{"Bearer good-key", "bearer good-key", "BEARER good-key", "bEaReR  good-key"} {
		if rec := send(s, "GET", "/v1/clients/cli_1", auth, "", nil); rec.Code == 401 {
			t.Errorf("%q: %d %s", auth, rec.Code, rec.Body)
		}
	}
	for _, auth := range []string{"", "Basic good-key", "Bearer", "Bearergood-key", "Token good-key"} {
		if rec := send(s, "GET", "/v1/clients/cli_1", auth, "", nil); rec.Code != 401 {
			t.Errorf("%q: %d %s", auth, rec.Code, rec.Body)
		}
	}
}

// TestFailedAuthenticationIsThrottled: an address that keeps failing is
// answered 429 with Retry-After, good key or not; another address is not.
func TestFailedAuthenticationIsThrottled(t *testing.T) {
	var logs bytes.Buffer
	cfg := api.DefaultConfig()
	cfg.AuthFailureRate, cfg.AuthFailureBurst = 0.001, 5
	s := newTestServer(cfg, &logs)
	for i := range 5 {
		if rec := send(s, "GET", "/v1/clients", "Bearer guess", "", nil); rec.Code != 401 {
			t.Fatalf("failure %d: %d", i+1, rec.Code)
		}
	}
	for _, auth := range []string{"Bearer guess", "Bearer good-key"} {
		rec := send(s, "GET", "/v1/clients", auth, "", nil)
		if rec.Code != 429 || !strings.Contains(rec.Body.String(), "rate_limited") || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("%s after 5 failures: %d %q %s", auth, rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
	}
	req := httptest.NewRequest("GET", "/v1/clients", nil)
	req.RemoteAddr = "198.51.100.9:4000"
	req.Header.Set("Authorization", "Bearer guess")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Fatalf("another address: %d", rec.Code)
	}
}
