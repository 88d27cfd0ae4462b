package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

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
		if got, err := s.EnsureAPIKey(ctx, admin, secret); err != nil || got != domain.KeyCreated {
			t.Fatalf("ensure: %v %v", got, err)
		}
		if got, err := s.EnsureAPIKey(ctx, &domain.APIKey{Name: "env", Scopes: []string{domain.ScopeAdmin}}, secret); err != nil || got != domain.KeyExisted {
			t.Fatalf("second ensure: %v %v", got, err)
		}
	})
}

func TestLastAdminKeyCannotBeRevoked(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewAPIKeyService(db)
		env := &domain.APIKey{Name: "env", Scopes: []string{domain.ScopeAdmin}}
		secret := "an-admin-key-from-the-environment"
		if _, err := s.EnsureAPIKey(ctx, env, secret); err != nil {
			t.Fatal(err)
		}
		second := &domain.APIKey{Name: "second", Scopes: []string{domain.ScopeAdmin}}
		writer := &domain.APIKey{Name: "writer", Scopes: []string{domain.ScopeWrite}}
		for _, k := range []*domain.APIKey{second, writer} {
			if err := s.CreateAPIKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.RevokeAPIKey(ctx, env.ID); err != nil {
			t.Fatalf("revoking one of two admin keys: %v", err)
		}
		if _, err := s.RevokeAPIKey(ctx, second.ID); domain.ErrorCode(err) != domain.ELASTADMINKEY {
			t.Fatalf("revoking the last admin key: %v, want %s", err, domain.ELASTADMINKEY)
		}
		if _, err := s.Authenticate(ctx, second.Secret); err != nil {
			t.Fatalf("the refused revocation revoked: %v", err)
		}
		if _, err := s.RevokeAPIKey(ctx, writer.ID); err != nil {
			t.Fatalf("revoking a non-admin key: %v", err)
		}

		// The environment's key comes back, live and admin.
		again := &domain.APIKey{Name: "env", Scopes: []string{domain.ScopeAdmin}}
		if got, err := s.EnsureAPIKey(ctx, again, secret); err != nil || got != domain.KeyReactivated || again.ID != env.ID {
			t.Fatalf("ensure of a revoked key: %v %v (id %s, want %s)", got, err, again.ID, env.ID)
		}
		if k, err := s.Authenticate(ctx, secret); err != nil || !k.Allows(domain.ScopeAdmin) {
			t.Fatalf("the re-activated key: %+v %v", k, err)
		}
		if n, _ := s.CountAPIKeys(ctx); n != 2 {
			t.Fatalf("live keys = %d, want 2", n)
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

// TestIdempotentOutside checks the mode for requests that call Stripe:
// fn's writes are its own (not rolled back with a 5xx), a stored response
// is replayed, a repeat before one is stored runs again, and two runs that
// race both answer with the response stored first.
func TestIdempotentOutside(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewIdempotencyService(db)
		clients := store.NewClientService(db)
		count := func() int {
			page, err := clients.FindClients(ctx, domain.ClientFilter{Page: domain.PageParams{Limit: 50}})
			if err != nil {
				t.Fatal(err)
			}
			return len(page.Data)
		}

		// A 5xx is not kept, but what fn wrote stays: it ran outside any transaction.
		resp, replayed, err := s.IdempotentOutside(ctx, "key_a", "o1", "fp", func(ctx context.Context) domain.IdempotentResponse {
			if err := clients.CreateClient(ctx, newClient("Kept")); err != nil {
				t.Error(err)
			}
			return domain.IdempotentResponse{Status: 502}
		})
		if err != nil || replayed || resp.Status != 502 || count() != 1 {
			t.Fatalf("5xx: %+v replayed=%v err=%v clients=%d", resp, replayed, err, count())
		}
		// The repeat runs again, and its response is kept and replayed.
		runs := 0
		ok := func(body string) func(context.Context) domain.IdempotentResponse {
			return func(context.Context) domain.IdempotentResponse {
				runs++
				return domain.IdempotentResponse{Status: 201, ContentType: "application/json", Body: []byte(body)}
			}
		}
		if resp, replayed, err := s.IdempotentOutside(ctx, "key_a", "o1", "fp", ok(`{"n":1}`)); err != nil || replayed || string(resp.Body) != `{"n":1}` {
			t.Fatalf("retry after a 5xx: %s replayed=%v err=%v", resp.Body, replayed, err)
		}
		if resp, replayed, err := s.IdempotentOutside(ctx, "key_a", "o1", "fp", ok(`{"n":2}`)); err != nil || !replayed || string(resp.Body) != `{"n":1}` || runs != 1 {
			t.Fatalf("replay: %s replayed=%v runs=%d err=%v", resp.Body, replayed, runs, err)
		}
		if _, _, err := s.IdempotentOutside(ctx, "key_a", "o1", "other", ok(`{}`)); domain.ErrorCode(err) != domain.EIDEMPOTENCY {
			t.Fatalf("same key, other request: %v", err)
		}

		// Two runs in flight at once: the second to finish answers with the first's response.
		release := make(chan struct{})
		first := make(chan domain.IdempotentResponse)
		go func() {
			resp, _, err := s.IdempotentOutside(ctx, "key_a", "o2", "fp", func(context.Context) domain.IdempotentResponse {
				<-release
				return domain.IdempotentResponse{Status: 200, Body: []byte("slow")}
			})
			if err != nil {
				t.Error(err)
			}
			first <- resp
		}()
		for {
			// Wait until the slow run has claimed the key (not timing anything).
			var n int64
			if err := db.SQL().QueryRow("SELECT COUNT(*) FROM idempotency_keys WHERE key = 'o2'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		resp, replayed, err = s.IdempotentOutside(ctx, "key_a", "o2", "fp", func(context.Context) domain.IdempotentResponse {
			return domain.IdempotentResponse{Status: 200, Body: []byte("fast")}
		})
		if err != nil || replayed || string(resp.Body) != "fast" {
			t.Fatalf("the run that finished first: %s replayed=%v err=%v", resp.Body, replayed, err)
		}
		close(release)
		if slow := <-first; string(slow.Body) != "fast" {
			t.Fatalf("the run that finished second answered %q, want the stored %q", slow.Body, "fast")
		}
	})
}

// TestIdempotencyKeyExpires checks that a stored response answers replays
// for IdempotencyTTL and no longer: after it, the key is claimed anew, by
// the same request or another, and the new response is the one kept.
func TestIdempotencyKeyExpires(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return clock }
		s := store.NewIdempotencyService(db)
		runs := 0
		answer := func(body string) func(context.Context) domain.IdempotentResponse {
			return func(context.Context) domain.IdempotentResponse {
				runs++
				return domain.IdempotentResponse{Status: 201, ContentType: "application/json", Body: []byte(body)}
			}
		}
		if _, replayed, err := s.Idempotent(ctx, "key_a", "e1", "fp", answer(`{"n":1}`)); err != nil || replayed {
			t.Fatalf("first run: replayed=%v %v", replayed, err)
		}
		clock = clock.Add(domain.IdempotencyTTL - time.Second)
		if resp, replayed, err := s.Idempotent(ctx, "key_a", "e1", "fp", answer(`{"n":2}`)); err != nil || !replayed || string(resp.Body) != `{"n":1}` {
			t.Fatalf("a second before the TTL: %q replayed=%v %v", resp.Body, replayed, err)
		}
		if _, _, err := s.Idempotent(ctx, "key_a", "e1", "other", answer(`{}`)); domain.ErrorCode(err) != domain.EIDEMPOTENCY {
			t.Fatalf("another request before the TTL: %v", err)
		}
		clock = clock.Add(2 * time.Second)
		if resp, replayed, err := s.Idempotent(ctx, "key_a", "e1", "other", answer(`{"n":3}`)); err != nil || replayed || string(resp.Body) != `{"n":3}` {
			t.Fatalf("another request after the TTL: %q replayed=%v %v", resp.Body, replayed, err)
		}
		if resp, replayed, err := s.Idempotent(ctx, "key_a", "e1", "other", answer(`{"n":4}`)); err != nil || !replayed || string(resp.Body) != `{"n":3}` {
			t.Fatalf("its replay: %q replayed=%v %v", resp.Body, replayed, err)
		}
		if _, _, err := s.Idempotent(ctx, "key_a", "e1", "fp", answer(`{}`)); domain.ErrorCode(err) != domain.EIDEMPOTENCY {
			t.Fatalf("the first request again, now another's key: %v", err)
		}
		if runs != 2 {
			t.Fatalf("ran %d times, want 2", runs)
		}
		// IdempotentOutside forgets in the same way.
		if _, replayed, err := s.IdempotentOutside(ctx, "key_a", "e1", "fp", answer(`{"n":5}`)); domain.ErrorCode(err) != domain.EIDEMPOTENCY || replayed {
			t.Fatalf("outside, before the TTL: replayed=%v %v", replayed, err)
		}
		clock = clock.Add(domain.IdempotencyTTL + time.Second)
		if resp, replayed, err := s.IdempotentOutside(ctx, "key_a", "e1", "fp", answer(`{"n":6}`)); err != nil || replayed || string(resp.Body) != `{"n":6}` {
			t.Fatalf("outside, after the TTL: %q replayed=%v %v", resp.Body, replayed, err)
		}
	})
}
