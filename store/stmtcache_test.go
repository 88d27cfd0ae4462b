package store

// The statement cache is unexported, so its tests live inside the package;
// they drive it through database/sql as GORM does and look at SQLite's side
// with an authorizer, which SQLite calls when it compiles a statement and
// never when it runs one.

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mattn/go-sqlite3"
)

const (
	insertItem  = "INSERT INTO items (v) VALUES (?)"
	selectItems = "SELECT v FROM items WHERE v >= ? ORDER BY v"
)

// compiles counts the statements SQLite compiles on a connection.
type compiles struct{ inserts, selects int }

// openCachedDB opens a SQLite file in a temporary directory with one
// connection that caches up to size statements, creates the tables items
// and other (in one Exec, which is not cached) and returns the handle and
// the compile counts from then on.
func openCachedDB(t *testing.T, size int) (*sql.DB, *compiles) {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "cache.db") + "?_journal_mode=WAL&_busy_timeout=10000&_txlock=immediate"
	db := sql.OpenDB(newStmtCacheConnector(dsn, size))
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE items (v INTEGER NOT NULL); CREATE TABLE other (v INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	n := &compiles{}
	withConn(t, db, func(c *stmtCacheConn) {
		c.RegisterAuthorizer(func(op int, arg1, _, _ string) int {
			switch {
			case op == sqlite3.SQLITE_INSERT && arg1 == "items":
				n.inserts++
			case op == sqlite3.SQLITE_SELECT:
				n.selects++
			}
			return sqlite3.SQLITE_OK
		})
	})
	return db, n
}

// withConn runs fn with the handle's connection.
func withConn(t *testing.T, db *sql.DB, fn func(c *stmtCacheConn)) {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	raw(t, conn, fn)
}

// raw runs fn with the driver connection of conn.
func raw(t *testing.T, conn *sql.Conn, fn func(c *stmtCacheConn)) {
	t.Helper()
	if err := conn.Raw(func(dc any) error { fn(dc.(*stmtCacheConn)); return nil }); err != nil {
		t.Fatal(err)
	}
}

// cached returns the queries in the connection's cache, most recently used
// first, and the statement of each.
func cached(t *testing.T, db *sql.DB) ([]string, map[string]*sqlite3.SQLiteStmt) {
	t.Helper()
	var queries []string
	stmts := map[string]*sqlite3.SQLiteStmt{}
	withConn(t, db, func(c *stmtCacheConn) {
		for e := c.lru.Front(); e != nil; e = e.Next() {
			cs := e.Value.(*cachedStmt)
			queries = append(queries, cs.query)
			stmts[cs.query] = cs.stmt
		}
	})
	return queries, stmts
}

