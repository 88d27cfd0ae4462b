package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/testdb"
)

// openReplica opens another handle on the database at url, as a second
// replica would, closed when the test ends.
func openReplica(t *testing.T, url string) *DB {
	t.Helper()
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// eventually polls check until it holds, failing the test after a bound
// generous enough for a loaded machine, with what state says then; it
// asserts no duration.
func eventually(t *testing.T, what string, check func() bool, state ...func() string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !check(); {
		if time.Now().After(deadline) {
			for _, s := range state {
				what += " (" + s() + ")"
			}
			t.Fatalf("still not so after 60 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKeyRevocationReachesEveryReplica: two replicas on one PostgreSQL
// database keep authenticated keys in memory for an hour; a key revoked on
// one is refused by the other as soon as PostgreSQL's notification
// arrives, and a replica whose listener lost its connection stops trusting
// its cache. A change made behind the store's back (no notification) is
// not seen while the cache holds, which shows the cache is in use.
func TestKeyRevocationReachesEveryReplica(t *testing.T) {
	ctx := context.Background()
	url := testdb.PostgresURL(t)
	a := openReplica(t, url)
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	b := openReplica(t, url)
	a.SetKeyCacheTTL(time.Hour)
	b.SetKeyCacheTTL(time.Hour)
	keysA, keysB := NewAPIKeyService(a), NewAPIKeyService(b)
	newKey := func(name string) *domain.APIKey {
		k := &domain.APIKey{Name: name, Scopes: []string{domain.ScopeWrite}}
		if err := keysA.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if got, err := keysB.Authenticate(ctx, k.Secret); err != nil || got.ID != k.ID {
			t.Fatalf("authenticate %s on the second replica: %+v %v", name, got, err)
		}
		return k
	}
	refused := func(k *domain.APIKey) func() bool {
		return func() bool {
			_, err := keysB.Authenticate(ctx, k.Secret)
			return domain.ErrorCode(err) == domain.EUNAUTHORIZED
		}
	}

	behind := newKey("revoked behind the store's back")
	if _, err := a.SQL().Exec("UPDATE api_keys SET revoked_at = now() WHERE id = $1", behind.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := keysB.Authenticate(ctx, behind.Secret); err != nil {
		t.Fatalf("the second replica looked the key up again instead of using its cache: %v", err)
	}

	revoked := newKey("revoked through the API")
	if _, err := keysA.RevokeAPIKey(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	if !refused(revoked)() {
		// The notification is on its way; nothing but it can empty the
		// cache within the hour.
		eventually(t, "the revoked key is refused on the second replica", refused(revoked))
	}
	if _, err := keysA.Authenticate(ctx, revoked.Secret); domain.ErrorCode(err) != domain.EUNAUTHORIZED {
		t.Fatalf("the revoking replica still accepts the key: %v", err)
	}

	// The listeners lose their connections: the second replica must not
	// answer from a cache no notification can reach any more.
	lost := newKey("revoked while the listener is away")
	if _, err := a.SQL().Exec("UPDATE api_keys SET revoked_at = now() WHERE id = $1", lost.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SQL().Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN remit_api_keys'"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the key revoked while the listener was away is refused", refused(lost))

	// Listening again, the cache serves (a key changed behind its back
	// stays as it was read) and hears revocations again.
	// A fresh key each try: one read while the listener came back may be
	// cached with the scopes changed behind the store's back, for the hour.
	var again *domain.APIKey
	eventually(t, "the cache serves again", func() bool {
		again = newKey("revoked after the listener is back")
		if _, err := a.SQL().Exec("UPDATE api_keys SET scopes = 'read' WHERE id = $1", again.ID); err != nil {
			t.Fatal(err)
		}
		got, err := keysB.Authenticate(ctx, again.Secret)
		if err != nil {
			t.Fatal(err)
		}
		return got.Allows(domain.ScopeWrite)
	}, b.listenerState)
	if _, err := keysA.RevokeAPIKey(ctx, again.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the key revoked after the listener is back is refused", refused(again))
}

// listenerState says whether the key listener listens, or why not.
func (db *DB) listenerState() string {
	db.keys.mu.Lock()
	defer db.keys.mu.Unlock()
	if db.keys.live {
		return fmt.Sprintf("listening, generation %d, %d keys cached, ttl %s", db.keys.gen, len(db.keys.byKey), db.keys.ttl)
	}
	return fmt.Sprint("not listening: ", db.keys.lastErr)
}
