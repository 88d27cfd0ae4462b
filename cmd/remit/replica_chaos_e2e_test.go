package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/remit/remit/internal/ledgercheck"
	"github.com/remit/remit/internal/testdb"
)

// chaos is the shared state of TestReplicaChaosOnPostgres: the replicas,
// what they acknowledged, and the answers they gave.
type chaos struct {
	t        *testing.T
	replicas []*process
	client   *http.Client
	stop     time.Time

	mu       sync.Mutex
	clients  []string
	invoices map[string]string // id -> number
	open     []string          // invoices to pay
	payments map[string]int64  // id -> amount
	paid     []string          // payments to refund
	refunds  map[string]int64  // id -> amount
	statuses map[string]int    // "POST /v1/invoices 201" -> count
	failures []string          // 5xx answers
}

// send POSTs (or GETs, with a nil body) to a random live replica. A
// connection error (a replica killed or restarting) is retried on another
// replica with the same Idempotency-Key, as a careful client would, and so
// is 409 idempotency_in_progress; anything else is the answer. A 5xx is
// recorded as a failure of the test.
func (c *chaos) send(rng *rand.Rand, op, method, path, key string, body any) (int, map[string]any) {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	for time.Now().Before(c.stop.Add(45 * time.Second)) {
		url := c.replicas[rng.IntN(len(c.replicas))].url
		req, _ := http.NewRequest(method, url+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+testAdminKey)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := c.client.Do(req)
		if err != nil {
			time.Sleep(time.Duration(10+rng.IntN(40)) * time.Millisecond)
			continue
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			continue // killed while answering
		}
		if resp.StatusCode == http.StatusConflict && bytes.Contains(raw, []byte("idempotency_in_progress")) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		c.mu.Lock()
		c.statuses[fmt.Sprintf("%s %d", op, resp.StatusCode)]++
		if resp.StatusCode >= 500 {
			c.failures = append(c.failures, fmt.Sprintf("%s %s: %d %s", method, path, resp.StatusCode, raw))
		}
		c.mu.Unlock()
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return resp.StatusCode, m
	}
	c.t.Errorf("%s %s: no replica answered", method, path)
	return 0, nil
}

// pick returns a random element of list (under c.mu), or "".
func (c *chaos) pick(rng *rand.Rand, list []string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(list) == 0 {
		return ""
	}
	return list[rng.IntN(len(list))]
}

// work sends a random mix of issues, payments (a third of them more than
// owed, which makes client credit that later issues apply), refunds,
// sweeps, reads and credit bursts until c.stop.
func (c *chaos) work(w int, seq *atomic.Int64) {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	for time.Now().Before(c.stop) {
		n := seq.Add(1)
		key := fmt.Sprintf("chaos-%d", n)
		switch op := rng.IntN(40); {
		case op == 39:
			c.creditBurst(rng, key)
		case op < 12:
			c.mu.Lock()
			client := c.clients[rng.IntN(len(c.clients))]
			c.mu.Unlock()
			// Issue dates over three years, so that the numbering series
			// (one per year) do not serialise the issues.
			issued := fmt.Sprintf("%d-%02d-%02d", 2024+rng.IntN(3), 1+rng.IntN(2), 1+rng.IntN(28))
			st, inv := c.send(rng, "issue", "POST", "/v1/invoices", key, map[string]any{"client_id": client, "issue": true, "issue_date": issued,
				"lines": []map[string]any{{"description": "Work", "quantity": "1", "unit_amount": 10_000 + rng.IntN(50_000)}}})
			if st == http.StatusCreated {
				c.mu.Lock()
				c.invoices[inv["id"].(string)] = inv["number"].(string)
				if inv["status"] == "open" {
					c.open = append(c.open, inv["id"].(string))
				}
				c.mu.Unlock()
			}
		case op < 24:
			id := c.pick(rng, c.open)
			if id == "" {
				continue
			}
			amount := 1_000 + rng.IntN(30_000)
			if rng.IntN(3) == 0 {
				amount = 100_000 // more than any invoice owes: the rest becomes credit
			}
			st, p := c.send(rng, "pay", "POST", "/v1/invoices/"+id+"/payments", key, map[string]any{"amount": amount, "paid_on": "2026-03-01"})
			if st == http.StatusCreated {
				c.mu.Lock()
				c.payments[p["id"].(string)] = int64(amount)
				c.paid = append(c.paid, p["id"].(string))
				c.mu.Unlock()
			}
		case op < 30:
			id := c.pick(rng, c.paid)
			if id == "" {
				continue
			}
			c.mu.Lock()
			amount := 1 + rng.Int64N(c.payments[id])
			c.mu.Unlock()
			if rng.IntN(2) == 0 {
				amount = 100_000 // all of an overpayment, credit included, if the credit is still there
			}
			st, r := c.send(rng, "refund", "POST", "/v1/payments/"+id+"/refunds", key, map[string]any{"amount": amount, "reason": "chaos"})
			if st == http.StatusCreated {
				c.mu.Lock()
				c.refunds[r["id"].(string)] = amount
				c.mu.Unlock()
			}
		case op < 34:
			c.send(rng, "sweep", "POST", "/v1/billing/run", key, map[string]any{})
		default:
			if id := c.pick(rng, c.open); id != "" {
				c.send(rng, "read", "GET", "/v1/invoices/"+id, "", nil)
			}
		}
	}
}

