// Package testdb gives tests a fresh database: a SQLite file in t.TempDir(),
// or a new PostgreSQL database on the server of this machine
// (REMIT_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/postgres),
// dropped when the test ends.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// AdminURL is the PostgreSQL server tests create their databases on.
func AdminURL() string {
	if u := os.Getenv("REMIT_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// SQLiteURL returns the path of a new SQLite file in a temporary directory.
func SQLiteURL(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "remit.db")
}

// PostgresURL creates an empty database and returns its URL. It skips the
// test, saying why, only when no PostgreSQL server answers; with
// REMIT_REQUIRE_POSTGRES=1 (as CI sets) it fails instead.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	admin := AdminURL()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("REMIT_REQUIRE_POSTGRES") == "1" {
			tb.Fatalf("PostgreSQL is required (REMIT_REQUIRE_POSTGRES=1) but %s does not answer: %v", admin, err)
		}
		tb.Skipf("SKIPPED: no PostgreSQL server answers at %s (%v); set REMIT_TEST_POSTGRES to run these tests", admin, err)
	}
	defer db.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "remit_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("REMIT_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// Dialects are the databases every store test runs on.
var Dialects = []string{"sqlite", "postgres"}

// URL returns a fresh database of the dialect ("sqlite" or "postgres").
func URL(tb testing.TB, dialect string) string {
	tb.Helper()
	if dialect == "postgres" {
		return PostgresURL(tb)
	}
	return SQLiteURL(tb)
}
