package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/remit/remit/internal/ledgercheck"
	"github.com/remit/remit/internal/testdb"
	"github.com/remit/remit/store"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// remitBinary builds cmd/remit once per test run.
func remitBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "remit-bin")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "remit")
		out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// process is one Remit server running as its own OS process.
type process struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	env  []string
	logs string
}

func startProcess(t *testing.T, databaseURL string, extra ...string) *process {
	t.Helper()
	port := freePort(t)
	p := &process{t: t, url: fmt.Sprintf("http://127.0.0.1:%d", port), logs: filepath.Join(t.TempDir(), "remit.log")}
	p.env = append(os.Environ(), "REMIT_ADDR="+fmt.Sprintf("127.0.0.1:%d", port), "DATABASE_URL="+databaseURL,
		"REMIT_ADMIN_KEY="+testAdminKey, "REMIT_NOW=2026-03-01", "REMIT_SWEEP_INTERVAL=0", "REMIT_DELIVERY_INTERVAL=0",
		"REMIT_RATE_LIMIT=0", "REMIT_LOG_LEVEL=warn")
	p.env = append(p.env, extra...)
	p.start()
	return p
}

func (p *process) start() {
	p.t.Helper()
	logs, err := os.OpenFile(p.logs, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd = exec.Command(remitBinary(p.t))
	p.cmd.Env, p.cmd.Stdout, p.cmd.Stderr = p.env, logs, logs
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { p.kill() })
	for range 200 {
		if resp, err := http.Get(p.url + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	b, _ := os.ReadFile(p.logs)
	p.t.Fatalf("remit did not start: %s", b)
}

// kill stops the process with SIGKILL: no shutdown, no flush.
func (p *process) kill() {
	if p.cmd != nil && p.cmd.Process != nil && p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.cmd.Wait()
	}
}

// acked is what the servers acknowledged with a 2xx.
type acked struct {
	mu       sync.Mutex
	clients  map[string]bool
	invoices map[string]string // id -> number
	payments map[string]int64  // id -> amount
	intents  map[string]int64  // Stripe PaymentIntent id -> amount
}

// postRetrying sends a POST with an Idempotency-Key to one of urls, retrying (same
// key, same body) while servers are down or answer 5xx, as a careful client
// would. It returns the status and body of the first non-5xx answer.
func postRetrying(client *http.Client, urls func() string, path, key string, body any, deadline time.Time) (int, map[string]any) {
	b, _ := json.Marshal(body)
	for time.Now().Before(deadline.Add(30 * time.Second)) {
		req, _ := http.NewRequest("POST", urls()+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testAdminKey)
		req.Header.Set("Idempotency-Key", key)
		resp, err := client.Do(req)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusConflict && bytes.Contains(raw, []byte("idempotency_in_progress")) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return resp.StatusCode, m
	}
	return 0, nil
}

// runWorkload drives a mix of writes (clients, agreements, invoices,
// payments, sweeps) from workers until stop, spreading requests over urls,
// and records every acknowledged write.
func runWorkload(t *testing.T, workers int, urls func() string, stop time.Time) *acked {
	return runWorkloadStripe(t, workers, urls, stop, "")
}

// runWorkloadStripe is runWorkload where, with a webhook secret, every
// third invoice is paid by a signed Stripe payment_intent.succeeded event,
// delivered twice to different servers, as Stripe may.
func runWorkloadStripe(t *testing.T, workers int, urls func() string, stop time.Time, webhookSecret string) *acked {
	a := &acked{clients: map[string]bool{}, invoices: map[string]string{}, payments: map[string]int64{}, intents: map[string]int64{}}
	client := contractClient(t, &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}})
	var wg sync.WaitGroup
	var seq atomic.Int64
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for time.Now().Before(stop) {
				n := seq.Add(1)
				st, c := postRetrying(client, urls, "/v1/clients", fmt.Sprintf("c-%d", n), map[string]any{"name": fmt.Sprintf("Client %d", n), "email": fmt.Sprintf("c%d@x.example", n), "currency": "EUR"}, stop)
				if st != 201 {
					t.Errorf("create client: %d %v", st, c)
					return
				}
				cli := c["id"].(string)
				a.mu.Lock()
				a.clients[cli] = true
				a.mu.Unlock()
				if st, r := postRetrying(client, urls, "/v1/clients/"+cli+"/agreements", fmt.Sprintf("a-%d", n), map[string]any{"effective_from": "2025-01-01",
					"payment_terms": "net_30", "late_fee": map[string]any{"flat": 500, "percent": "1"}, "interest": map[string]any{"annual_rate": "8"}}, stop); st != 201 {
					t.Errorf("agreement: %d %v", st, r)
					return
				}
				for k := range 3 {
					issued := []string{"2026-01-01", "2026-02-10", "2026-02-25"}[k]
					st, inv := postRetrying(client, urls, "/v1/invoices", fmt.Sprintf("i-%d-%d", n, k), map[string]any{"client_id": cli, "issue": true, "issue_date": issued,
						"lines": []map[string]any{{"description": "Work", "quantity": "2", "unit_amount": 10000 + rng.IntN(50000), "tax_rate": "20"}}}, stop)
					if st != 201 {
						t.Errorf("issue: %d %v", st, inv)
						return
					}
					id := inv["id"].(string)
					a.mu.Lock()
					a.invoices[id] = inv["number"].(string)
					a.mu.Unlock()
					amount := int64(inv["total"].(float64)) / int64(1+rng.IntN(3))
					if webhookSecret != "" && k == 2 {
						pi := fmt.Sprintf("pi_load_%d_%d", n, k)
						event := stripeEvent("evt_"+pi, "payment_intent.succeeded", time.Now(), map[string]any{"id": pi, "object": "payment_intent",
							"amount": amount, "amount_received": amount, "currency": "eur", "status": "succeeded",
							"metadata": map[string]string{"remit_invoice_id": id}})
						for range 2 {
							if st := postWebhookRetrying(client, urls, event, webhookSecret, stop); st != 200 {
								t.Errorf("stripe webhook: %d", st)
								return
							}
						}
						a.mu.Lock()
						a.intents[pi] = amount
						a.mu.Unlock()
						continue
					}
					st, p := postRetrying(client, urls, "/v1/invoices/"+id+"/payments", fmt.Sprintf("p-%d-%d", n, k), map[string]any{"amount": amount, "paid_on": "2026-03-01"}, stop)
					if st != 201 {
						t.Errorf("pay: %d %v", st, p)
						return
					}
					a.mu.Lock()
					a.payments[p["id"].(string)] = amount
					a.mu.Unlock()
				}
				if n%5 == 0 {
					postRetrying(client, urls, "/v1/billing/run", fmt.Sprintf("s-%d", n), map[string]any{}, stop)
				}
			}
		})
	}
	wg.Wait()
	return a
}

