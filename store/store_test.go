package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/remit/remit/internal/testdb"
	"github.com/remit/remit/store"
)

// now is the pinned clock of every store test.
var now = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// MustOpenDB opens and migrates a fresh database of the dialect, closed when the test ends.
func MustOpenDB(tb testing.TB, dialect string) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, testdb.URL(tb, dialect))
	if err != nil {
		tb.Fatal(err)
	}
	db.Now = func() time.Time { return now }
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// eachDialect runs fn as a subtest on SQLite and on PostgreSQL.
func eachDialect(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, d := range testdb.Dialects {
		t.Run(d, func(t *testing.T) { fn(t, MustOpenDB(t, d)) })
	}
}
