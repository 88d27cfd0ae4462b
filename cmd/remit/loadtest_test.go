package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/remit/remit/internal/testdb"
)

// TestLoadtestOnPostgres runs `remit loadtest -database-url` briefly on a
// fresh PostgreSQL database, so that the command, its same-work floor and
// the scenarios keep working: every target answers every scenario without
// an error, and the summary compares Remit with the floor and with SQLite,
// and three `remit serve` processes on the database with one; and, when
// named, three processes of the floor with one.
func TestLoadtestOnPostgres(t *testing.T) {
	url := testdb.PostgresURL(t)
	loadtestBinary = func() (string, error) { return remitBinary(t), nil }
	t.Cleanup(func() { loadtestBinary = os.Executable })
	checkLoadtest(t, []string{"-database-url", url, "-replicas", "1,3"},
		[]string{"remit", "bare", "remit-pg", "floor-pg", "pg-x1", "pg-x3"},
		[]string{"remit-pg/floor-pg (PostgreSQL against the same-work floor)", "remit-pg/remit (PostgreSQL against SQLite)", "remit/bare (SQLite)",
			"pg-x3/pg-x1 (3 processes on one PostgreSQL database against 1)"})
	checkLoadtest(t, []string{"-database-url", url, "-replicas", "1,3", "-target", "floor-x1,floor-x3"},
		[]string{"floor-x1", "floor-x3"}, []string{"floor-x3/floor-x1 (the same-work floor, 3 processes against 1)"})

	// With -idempotency-keys every POST to Remit carries a key of its own:
	// each is claimed and its response stored.
	keyed := func() int64 {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var n int64
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM idempotency_keys WHERE key LIKE 'load-%' AND done").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := keyed()
	checkLoadtest(t, []string{"-database-url", url, "-target", "remit,remit-pg", "-idempotency-keys"},
		[]string{"remit", "remit-pg"}, []string{"remit-pg/remit (PostgreSQL against SQLite)"})
	if after := keyed(); after <= before {
		t.Errorf("-idempotency-keys stored %d responses on PostgreSQL", after-before)
	}
}

// checkLoadtest runs `remit loadtest` briefly with args and checks that
// exactly the targets answer every scenario without an error and that the
// summary has each of the lines for every scenario.
func checkLoadtest(t *testing.T, args, targets, summary []string) {
	t.Helper()
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	o := loadtestFlags(fs)
	if err := fs.Parse(append([]string{"-duration", "300ms", "-rounds", "1", "-conns", "4"}, args...)); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	o.out = &out
	if err := loadtest(o); err != nil {
		t.Fatalf("loadtest %v: %v\n%s", args, err, out.String())
	}
	report := out.String()
	row := regexp.MustCompile(`(?m)^\| ([^|]+) \| ([a-z0-9-]+) \| (\d+) \| (\d+) \| (\d+) \|`)
	seen := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(report, -1) {
		seen[m[2]]++
		if m[3] == "0" || m[5] != "0" {
			t.Errorf("%s on %s: %s operations, %s errors\n%s", m[1], m[2], m[3], m[5], report)
		}
	}
	if len(seen) != len(targets) {
		t.Errorf("targets driven: %v, want %v\n%s", seen, targets, report)
	}
	for _, target := range targets {
		if seen[target] != 3 {
			t.Errorf("target %s has %d scenario rows, want 3\n%s", target, seen[target], report)
		}
	}
	for _, want := range summary {
		if strings.Count(report, want) != 3 {
			t.Errorf("summary lacks %q for each scenario\n%s", want, report)
		}
	}
}