// postWebhookRetrying posts a signed Stripe event to one of urls until a
// server answers below 500.
func postWebhookRetrying(client *http.Client, urls func() string, event []byte, secret string, deadline time.Time) int {
	for time.Now().Before(deadline.Add(30 * time.Second)) {
		req, _ := http.NewRequest("POST", urls()+"/v1/stripe/webhook", bytes.NewReader(event))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", signed(event, secret, time.Now()))
		resp, err := client.Do(req)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 500 {
			return resp.StatusCode
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0
}

// verify checks the ledger and that every acknowledged write is there.
func verify(t *testing.T, db *sql.DB, a *acked) {
	t.Helper()
	if err := ledgercheck.Check(db); err != nil {
		t.Fatal(err)
	}
	for id := range a.clients {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM clients WHERE id = $1", id).Scan(&n); err != nil || n != 1 {
			t.Fatalf("acknowledged client %s: %d rows (%v)", id, n, err)
		}
	}
	for id, number := range a.invoices {
		var got string
		if err := db.QueryRow("SELECT number FROM invoices WHERE id = $1", id).Scan(&got); err != nil || got != number {
			t.Fatalf("acknowledged invoice %s %s: found %q (%v)", id, number, got, err)
		}
	}
	for id, amount := range a.payments {
		var got int64
		if err := db.QueryRow("SELECT amount FROM payments WHERE id = $1", id).Scan(&got); err != nil || got != amount {
			t.Fatalf("acknowledged payment %s of %d: found %d (%v)", id, amount, got, err)
		}
	}
	for pi, amount := range a.intents {
		var got int64
		var n int
		if err := db.QueryRow("SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM payments WHERE external_key = $1", pi).Scan(&n, &got); err != nil || n != 1 || got != amount {
			t.Fatalf("acknowledged Stripe payment %s of %d: %d rows, %d (%v)", pi, amount, n, got, err)
		}
	}
	if len(a.invoices) == 0 || len(a.payments) == 0 {
		t.Fatal("the workload acknowledged nothing")
	}
	t.Logf("verified %d clients, %d invoices, %d payments", len(a.clients), len(a.invoices), len(a.payments))
}

func openForCheck(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.SQL()
}

// TestThreeReplicasOnPostgres runs three Remit processes on one PostgreSQL
// database with mixed traffic sent to all three (clients, agreements,
// issues, manual payments, Stripe webhooks delivered twice, sweeps), then
// checks the ledger and that every acknowledged write is there once.
func TestThreeReplicasOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: starts three server processes")
	}
	url := testdb.PostgresURL(t)
	mock := startStripeMock(t)
	stripeEnv := []string{"STRIPE_SECRET_KEY=" + testStripeKey, "STRIPE_WEBHOOK_SECRET=" + testWebhookSecret, "STRIPE_API_BASE=" + mock}
	replicas := []*process{startProcess(t, url, stripeEnv...), startProcess(t, url, stripeEnv...), startProcess(t, url, stripeEnv...)}
	var next atomic.Int64
	urls := func() string { return replicas[next.Add(1)%3].url }
	a := runWorkloadStripe(t, 12, urls, time.Now().Add(8*time.Second), testWebhookSecret)
	verify(t, openForCheck(t, url), a)
}