// creditBurst gives a new client 10,000.00 of credit (an overpayment) and
// then, at once and through random replicas, issues eight invoices of
// 5,000.00 for it, each in a series of its own, and refunds the overpayment
// in full. Nothing else adds credit for this client, so if two of them
// spent the same credit, its balance ends below zero.
func (c *chaos) creditBurst(rng *rand.Rand, key string) {
	st, cl := c.send(rng, "burst client", "POST", "/v1/clients", key+"-client", map[string]any{"name": "Burst " + key,
		"email": key + "@x.example", "currency": "EUR"})
	if st != http.StatusCreated {
		return
	}
	client := cl["id"].(string)
	st, inv := c.send(rng, "burst issue", "POST", "/v1/invoices", key+"-first", map[string]any{"client_id": client, "issue": true,
		"issue_date": "2026-01-10", "lines": []map[string]any{{"description": "Work", "quantity": "1", "unit_amount": 10_000}}})
	if st != http.StatusCreated {
		return
	}
	c.mu.Lock()
	c.invoices[inv["id"].(string)] = inv["number"].(string)
	c.mu.Unlock()
	st, p := c.send(rng, "burst pay", "POST", "/v1/invoices/"+inv["id"].(string)+"/payments", key+"-pay", map[string]any{"amount": 1_010_000, "paid_on": "2026-03-01"})
	if st != http.StatusCreated {
		return
	}
	paymentID := p["id"].(string)
	c.mu.Lock()
	c.payments[paymentID] = 1_010_000
	c.mu.Unlock()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			st, inv := c.send(rng, "burst issue", "POST", "/v1/invoices", fmt.Sprintf("%s-issue-%d", key, i), map[string]any{"client_id": client,
				"issue": true, "issue_date": fmt.Sprintf("%d-02-%02d", 2024+i%3, 1+i), "lines": []map[string]any{{"description": "Work", "quantity": "1", "unit_amount": 500_000}}})
			if st == http.StatusCreated {
				c.mu.Lock()
				c.invoices[inv["id"].(string)] = inv["number"].(string)
				c.mu.Unlock()
			}
		})
	}
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(9, uint64(time.Now().UnixNano())))
		st, r := c.send(rng, "burst refund", "POST", "/v1/payments/"+paymentID+"/refunds", key+"-refund", map[string]any{"amount": 1_010_000, "reason": "overpaid"})
		if st == http.StatusCreated {
			c.mu.Lock()
			c.refunds[r["id"].(string)] = 1_010_000
			c.mu.Unlock()
		}
	})
	wg.Wait()
}

