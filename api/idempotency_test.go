package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/remit/remit/api"
	"github.com/remit/remit/domain"
)

// adminKeys authenticates every secret as an admin key.
type adminKeys struct{ domain.APIKeyService }

func (adminKeys) Authenticate(context.Context, string) (*domain.APIKey, error) {
	return &domain.APIKey{ID: "key_test", Name: "test", Scopes: []string{domain.ScopeAdmin}}, nil
}

// retryingIdempotency runs the request again when its first run answered
// 5xx, as the store does when the request's transaction lost a deadlock.
type retryingIdempotency struct{ domain.IdempotencyService }

func (retryingIdempotency) Idempotent(ctx context.Context, scope, key, fingerprint string, fn func(ctx context.Context) domain.IdempotentResponse) (domain.IdempotentResponse, bool, error) {
	resp := fn(ctx)
	if resp.Status >= 500 {
		resp = fn(ctx)
	}
	return resp, false, nil
}

func (r retryingIdempotency) IdempotentGrouped(ctx context.Context, scope, key, fingerprint string, fn func(ctx context.Context) domain.IdempotentResponse) (domain.IdempotentResponse, bool, error) {
	return r.Idempotent(ctx, scope, key, fingerprint, fn)
}

// transactionalClients asks for the request's transaction on the first
// CreateClient, as the store does for a write it cannot hold back.
type transactionalClients struct {
	domain.ClientService
	calls int
}

func (f *transactionalClients) CreateClient(_ context.Context, c *domain.Client) error {
	f.calls++
	if f.calls == 1 {
		return domain.ErrNeedsTransaction
	}
	c.ID = "cli_1"
	return nil
}

// groupedIdempotency runs the request again when its store asked for the
// transaction, as the store's IdempotentGrouped does.
type groupedIdempotency struct {
	domain.IdempotencyService
	clients *transactionalClients
}

func (g groupedIdempotency) IdempotentGrouped(ctx context.Context, _, _, _ string, fn func(ctx context.Context) domain.IdempotentResponse) (domain.IdempotentResponse, bool, error) {
	resp := fn(ctx)
	if g.clients.calls == 1 {
		resp = fn(ctx)
	}
	return resp, false, nil
}

// TestGroupedRequestRunsAgainInATransaction: a keyed POST /v1/clients goes
// the grouped way; when the store asks for the transaction, the first run's
// answer is neither logged as an error nor sent, and the caller gets the
// second run's.
func TestGroupedRequestRunsAgainInATransaction(t *testing.T) {
	clients := &transactionalClients{}
	var logs bytes.Buffer
	s := api.NewServer(api.DefaultConfig(), api.Deps{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Clients: clients,
		APIKeys: adminKeys{}, Idempotency: groupedIdempotency{clients: clients}})
	rec, got, err := createAcme(s)
	if err != nil || rec.Code != http.StatusCreated || got.ID != "cli_1" || clients.calls != 2 {
		t.Fatalf("status %d (%v), %d calls: %s", rec.Code, err, clients.calls, rec.Body)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Fatalf("the first run was logged as an error:\n%s", logs.String())
	}
}

// createAcme sends a keyed POST /v1/clients to s and decodes the answer.
func createAcme(s http.Handler) (*httptest.ResponseRecorder, domain.Client, error) {
	req := httptest.NewRequest("POST", "/v1/clients", strings.NewReader(`{"name": "Acme", "email": "a@acme.example", "currency": "EUR", "timezone": "UTC"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer secret")
	req.Header.Set("Idempotency-Key", "k1")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var got domain.Client
	err := json.Unmarshal(rec.Body.Bytes(), &got)
	return rec, got, err
}

// flakyClients fails the first CreateClient as a deadlock victim would.
type flakyClients struct {
	domain.ClientService
	names []string
}

func (f *flakyClients) CreateClient(_ context.Context, c *domain.Client) error {
	f.names = append(f.names, c.Name)
	if len(f.names) == 1 {
		return errors.New("ERROR: deadlock detected (SQLSTATE 40P01)")
	}
	c.ID = "cli_1"
	return nil
}

// TestIdempotentRequestRunsAgain: when the store runs an idempotent
// request's handler a second time, the handler reads the same body again
// and the caller gets the second run's answer, not the first run's 500.
func TestIdempotentRequestRunsAgain(t *testing.T) {
	clients := &flakyClients{}
	s := api.NewServer(api.DefaultConfig(), api.Deps{Logger: slog.New(slog.DiscardHandler), Clients: clients,
		APIKeys: adminKeys{}, Idempotency: retryingIdempotency{}})
	rec, got, err := createAcme(s)
	if err != nil || rec.Code != http.StatusCreated || got.ID != "cli_1" || got.Name != "Acme" {
		t.Fatalf("status %d (%v): %s", rec.Code, err, rec.Body)
	}
	if len(clients.names) != 2 || clients.names[0] != "Acme" || clients.names[1] != "Acme" {
		t.Fatalf("the handler ran with names %q; want Acme twice", clients.names)
	}
}
