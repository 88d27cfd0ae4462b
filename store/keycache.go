package store

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/remit/remit/domain"
)

// DefaultKeyCacheTTL is how long an authenticated API key is kept in memory
// when nothing changes it (see keyCache).
const DefaultKeyCacheTTL = 30 * time.Second

// keyChannel is the PostgreSQL channel on which a change to an API key
// (revoked, re-activated, its scopes changed) is announced to every replica.
const keyChannel = "remit_api_keys"

// keyCache keeps the live API keys that authenticated recently, by the
// digest of their secret, so that a request need not look its key up in the
// database. A change to a key empties it in this process after the change
// commits (invalidate), and in every other replica on PostgreSQL through
// NOTIFY, which PostgreSQL delivers at commit to each replica's listener
// (listen). While a replica's listener is not listening, its cache is not
// used at all, so a revocation never waits for the TTL.
//
// A lookup that read the database before a change committed must not put
// what it read in the cache after the change emptied it: every emptying
// moves the generation on, and a lookup stores its key only if the
// generation is still the one it saw before reading.
type keyCache struct {
	mu  sync.Mutex
	ttl time.Duration
	gen uint64
	// live is false while the cache may not be trusted: on PostgreSQL
	// until the listener listens, and whenever it has lost its connection.
	live  bool
	byKey map[string]cachedKey
	// lastErr is why the listener last stopped listening or could not
	// start (for tests and debugging).
	lastErr error

	// The listener's lifetime (PostgreSQL only): started by the first
	// lookup, stopped by DB.Close.
	start  sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

type cachedKey struct {
	key     domain.APIKey
	expires time.Time
}

// keyCacheSize bounds the keys kept; a full cache is emptied and refilled.
const keyCacheSize = 10000

func newKeyCache(live bool) *keyCache {
	return &keyCache{ttl: DefaultKeyCacheTTL, live: live, byKey: map[string]cachedKey{}}
}

// SetKeyCacheTTL sets how long an authenticated API key is kept in memory
// (DefaultKeyCacheTTL unless set); 0 looks every key up in the database.
func (db *DB) SetKeyCacheTTL(ttl time.Duration) {
	db.keys.mu.Lock()
	defer db.keys.mu.Unlock()
	db.keys.ttl = ttl
	db.keys.gen++
	clear(db.keys.byKey)
}

// get returns the cached live key of a digest, and the generation to pass
// to put after reading the database when it has none.
func (c *keyCache) get(digest string, now time.Time) (*domain.APIKey, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.ttl <= 0 {
		return nil, c.gen
	}
	e, ok := c.byKey[digest]
	if !ok || !now.Before(e.expires) {
		return nil, c.gen
	}
	k := e.key
	return &k, c.gen
}

// put keeps a live key read from the database, unless the cache was
// emptied since gen (the key may have changed after it was read).
func (c *keyCache) put(digest string, k domain.APIKey, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live || c.ttl <= 0 || gen != c.gen {
		return
	}
	if len(c.byKey) >= keyCacheSize {
		clear(c.byKey)
	}
	c.byKey[digest] = cachedKey{key: k, expires: now.Add(c.ttl)}
}

// invalidate empties the cache and moves its generation on.
func (c *keyCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.byKey)
}

// setLive empties the cache and says whether it may be used from now on,
// and why not.
func (c *keyCache) setLive(live bool, why error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.byKey)
	c.live, c.lastErr = live, why
}

// listenForKeyChanges starts, once, the listener of key changes on
// PostgreSQL. The first connection is made before it returns, so that the
// cache serves from the first request on when the database is reachable.
func (db *DB) listenForKeyChanges() {
	c := db.keys
	c.start.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		c.mu.Lock()
		c.cancel, c.done = cancel, make(chan struct{})
		c.mu.Unlock()
		conn, err := db.dialKeyListener(ctx)
		c.setLive(err == nil, err)
		go func() {
			defer close(c.done)
			for {
				if err == nil {
					err = db.listen(ctx, conn)
					c.setLive(false, err)
				}
				if ctx.Err() != nil {
					return
				}
				// The cache is bypassed until a new connection listens.
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				conn, err = db.dialKeyListener(ctx)
				c.setLive(err == nil, err)
			}
		}()
	})
}

// dialKeyListener opens a connection of its own that listens on keyChannel.
func (db *DB) dialKeyListener(ctx context.Context) (*pgx.Conn, error) {
	// The first dial happens in a request: it must not hang on a database
	// that does not answer (the cache is simply not used meanwhile).
	dial, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(dial, db.url)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(dial, "LISTEN "+keyChannel); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

// listen empties the cache at each notification on conn, until the
// connection fails or ctx ends; it closes conn.
func (db *DB) listen(ctx context.Context, conn *pgx.Conn) error {
	defer conn.Close(context.WithoutCancel(ctx))
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		db.keys.invalidate()
	}
}

// stopListening stops the listener, if it was started, and waits for it.
func (c *keyCache) stopListening() {
	c.start.Do(func() {}) // no listener may start after this
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}