// TestKilledUnderLoad kills the server with SIGKILL at random moments while
// clients write and sweeps run, restarts it on the same database, and then
// checks that every acknowledged write is there and the ledger holds.
func TestKilledUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: kills and restarts server processes")
	}
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			url := testdb.URL(t, dialect)
			p := startProcess(t, url)
			var mu sync.RWMutex
			urls := func() string {
				mu.RLock()
				defer mu.RUnlock()
				return p.url
			}
			stop := time.Now().Add(8 * time.Second)
			done := make(chan *acked)
			go func() { done <- runWorkload(t, 8, urls, stop) }()
			kills := 0
			for time.Now().Before(stop.Add(-time.Second)) {
				time.Sleep(time.Duration(300+rand.IntN(900)) * time.Millisecond)
				mu.Lock()
				p.kill()
				p.start()
				mu.Unlock()
				kills++
			}
			a := <-done
			if kills < 3 {
				t.Fatalf("only %d kills", kills)
			}
			p.kill()
			t.Logf("%d kills", kills)
			verify(t, openForCheck(t, url), a)
		})
	}
}

// TestKeyRevokedOnOneReplicaIsRefusedByTheOther: two replicas on one
// PostgreSQL database keep authenticated keys in memory for an hour
// (REMIT_KEY_CACHE_TTL); a key revoked on one is refused by the other as
// soon as PostgreSQL's notification reaches it, not an hour later.
func TestKeyRevokedOnOneReplicaIsRefusedByTheOther(t *testing.T) {
	url := testdb.PostgresURL(t)
	a := startProcess(t, url, "REMIT_KEY_CACHE_TTL=1h")
	b := startProcess(t, url, "REMIT_KEY_CACHE_TTL=1h")
	client := contractClient(t, &http.Client{Timeout: 10 * time.Second})
	call := func(p *process, method, path, key string, body any) (int, map[string]any) {
		t.Helper()
		return callJSON(t, client, p, method, path, key, body)
	}
	st, k := call(a, "POST", "/v1/api_keys", testAdminKey, map[string]any{"name": "dashboard", "scopes": []string{"read"}})
	if st != 201 {
		t.Fatalf("create key: %d %v", st, k)
	}
	secret, id := k["secret"].(string), k["id"].(string)
	for range 2 { // the second answer comes from the replica's cache
		if st, r := call(b, "GET", "/v1/clients", secret, nil); st != 200 {
			t.Fatalf("the new key on the other replica: %d %v", st, r)
		}
	}
	if st, r := call(a, "DELETE", "/v1/api_keys/"+id, testAdminKey, nil); st != 200 {
		t.Fatalf("revoke: %d %v", st, r)
	}
	if st, r := call(a, "GET", "/v1/clients", secret, nil); st != 401 {
		t.Fatalf("the revoking replica still accepts the key: %d %v", st, r)
	}
	// The notification is asynchronous: poll, with a bound far below the
	// cache's hour.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, r := call(b, "GET", "/v1/clients", secret, nil)
		if st == 401 {
			break
		}
		if st != 200 || time.Now().After(deadline) {
			t.Fatalf("the other replica, after the revocation: %d %v", st, r)
		}
	}
}

