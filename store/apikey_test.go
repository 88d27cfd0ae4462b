package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

func TestAPIKeys(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewAPIKeyService(db)
		k := &domain.APIKey{Name: "reader", Scopes: []string{domain.ScopeRead}}
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if len(k.Secret) < 40 {
			t.Fatalf("secret %q too short", k.Secret)
		}
		got, err := s.Authenticate(ctx, k.Secret)
		if err != nil || got.ID != k.ID || got.Allows(domain.ScopeWrite) || !got.Allows(domain.ScopeRead) {
			t.Fatalf("authenticate: %+v %v", got, err)
		}
		if got.Secret != "" {
			t.Fatal("a stored key must not carry its secret")
		}
		if _, err := s.Authenticate(ctx, k.Secret+"x"); domain.ErrorCode(err) != domain.EUNAUTHORIZED {
			t.Fatalf("wrong secret: %v", err)
		}
		if _, err := s.RevokeAPIKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, k.Secret); domain.ErrorCode(err) != domain.EUNAUTHORIZED {
			t.Fatalf("revoked key still works: %v", err)
		}
		if n, _ := s.CountAPIKeys(ctx); n != 0 {
			t.Fatalf("live keys = %d", n)
		}

		admin := &domain.APIKey{Name: "env", Scopes: []string{domain.ScopeAdmin}}
		secret := "an-admin-key-from-the-environment"
		if created, err := s.EnsureAPIKey(ctx, admin, secret); err != nil || !created {
			t.Fatalf("ensure: %v %v", created, err)
		}
		if created, err := s.EnsureAPIKey(ctx, &domain.APIKey{Name: "env", Scopes: []string{domain.ScopeAdmin}}, secret); err != nil || created {
			t.Fatalf("second ensure created=%v err=%v", created, err)
		}
	})
}

func TestIdempotentRunsOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewIdempotencyService(db)
		clients := store.NewClientService(db)
		var wg sync.WaitGroup
		var mu sync.Mutex
		runs, replays := 0, 0
		var bodies []string
		for range 20 {
			wg.Go(func() {
				resp, replayed, err := s.Idempotent(ctx, "key_a", "k1", "fp", func(ctx context.Context) domain.IdempotentResponse {
					c := newClient("Once")
					if err := clients.CreateClient(ctx, c); err != nil {
						t.Error(err)
					}
					mu.Lock()
					runs++
					mu.Unlock()
					return domain.IdempotentResponse{Status: 201, ContentType: "application/json", Body: []byte(`{"id":"` + c.ID + `"}`)}
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if replayed {
					replays++
				}
				bodies = append(bodies, string(resp.Body))
			})
		}
		wg.Wait()
		if runs != 1 || replays != 19 {
			t.Fatalf("ran %d times, replayed %d", runs, replays)
		}
		for _, b := range bodies {
			if b != bodies[0] {
				t.Fatalf("responses differ: %q vs %q", b, bodies[0])
			}
		}
		page, _ := clients.FindClients(ctx, domain.ClientFilter{Page: domain.PageParams{Limit: 50}})
		if len(page.Data) != 1 {
			t.Fatalf("%d clients created", len(page.Data))
		}
		if _, _, err := s.Idempotent(ctx, "key_a", "k1", "other", nil); domain.ErrorCode(err) != domain.EIDEMPOTENCY {
			t.Fatalf("same key, other request: %v", err)
		}

		// A 5xx response is not kept, and what the request wrote is rolled back.
		resp, _, err := s.Idempotent(ctx, "key_a", "k2", "fp", func(ctx context.Context) domain.IdempotentResponse {
			if err := clients.CreateClient(ctx, newClient("Rolled back")); err != nil {
				t.Error(err)
			}
			return domain.IdempotentResponse{Status: 500}
		})
		if err != nil || resp.Status != 500 {
			t.Fatalf("5xx: %+v %v", resp, err)
		}
		if page, _ := clients.FindClients(ctx, domain.ClientFilter{Page: domain.PageParams{Limit: 50}}); len(page.Data) != 1 {
			t.Fatalf("the failed request's client was kept: %d clients", len(page.Data))
		}
		again := 0
		if _, replayed, err := s.Idempotent(ctx, "key_a", "k2", "fp", func(ctx context.Context) domain.IdempotentResponse {
			again++
			return domain.IdempotentResponse{Status: 201}
		}); err != nil || replayed || again != 1 {
			t.Fatalf("retry after a 5xx: replayed=%v ran=%d err=%v", replayed, again, err)
		}
	})
}