// readAll reads the rest of rows as integers and closes them.
func readAll(t *testing.T, rows *sql.Rows) []int64 {
	t.Helper()
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStmtCacheReusesStatementsAcrossTransactions(t *testing.T) {
	db, n := openCachedDB(t, 8)
	ctx := context.Background()
	for i := range int64(3) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(insertItem, 10+i); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.Query(selectItems, 10+i)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := readAll(t, rows), []int64{10 + i}; !slices.Equal(got, want) {
			t.Fatalf("transaction %d read %v, want %v", i, got, want)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	res, err := db.Exec(insertItem, 13)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := res.LastInsertId(); id != 4 {
		t.Fatalf("LastInsertId = %d, want 4", id)
	}
	rows, err := db.Query(selectItems, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readAll(t, rows), []int64{10, 11, 12, 13}; !slices.Equal(got, want) {
		t.Fatalf("read %v, want %v", got, want)
	}

	// Three transactions and the statements outside them compiled each
	// query once.
	if *n != (compiles{inserts: 1, selects: 1}) {
		t.Fatalf("compiled %+v, want 1 insert and 1 select", *n)
	}
	queries, _ := cached(t, db)
	if want := []string{selectItems, insertItem}; !slices.Equal(queries, want) {
		t.Fatalf("cache holds %q, want %q", queries, want)
	}
}

func TestStmtCacheBusyStatementGetsItsOwn(t *testing.T) {
	db, n := openCachedDB(t, 8)
	for _, v := range []int64{1, 2, 3} {
		if _, err := db.Exec(insertItem, v); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	outer, err := tx.Query(selectItems, 0)
	if err != nil {
		t.Fatal(err)
	}
	var first int64
	if !outer.Next() || outer.Scan(&first) != nil || first != 1 {
		t.Fatalf("outer query's first row %d, want 1 (%v)", first, outer.Err())
	}
	// The same query while the outer rows are open: it must not reset the
	// statement under them.
	inner, err := tx.Query(selectItems, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readAll(t, inner), []int64{3}; !slices.Equal(got, want) {
		t.Fatalf("inner query read %v, want %v", got, want)
	}
	if got, want := readAll(t, outer), []int64{2, 3}; !slices.Equal(got, want) {
		t.Fatalf("outer query read %v after its first row, want %v", got, want)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// The cached statement is free again once its rows closed.
	rows, err := db.Query(selectItems, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readAll(t, rows), []int64{3}; !slices.Equal(got, want) {
		t.Fatalf("read %v, want %v", got, want)
	}
	if n.selects != 2 {
		t.Fatalf("compiled the select %d times, want 2 (the cached one and one for the inner query)", n.selects)
	}
	withConn(t, db, func(c *stmtCacheConn) {
		if cs := c.byQuery[selectItems].Value.(*cachedStmt); cs.busy {
			t.Fatal("cached select still busy after its rows closed")
		}
	})
}

func TestStmtCacheEvictionFinalizesStatements(t *testing.T) {
	db, n := openCachedDB(t, 2)
	ctx := context.Background()
	exec := func(query string, arg int64) {
		t.Helper()
		if _, err := db.Exec(query, arg); err != nil {
			t.Fatal(err)
		}
	}
	exec(insertItem, 1)
	exec(insertItem, 2)
	_, stmts := cached(t, db)
	insert := stmts[insertItem]
	if insert.NumInput() != 1 {
		t.Fatalf("cached insert has %d placeholders, want 1", insert.NumInput())
	}

	// Two other queries push the insert out. A finalized go-sqlite3
	// statement has no SQLite statement left, so no placeholders.
	rows, err := db.Query(selectItems, 0)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, rows)
	exec("DELETE FROM items WHERE v = ?", 2)
	queries, _ := cached(t, db)
	if want := []string{"DELETE FROM items WHERE v = ?", selectItems}; !slices.Equal(queries, want) {
		t.Fatalf("cache holds %q, want %q", queries, want)
	}
	if insert.NumInput() != 0 {
		t.Fatal("evicted insert was not finalized")
	}
	exec(insertItem, 2) // compiled again; pushes the select out

	// A statement evicted while its rows are open lives until they close.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	outer, err := conn.QueryContext(ctx, selectItems, 0)
	if err != nil {
		t.Fatal(err)
	}
	var sel *sqlite3.SQLiteStmt
	raw(t, conn, func(c *stmtCacheConn) { sel = c.byQuery[selectItems].Value.(*cachedStmt).stmt })
	for _, q := range []string{"INSERT INTO other (v) VALUES (?)", "DELETE FROM other WHERE v = ?"} {
		if _, err := conn.ExecContext(ctx, q, 1); err != nil {
			t.Fatal(err)
		}
	}
	raw(t, conn, func(c *stmtCacheConn) {
		if _, ok := c.byQuery[selectItems]; ok || c.lru.Len() != 2 {
			t.Fatalf("select still cached (%t) or %d statements cached, want 2", ok, c.lru.Len())
		}
	})
	if sel.NumInput() != 1 {
		t.Fatal("select finalized while its rows were open")
	}
	if got, want := readAll(t, outer), []int64{1, 2}; !slices.Equal(got, want) {
		t.Fatalf("evicted select read %v, want %v", got, want)
	}
	if sel.NumInput() != 0 {
		t.Fatal("evicted select not finalized when its rows closed")
	}
	conn.Close()
	if *n != (compiles{inserts: 2, selects: 2}) {
		t.Fatalf("compiled %+v, want 2 inserts and 2 selects (before and after eviction)", *n)
	}

	// Closing the connection finalizes what is cached.
	queries, stmts = cached(t, db)
	if want := []string{"DELETE FROM other WHERE v = ?", "INSERT INTO other (v) VALUES (?)"}; !slices.Equal(queries, want) {
		t.Fatalf("cache holds %q, want %q", queries, want)
	}
	db.Close()
	for q, s := range stmts {
		if s.NumInput() != 0 {
			t.Errorf("%q not finalized when the connection closed", q)
		}
	}
}

func TestStmtCacheExecOfRowsEndsItsTransaction(t *testing.T) {
	db, _ := openCachedDB(t, 8)
	const returning = "INSERT INTO items (v) VALUES (?) RETURNING v"
	for _, v := range []int64{1, 2} {
		if _, err := db.Exec(returning, v); err != nil {
			t.Fatal(err)
		}
	}
	// An Exec steps its statement once; had the RETURNING insert stayed
	// unreset in the cache, its write would still hold the database.
	other, err := sql.Open("sqlite3", "file:"+sqliteFile(t, db)+"?_busy_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec("INSERT INTO items (v) VALUES (3)"); err != nil {
		t.Fatalf("second connection cannot write: %v", err)
	}
	rows, err := db.Query(selectItems, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readAll(t, rows), []int64{1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("read %v, want %v", got, want)
	}
}

func TestStmtCacheUncachedQueries(t *testing.T) {
	db, _ := openCachedDB(t, 8)
	// Two statements in one Exec, named arguments, a savepoint: go-sqlite3
	// runs them as it always did.
	if _, err := db.Exec("INSERT INTO items (v) VALUES (?); INSERT INTO items (v) VALUES (?)", 1, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO items (v) VALUES (:v)", sql.Named("v", 3)); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("SAVEPOINT sp1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("RELEASE SAVEPOINT sp1"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(insertItem); err == nil {
		t.Fatal("insert without its argument succeeded")
	}
	rows, err := db.Query(selectItems, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readAll(t, rows), []int64{1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("read %v, want %v", got, want)
	}
	queries, _ := cached(t, db)
	// The insert without its argument went to go-sqlite3 after its
	// statement was cached.
	if want := []string{selectItems, insertItem}; !slices.Equal(queries, want) {
		t.Fatalf("cache holds %q, want %q", queries, want)
	}
}

func TestCacheable(t *testing.T) {
	for q, want := range map[string]bool{
		insertItem:                      true,
		"SELECT 1;":                     true,
		"  update items set v = 1  ":    true,
		"WITH x AS (SELECT 1) SELECT *": true,
		"SELECT 1; SELECT 2":            false,
		"SELECT ';'":                    false,
		"-- note\nSELECT 1":             false,
		"":                              false,
		"SAVEPOINT sp123":               false,
		"release savepoint sp123":       false,
		"ROLLBACK TO SAVEPOINT sp123":   false,
		"BEGIN IMMEDIATE":               false,
		"COMMIT":                        false,
	} {
		if got := cacheable(q); got != want {
			t.Errorf("cacheable(%q) = %t, want %t", q, got, want)
		}
	}
}

// sqliteFile returns the file of the handle's main database.
func sqliteFile(t *testing.T, db *sql.DB) string {
	t.Helper()
	var name string
	withConn(t, db, func(c *stmtCacheConn) { name = c.GetFilename("") })
	return name
}
