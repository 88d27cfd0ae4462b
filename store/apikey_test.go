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

func TestIdempotencyReservation(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewIdempotencyService(db)
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := s.ReserveIdempotencyKey(ctx, "key_a", "k1", "fp")
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d concurrent reservations won, want 1", won)
		}
		if err := s.CompleteIdempotencyKey(ctx, "key_a", "k1", domain.IdempotentResponse{Status: 201, ContentType: "application/json", Body: []byte(`{"id":"x"}` + "\n")}); err != nil {
			t.Fatal(err)
		}
		ok, rec, err := s.ReserveIdempotencyKey(ctx, "key_a", "k1", "fp")
		if err != nil || ok || !rec.Done || rec.Response.Status != 201 || string(rec.Response.Body) != `{"id":"x"}`+"\n" {
			t.Fatalf("replay: %v %+v %v", ok, rec, err)
		}
		// Another API key may use the same Idempotency-Key independently.
		if ok, _, err := s.ReserveIdempotencyKey(ctx, "key_b", "k1", "fp"); err != nil || !ok {
			t.Fatalf("other scope: %v %v", ok, err)
		}
	})
}
