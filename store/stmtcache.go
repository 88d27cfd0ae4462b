package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"

	"github.com/mattn/go-sqlite3"
)

// stmtCacheSize is how many prepared statements each SQLite connection
// keeps. Remit issues a few hundred distinct statement texts at most (the
// number of placeholders in multi-row inserts and IN lists varies); the
// least recently used beyond this are finalized.
const stmtCacheSize = 256

// stmtCacheConnector opens go-sqlite3 connections that keep a prepared
// statement per query text, so a statement is compiled once per connection
// and reused in and out of transactions. It stands in for GORM's
// PrepareStmt, whose statements database/sql prepares again in every
// transaction. It is handed to sql.OpenDB, so no driver is registered.
type stmtCacheConnector struct {
	dsn  string
	size int
	// pragmas run on every new connection.
	pragmas []string
}

// newStmtCacheConnector returns a connector for the go-sqlite3 DSN whose
// connections cache up to size statements each and run pragmas when opened.
func newStmtCacheConnector(dsn string, size int, pragmas ...string) *stmtCacheConnector {
	return &stmtCacheConnector{dsn: dsn, size: size, pragmas: pragmas}
}

// Connect opens a go-sqlite3 connection, runs the pragmas, and wraps it.
func (c *stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Driver().Open(c.dsn)
	if err != nil {
		return nil, err
	}
	for _, p := range c.pragmas {
		if _, err := conn.(*stmtCacheConn).SQLiteConn.ExecContext(ctx, p, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return conn, nil
}

// Driver returns a driver whose connections cache statements like the
// connector's.
func (c *stmtCacheConnector) Driver() driver.Driver { return stmtCacheDriver{size: c.size} }

// stmtCacheDriver is the driver.Driver of stmtCacheConnector.
type stmtCacheDriver struct{ size int }

// Open opens a go-sqlite3 connection to dsn and wraps it.
func (d stmtCacheDriver) Open(dsn string) (driver.Conn, error) {
	conn, err := (&sqlite3.SQLiteDriver{}).Open(dsn)
	if err != nil {
		return nil, err
	}
	return newStmtCacheConn(conn.(*sqlite3.SQLiteConn), d.size), nil
}

// stmtCacheConn is a go-sqlite3 connection whose ExecContext and
// QueryContext run cached statements. Everything else (BeginTx,
// PrepareContext, Ping, ...) is go-sqlite3's, promoted by the embedding.
type stmtCacheConn struct {
	*sqlite3.SQLiteConn

	// mu guards the cache. database/sql already serializes the use of a
	// connection, including the Close of its rows; the lock keeps the
	// cache sound without relying on that.
	mu      sync.Mutex
	size    int
	lru     list.List // of *cachedStmt, most recently used first
	byQuery map[string]*list.Element
}

// cachedStmt is a prepared statement of one query text on one connection.
// It keeps the arguments of its last use bound until its next use
// (go-sqlite3 resets statements but cannot clear their bindings), as
// GORM's cached statements did; Remit binds no large values.
type cachedStmt struct {
	query string
	stmt  *sqlite3.SQLiteStmt
	// returnsRows is set when the statement has result columns. Exec steps
	// a statement once and leaves it unreset, which for such a statement
	// would keep it active (and its transaction open) until its next use;
	// Exec therefore runs those uncached, as go-sqlite3 does.
	returnsRows bool
	// busy is set while the statement runs, which for a query lasts until
	// its Rows closes: a second result set on the same connection must not
	// share it.
	busy bool
	// evicted is set when the statement left the cache while busy; it is
	// finalized when its Rows closes.
	evicted bool
}

func newStmtCacheConn(c *sqlite3.SQLiteConn, size int) *stmtCacheConn {
	return &stmtCacheConn{SQLiteConn: c, size: size, byQuery: make(map[string]*list.Element)}
}

// ExecContext runs query with a cached statement, or as go-sqlite3 does
// when the query cannot use one (see acquire).
func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.acquire(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.SQLiteConn.ExecContext(ctx, query, args)
	}
	defer c.release(cs)
	if cs.returnsRows {
		return c.SQLiteConn.ExecContext(ctx, query, args)
	}
	return cs.stmt.ExecContext(ctx, args)
}

// QueryContext runs query with a cached statement, busy until the returned
// Rows closes, or as go-sqlite3 does when the query cannot use one (see
// acquire): go-sqlite3 then prepares a statement that closes with its Rows.
func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.acquire(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.SQLiteConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		c.release(cs)
		return nil, err
	}
	return &cachedRows{SQLiteRows: rows.(*sqlite3.SQLiteRows), conn: c, stmt: cs}, nil
}

