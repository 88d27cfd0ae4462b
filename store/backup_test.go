package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/testdb"
	"github.com/remit/remit/store"
)

// TestBackupAndRestore copies a SQLite database, restores the copy to a new
// path and to a path whose old database left a -wal file behind, and finds
// the client in each.
func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, "sqlite")
	c := &domain.Client{Name: "Backed Up", Email: "b@u.example", Timezone: "UTC", Currency: "EUR",
		Relationship: domain.RelationshipStandard, Status: domain.ClientActive, Communication: domain.Communication{Channel: "email"}}
	if err := store.NewClientService(db).CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyPath := filepath.Join(dir, "copy.db")
	if err := db.Backup(ctx, copyPath); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("backup left %d files, want the copy alone: %v", len(entries), entries)
	}

	fresh := filepath.Join(dir, "new", "remit.db")
	if err := store.Restore(ctx, copyPath, fresh, false); err != nil {
		t.Fatal(err)
	}
	if got := clientName(t, fresh, c.ID); got != "Backed Up" {
		t.Fatalf("restored client %q", got)
	}
	if err := store.Restore(ctx, copyPath, fresh, false); err == nil {
		t.Fatal("restore replaced an existing database without force")
	}

	// An old database with a stale -wal: force replaces both.
	old := filepath.Join(dir, "old.db")
	if err := os.WriteFile(old, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old+"-wal", []byte("stale wal"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := store.Restore(ctx, copyPath, "sqlite://"+old, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the old -wal file is still there: %v", err)
	}
	if got := clientName(t, old, c.ID); got != "Backed Up" {
		t.Fatalf("restored client %q", got)
	}

	if err := store.Restore(ctx, copyPath, copyPath, true); err == nil {
		t.Fatal("restored a backup onto itself")
	}
	if err := store.CheckSQLiteFile(ctx, old+"-missing"); err == nil {
		t.Fatal("checked a missing file")
	}
}

// TestBackupRefusesPostgres: PostgreSQL is backed up with pg_dump.
func TestBackupRefusesPostgres(t *testing.T) {
	db := MustOpenDB(t, "postgres")
	if err := db.Backup(context.Background(), filepath.Join(t.TempDir(), "x.db")); !errors.Is(err, store.ErrPostgresBackup) {
		t.Fatalf("backup on PostgreSQL: %v", err)
	}
	if err := store.Restore(context.Background(), "x.db", testdb.AdminURL(), true); !errors.Is(err, store.ErrPostgresBackup) {
		t.Fatalf("restore on PostgreSQL: %v", err)
	}
}

// clientName opens the SQLite file at path and returns the client's name.
func clientName(t *testing.T, path, id string) string {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := store.NewClientService(db).FindClientByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Name
}