// TestReplicaChaosOnPostgres runs three Remit processes on one PostgreSQL
// database under concurrent issues, payments, overpayments (client credit),
// refunds and sweeps (on demand and every second on each replica) for a few
// clients, so that requests race on the same clients and invoices. Replicas
// are killed with SIGKILL at random and restarted. No request may get a
// 5xx; afterwards every ledger invariant holds and every acknowledged write
// is there.
func TestReplicaChaosOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short mode: starts, kills and restarts three server processes")
	}
	url := testdb.PostgresURL(t)
	c := &chaos{t: t, client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		invoices: map[string]string{}, payments: map[string]int64{}, refunds: map[string]int64{}, statuses: map[string]int{}}
	for range 3 {
		c.replicas = append(c.replicas, startProcess(t, url, "REMIT_SWEEP_INTERVAL=1s"))
	}
	c.stop = time.Now().Add(time.Minute) // for the set-up requests
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 4 {
		st, cl := c.send(rng, "client", "POST", "/v1/clients", fmt.Sprintf("client-%d", i), map[string]any{"name": fmt.Sprintf("Client %d", i),
			"email": fmt.Sprintf("c%d@x.example", i), "currency": "EUR"})
		if st != http.StatusCreated {
			t.Fatalf("create client: %d %v", st, cl)
		}
		id := cl["id"].(string)
		if st, a := c.send(rng, "agreement", "POST", "/v1/clients/"+id+"/agreements", fmt.Sprintf("agreement-%d", i), map[string]any{
			"effective_from": "2023-01-01", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 500, "percent": "1"},
			"interest": map[string]any{"annual_rate": "8"}}); st != http.StatusCreated {
			t.Fatalf("agreement: %d %v", st, a)
		}
		c.clients = append(c.clients, id)
	}

	c.stop = time.Now().Add(20 * time.Second)
	var wg sync.WaitGroup
	var seq atomic.Int64
	for w := range 6 {
		wg.Go(func() { c.work(w, &seq) })
	}
	kills := 0
	for time.Now().Before(c.stop.Add(-2 * time.Second)) {
		time.Sleep(time.Duration(1000+rand.IntN(1500)) * time.Millisecond)
		p := c.replicas[rand.IntN(len(c.replicas))]
		p.kill()
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		p.start()
		kills++
	}
	wg.Wait()
	// One more sweep after the load, on a replica that was not killed last.
	if st, run := c.send(rng, "sweep", "POST", "/v1/billing/run", "final-sweep", map[string]any{}); st != http.StatusOK {
		t.Errorf("final sweep: %d %v", st, run)
	}
	for _, p := range c.replicas {
		p.kill()
	}

	var summary []string
	for k, n := range c.statuses {
		summary = append(summary, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(summary)
	t.Logf("%d kills; answers: %s", kills, strings.Join(summary, ", "))
	if len(c.failures) > 0 {
		t.Errorf("%d answers were 5xx, the first: %s", len(c.failures), c.failures[0])
	}
	if kills < 3 {
		t.Errorf("only %d kills", kills)
	}

	db := openForCheck(t, url)
	if err := ledgercheck.Check(db); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for id, number := range c.invoices {
		var got string
		if err := db.QueryRow("SELECT number FROM invoices WHERE id = $1", id).Scan(&got); err != nil || got != number {
			errs = append(errs, fmt.Errorf("acknowledged invoice %s %s: found %q (%v)", id, number, got, err))
		}
	}
	for table, acked := range map[string]map[string]int64{"payments": c.payments, "refunds": c.refunds} {
		for id, amount := range acked {
			var got int64
			if err := db.QueryRow("SELECT amount FROM "+table+" WHERE id = $1", id).Scan(&got); err != nil || got != amount {
				errs = append(errs, fmt.Errorf("acknowledged %s %s of %d: found %d (%v)", table, id, amount, got, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// The load must have reached what it is meant to race.
	var charges, applied, refundedCredit int64
	_ = db.QueryRow("SELECT COUNT(*) FROM charges").Scan(&charges)
	_ = db.QueryRow("SELECT COALESCE(SUM(credit_applied), 0) FROM invoices").Scan(&applied)
	_ = db.QueryRow("SELECT COALESCE(SUM(rev_credit), 0) FROM refunds").Scan(&refundedCredit)
	t.Logf("%d invoices, %d payments, %d refunds, %d charges posted, %d credit applied, %d credit refunded",
		len(c.invoices), len(c.payments), len(c.refunds), charges, applied, refundedCredit)
	if len(c.invoices) < 50 || len(c.payments) < 50 || len(c.refunds) < 10 || charges == 0 || applied == 0 {
		t.Errorf("the load was too thin to prove anything")
	}
}
