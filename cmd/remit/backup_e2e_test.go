package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/remit/remit/store"
)

// post sends a JSON body as admin and returns the status and the decoded
// body; safe to call from any goroutine (it reports with t.Errorf).
func post(t *testing.T, client *http.Client, url string, body any) (int, map[string]any) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", url, bytes.NewReader(b))
	if err != nil {
		t.Errorf("%s: %v", url, err)
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("%s: %v", url, err)
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// TestBackupUnderLoad takes backups while eight writers create clients and
// invoices over HTTP: one with `remit backup` (its own connections, as
// another process would) and one with DB.Backup on the serving handle. Each
// copy passes integrity_check, holds every row committed before the backup
// began, and every row in it is whole: each client has all its fields and
// each invoice both its lines. Then `remit restore` puts a copy back.
func TestBackupUnderLoad(t *testing.T) {
	s := MustRunMain(t)
	dir := t.TempDir()
	cli := s.mustClient("Invoice Holder", "EUR", "UTC")

	var created atomic.Int64 // 201s received so far
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				tag := fmt.Sprintf("w%dn%d", w, n)
				var status int
				if w%2 == 0 {
					status, _ = post(t, s.client, s.URL()+"/v1/clients", map[string]any{
						"name": "Load " + tag, "email": tag + "@load.example", "contact_name": "Contact " + tag,
						"account_manager": "AM " + tag, "address": tag + " Load Street", "currency": "EUR",
						"communication": map[string]any{"channel": "email", "response_time_hours": 24}, "turnaround_days": 5,
					})
				} else {
					status, _ = post(t, s.client, s.URL()+"/v1/invoices", map[string]any{"client_id": cli, "memo": tag, "lines": []map[string]any{
						{"description": "First " + tag, "unit_amount": 1000, "quantity": "2"},
						{"description": "Second " + tag, "unit_amount": 250, "quantity": "1.5"},
					}})
				}
				if status != 201 {
					t.Errorf("%s: status %d", tag, status)
					return
				}
				created.Add(1)
			}
		})
	}

	defer func() { stop.Store(true); wg.Wait() }() // also when the test fails early
	time.Sleep(300 * time.Millisecond)
	t.Setenv("DATABASE_URL", s.Config.DatabaseURL)
	cliCopy := filepath.Join(dir, "cli.db")
	before := created.Load()
	if err := run(context.Background(), []string{"backup", cliCopy}); err != nil {
		t.Fatalf("remit backup: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	liveCopy := filepath.Join(dir, "live.db")
	before2 := created.Load()
	if err := s.DB.Backup(context.Background(), liveCopy); err != nil {
		t.Fatalf("DB.Backup: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if err := s.DB.Backup(context.Background(), liveCopy); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}

	var total int64
	if err := s.DB.SQL().QueryRow("SELECT (SELECT COUNT(*) FROM clients) + (SELECT COUNT(*) FROM invoices)").Scan(&total); err != nil {
		t.Fatal(err)
	}
	copies := map[string]int64{}
	for file, atLeast := range map[string]int64{cliCopy: before, liveCopy: before2} {
		n := checkCopy(t, file)
		if n < atLeast || n > total {
			t.Errorf("%s holds %d clients and invoices; %d were created before it began, %d in all", file, n, atLeast, total)
		}
		copies[file] = n
	}
	if copies[cliCopy] >= total || copies[liveCopy] >= total {
		t.Errorf("a copy holds everything (%v of %d): the backups did not run under load", copies, total)
	}
	t.Logf("rows created: %d; in the copies: %v", total, copies)

	// Restore: refused, even with -force, while the service runs (it holds
	// the lock beside the file), saying how to stop it; the database is
	// untouched and the service goes on writing to it.
	if err := run(context.Background(), []string{"restore", "-force", cliCopy}); !errors.Is(err, store.ErrDatabaseInUse) ||
		!strings.Contains(err.Error(), "stop it first") {
		t.Fatalf("restore -force while serving: %v", err)
	}
	s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{"name": "While refused", "email": "w@r.example", "currency": "EUR"}})
	if n := s.count("clients", "name = ?", "While refused"); n != 1 {
		t.Fatalf("the refused restore lost a write: %d", n)
	}

	// Refused while the database exists, done with -force on a stopped
	// service, which then serves the copy.
	s.stop()
	if err := run(context.Background(), []string{"restore", cliCopy}); err == nil || !strings.Contains(err.Error(), "-force") {
		t.Fatalf("restore over an existing database: %v", err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 500), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"restore", "-force", garbage}); err == nil {
		t.Fatal("restored a file that is not a database")
	}
	if err := run(context.Background(), []string{"restore", "-force", cliCopy}); err != nil {
		t.Fatalf("remit restore -force: %v", err)
	}
	restored := startMain(t, s.Config)
	var n int64
	if err := restored.DB.SQL().QueryRow("SELECT (SELECT COUNT(*) FROM clients) + (SELECT COUNT(*) FROM invoices)").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != copies[cliCopy] {
		t.Fatalf("restored database holds %d rows, the backup %d", n, copies[cliCopy])
	}
	restored.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{"name": "After restore", "email": "a@r.example", "currency": "EUR"}})
}

// checkCopy opens a backup with store.Open, checks it, and returns how many
// clients and invoices it holds, the invoice holder and load rows included.
func checkCopy(t *testing.T, file string) int64 {
	t.Helper()
	if err := store.CheckSQLiteFile(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := db.SQL()
	var integrity string
	if err := q.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("%s: integrity_check %q %v", file, integrity, err)
	}

	rows, err := q.Query(`SELECT name, email, contact_name, account_manager, address, currency, timezone, channel,
		response_time_hours, turnaround_days, relationship, status FROM clients WHERE name LIKE 'Load %'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var clients int64
	for rows.Next() {
		var name, email, contact, am, addr, cur, tz, channel, rel, status string
		var hours, turnaround int
		if err := rows.Scan(&name, &email, &contact, &am, &addr, &cur, &tz, &channel, &hours, &turnaround, &rel, &status); err != nil {
			t.Fatal(err)
		}
		tag := strings.TrimPrefix(name, "Load ")
		got := []any{email, contact, am, addr, cur, tz, channel, hours, turnaround, rel, status}
		want := []any{tag + "@load.example", "Contact " + tag, "AM " + tag, tag + " Load Street", "EUR", "UTC", "email", 24, 5, "standard", "active"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: client %s is %v, want %v", file, name, got, want)
		}
		clients++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	var invoices, incomplete, other int64
	if err := q.QueryRow(`SELECT COUNT(*) FROM invoices`).Scan(&invoices); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRow(`SELECT COUNT(*) FROM invoices i WHERE (SELECT COUNT(*) FROM invoice_lines l WHERE l.invoice_id = i.id) != 2`).Scan(&incomplete); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRow(`SELECT COUNT(*) FROM clients WHERE name NOT LIKE 'Load %'`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	if clients == 0 || invoices == 0 || incomplete != 0 {
		t.Fatalf("%s: %d load clients, %d invoices, %d without both lines", file, clients, invoices, incomplete)
	}
	return clients + invoices + other
}