// Close finalizes the cached statements, then closes the connection:
// SQLite keeps a connection with unfinalized statements open.
func (c *stmtCacheConn) Close() error {
	c.mu.Lock()
	for e := c.lru.Front(); e != nil; e = e.Next() {
		_ = e.Value.(*cachedStmt).stmt.Close()
	}
	c.lru.Init()
	clear(c.byQuery)
	c.mu.Unlock()
	return c.SQLiteConn.Close()
}

// acquire returns the cached statement of query, marked busy, preparing it
// on a miss. It returns nil, and the caller goes the uncached way, when
//   - the statement is busy with an open Rows;
//   - query may hold more than one statement (a ';' other than a final
//     one), which go-sqlite3 runs one after the other;
//   - query starts with something other than a keyword (a comment, or
//     nothing: go-sqlite3 prepares no statement for it);
//   - query controls a transaction (GORM's savepoints carry a random name
//     and would only push useful statements out);
//   - the arguments are named or their number differs from the
//     statement's placeholders, where go-sqlite3 distributes them itself.
func (c *stmtCacheConn) acquire(ctx context.Context, query string, args []driver.NamedValue) (*cachedStmt, error) {
	if !cacheable(query) {
		return nil, nil
	}
	for _, a := range args {
		if a.Name != "" {
			return nil, nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byQuery[query]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy || cs.stmt.NumInput() != len(args) {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		cs.busy = true
		return cs, nil
	}

	s, err := c.SQLiteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	stmt := s.(*sqlite3.SQLiteStmt)
	// Querying without stepping binds nothing and runs nothing; it tells
	// the statement's result columns.
	probe, err := stmt.QueryContext(ctx, nil)
	if err != nil {
		_ = stmt.Close()
		return nil, err
	}
	cs := &cachedStmt{query: query, stmt: stmt, returnsRows: len(probe.Columns()) > 0}
	if err := probe.Close(); err != nil {
		_ = stmt.Close()
		return nil, err
	}
	cs.busy = stmt.NumInput() == len(args)
	c.byQuery[query] = c.lru.PushFront(cs)
	for c.lru.Len() > c.size {
		c.evictLocked(c.lru.Back())
	}
	if !cs.busy {
		return nil, nil
	}
	return cs, nil
}

// evictLocked drops the statement of e from the cache and finalizes it, or
// leaves that to its Rows if it is busy.
func (c *stmtCacheConn) evictLocked(e *list.Element) {
	cs := c.lru.Remove(e).(*cachedStmt)
	delete(c.byQuery, cs.query)
	if cs.busy {
		cs.evicted = true
		return
	}
	_ = cs.stmt.Close()
}

// release ends a use of cs.
func (c *stmtCacheConn) release(cs *cachedStmt) {
	c.mu.Lock()
	cs.busy = false
	evicted := cs.evicted
	c.mu.Unlock()
	if evicted {
		_ = cs.stmt.Close()
	}
}

// cacheable reports whether query is one statement that may be cached (see
// acquire).
func cacheable(query string) bool {
	q := strings.TrimSpace(query)
	if i := strings.IndexByte(q, ';'); i >= 0 && i != len(q)-1 {
		return false
	}
	end := strings.IndexFunc(q, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') })
	if end < 0 {
		end = len(q)
	}
	switch strings.ToUpper(q[:end]) {
	case "", "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE":
		return false
	}
	return true
}

// cachedRows is the Rows of a cached statement: closing it resets the
// statement and hands it back to the cache.
type cachedRows struct {
	*sqlite3.SQLiteRows
	conn *stmtCacheConn
	stmt *cachedStmt
}

// Close closes the rows, which resets the statement, and releases it.
func (r *cachedRows) Close() error {
	err := r.SQLiteRows.Close()
	if r.stmt != nil {
		r.conn.release(r.stmt)
		r.stmt = nil
	}
	return err
}