// callJSON sends one request with a JSON body (nil: none) and returns the
// status and the decoded answer; a connection error fails the test.
func callJSON(t *testing.T, client *http.Client, p *process, method, path, key string, body any) (int, map[string]any) {
	t.Helper()
	st, m, err := tryJSON(client, p, method, path, key, body)
	if err != nil {
		t.Fatal(err)
	}
	return st, m
}

// tryJSON is callJSON that returns a connection error.
func tryJSON(client *http.Client, p *process, method, path, key string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m, nil
}

// TestKillMidGroupLeavesNoGap: invoices issued together on PostgreSQL are
// numbered in one transaction per replica (group issuing). The replica is
// killed (SIGKILL) while its group waits for the counter row; whatever the
// group's fate, the invoices of the series are numbered without a gap,
// those acknowledged before have their numbers, and issuing goes on.
func TestKillMidGroupLeavesNoGap(t *testing.T) {
	url := testdb.PostgresURL(t)
	a := startProcess(t, url)
	client := contractClient(t, &http.Client{Timeout: 30 * time.Second})
	st, c := callJSON(t, client, a, "POST", "/v1/clients", testAdminKey, map[string]any{"name": "Grouped", "email": "ap@grouped.example", "currency": "EUR"})
	if st != 201 {
		t.Fatalf("client: %d %v", st, c)
	}
	invoice := map[string]any{"client_id": c["id"], "issue": true, "issue_date": "2026-03-01",
		"lines": []map[string]any{{"description": "Work", "quantity": "1", "unit_amount": 10000, "tax_rate": "20"}}}
	acked := map[string]string{}
	issue := func(p *process) {
		t.Helper()
		st, inv := callJSON(t, client, p, "POST", "/v1/invoices", testAdminKey, invoice)
		if st != 201 {
			t.Fatalf("issue: %d %v", st, inv)
		}
		acked[inv["id"].(string)] = inv["number"].(string)
	}
	issue(a)
	issue(a)

	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hold, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hold.Exec("SELECT 1 FROM invoice_counters WHERE series = 'INV-2026' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { _, _, _ = tryJSON(client, a, "POST", "/v1/invoices", testAdminKey, invoice) })
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting int
		if err := db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no group waits for the counter row")
		}
	}
	a.kill()
	wg.Wait()
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}

	b := startProcess(t, url)
	issue(b)
	issue(b)
	found, err := ledgercheck.Series(db, "INV-2026")
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range acked {
		if found[id] != n {
			t.Errorf("acknowledged %s as %s, stored %q", id, n, found[id])
		}
	}
	t.Logf("%d invoices after the kill", len(found))
}
