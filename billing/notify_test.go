package billing_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/remit/remit/billing"
	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/testdb"
	"github.com/remit/remit/store"
)

// start is the pinned time every notifier test begins at.
var start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// clock is a pinned clock the test moves; the webhook receiver reads it
// from its own goroutine.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// env is a migrated SQLite database with the services the notifier uses.
type env struct {
	clock   *clock
	db      *store.DB
	clients *store.ClientService
	hooks   *store.WebhookService
	outbox  *store.OutboxService
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, testdb.SQLiteURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: start}
	db.Now = c.Now
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return &env{clock: c, db: db, clients: store.NewClientService(db), hooks: store.NewWebhookService(db), outbox: store.NewOutboxService(db)}
}

// notifier returns a notifier on the env's clock whose retry waits are not jittered.
func (e *env) notifier(t *testing.T, smtp *billing.SMTPConfig) *billing.Notifier {
	t.Helper()
	n, err := billing.NewNotifier(e.outbox, billing.WebhookClient(true), e.clock.Now, slog.New(slog.DiscardHandler), smtp)
	if err != nil {
		t.Fatal(err)
	}
	n.Jitter = func(d time.Duration) time.Duration { return d }
	return n
}

func (e *env) endpoint(t *testing.T, url string, events ...string) *domain.WebhookEndpoint {
	t.Helper()
	ep := &domain.WebhookEndpoint{URL: url, EnabledEvents: events}
	if err := e.hooks.CreateWebhookEndpoint(context.Background(), ep); err != nil {
		t.Fatal(err)
	}
	return ep
}

func (e *env) enqueue(t *testing.T, typ, clientID, invoiceID string, data any) *domain.OutboxMessage {
	t.Helper()
	m, err := e.outbox.Enqueue(context.Background(), typ, clientID, invoiceID, data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// delivery returns the only delivery of an endpoint.
func (e *env) delivery(t *testing.T, endpointID string) domain.WebhookDelivery {
	t.Helper()
	p, err := e.hooks.FindWebhookDeliveries(context.Background(), endpointID, domain.DeliveryFilter{Page: domain.PageParams{Limit: 10}})
	if err != nil || len(p.Data) != 1 {
		t.Fatalf("deliveries: %+v %v", p, err)
	}
	return p.Data[0]
}

// README:begin

// VerifyRemitSignature checks that a webhook request came from Remit.
// header is the Remit-Signature header, body the raw request body, secret
// the endpoint's whsec_... secret (the whole string is the HMAC key). A
// signature older than tolerance (5 minutes is a good choice) is refused,
// so a captured request cannot be replayed later.
func VerifyRemitSignature(header string, body []byte, secret string, tolerance time.Duration, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("remit signature: no timestamp")
	}
	if age := now.Sub(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return errors.New("remit signature: timestamp outside the tolerance")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("remit signature: no valid v1 signature")
}

// README:end

// TestREADMEVerifiesLikeTheTests keeps the README's verification snippet
// the code these tests run.
func TestREADMEVerifiesLikeTheTests(t *testing.T) {
	src, err := os.ReadFile("notify_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, snippet, _ := strings.Cut(string(src), "// README:"+"begin\n\n")
	snippet, _, _ = strings.Cut(snippet, "\n// README:"+"end")
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if snippet == "" || !strings.Contains(string(readme), snippet) {
		t.Fatalf("README.md's Webhooks section must contain, verbatim:\n%s", snippet)
	}
}

// request is what the receiver got.
type request struct {
	header http.Header
	body   string
	err    error // from VerifyRemitSignature
}

// receiver is a webhook endpoint that verifies every request and answers
// with the next status of its script (the last one repeats).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	script   []int
	requests []request
}

func newReceiver(t *testing.T, c *clock, script ...int) *receiver {
	r := &receiver{script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		err := VerifyRemitSignature(req.Header.Get("Remit-Signature"), body, r.secret, 5*time.Minute, c.Now())
		r.requests = append(r.requests, request{header: req.Header.Clone(), body: string(body), err: err})
		status := r.script[min(len(r.requests), len(r.script))-1]
		if err != nil {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		io.WriteString(w, "status "+strconv.Itoa(status))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.requests...)
}

func TestWebhookRetriedAfterServerErrorThenDelivered(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	recv := newReceiver(t, e.clock, 500, 200)
	ep := e.endpoint(t, recv.URL+"/remit", domain.EventClientSuspended)
	recv.secret = ep.Secret
	msg := e.enqueue(t, domain.EventClientSuspended, "cli_1", "", map[string]any{"reason": "invoice INV-1 is 30 days overdue"})
	e.enqueue(t, domain.EventInvoicePaid, "cli_1", "inv_1", nil) // filtered out by the endpoint
	n := e.notifier(t, nil)

	if d, f, err := n.RunOnce(ctx); err != nil || d != 0 || f != 1 {
		t.Fatalf("first run: delivered %d failed %d err %v", d, f, err)
	}
	first := e.delivery(t, ep.ID)
	if first.Status != domain.DeliveryPending || first.Attempts != 1 || first.LastStatusCode != 500 ||
		first.ResponseExcerpt != "status 500" || !first.NextAttemptAt.Equal(start.Add(30*time.Second)) ||
		!strings.Contains(first.LastError, "HTTP 500") {
		t.Fatalf("after the 500: %+v", first)
	}
	// Nothing is due before the next attempt.
	e.clock.Set(start.Add(29 * time.Second))
	if d, f, err := n.RunOnce(ctx); err != nil || d+f != 0 {
		t.Fatalf("early run: %d %d %v", d, f, err)
	}
	e.clock.Set(start.Add(30 * time.Second))
	if d, f, err := n.RunOnce(ctx); err != nil || d != 1 || f != 0 {
		t.Fatalf("retry: delivered %d failed %d err %v", d, f, err)
	}
	done := e.delivery(t, ep.ID)
	if done.Status != domain.DeliverySucceeded || done.Attempts != 2 || done.LastStatusCode != 200 || done.LastError != "" ||
		!done.DeliveredAt.Equal(start.Add(30*time.Second)) || !done.FirstAttemptAt.Equal(start) || done.NextAttemptAt != nil {
		t.Fatalf("after the retry: %+v", done)
	}

	reqs := recv.got()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		if r.err != nil {
			t.Fatalf("request %d: %v", i, r.err)
		}
		if r.body != string(msg.Payload) || r.header.Get("Remit-Event-Id") != msg.EventID ||
			r.header.Get("Remit-Event-Type") != "client.suspended" || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("request %d: %v %s", i, r.header, r.body)
		}
	}
	// Each attempt is signed at its own time.
	if got := reqs[1].header.Get("Remit-Signature"); !strings.HasPrefix(got, "t="+strconv.FormatInt(start.Add(30*time.Second).Unix(), 10)+",v1=") ||
		got != billing.SignWebhook(ep.Secret, start.Add(30*time.Second), []byte(reqs[1].body)) {
		t.Fatalf("signature %q", got)
	}
	// A wrong secret or an old signature does not verify.
	if err := VerifyRemitSignature(reqs[1].header.Get("Remit-Signature"), []byte(reqs[1].body), "whsec_other", 5*time.Minute, start.Add(30*time.Second)); err == nil {
		t.Fatal("verified with another secret")
	}
	if err := VerifyRemitSignature(reqs[1].header.Get("Remit-Signature"), []byte(reqs[1].body), ep.Secret, 5*time.Minute, start.Add(time.Hour)); err == nil {
		t.Fatal("verified a stale signature")
	}
}

func TestWebhookGivenUpAfterThreeDays(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	recv := newReceiver(t, e.clock, 503)
	ep := e.endpoint(t, recv.URL, "*")
	recv.secret = ep.Secret
	e.enqueue(t, domain.EventInvoiceOverdue, "cli_1", "inv_1", nil)
	n := e.notifier(t, nil)

	// Waits double from 30 s (30 s, 1 m, ..., 4 h 16 m) to the 6 h cap;
	// the last wait is cut to end exactly 3 days after the first attempt.
	var times []time.Duration
	for range 100 {
		if _, _, err := n.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		d := e.delivery(t, ep.ID)
		times = append(times, d.LastAttemptAt.Sub(start))
		if d.Status != domain.DeliveryPending {
			break
		}
		e.clock.Set(*d.NextAttemptAt)
	}
	d := e.delivery(t, ep.ID)
	if d.Status != domain.DeliveryFailed || d.Attempts != 22 || d.NextAttemptAt != nil || !d.LastAttemptAt.Equal(start.Add(72*time.Hour)) || d.LastStatusCode != 503 {
		t.Fatalf("gave up as %+v after attempts at %v", d, times)
	}
	if times[1] != 30*time.Second || times[2] != 90*time.Second || times[10] != 30690*time.Second || times[11]-times[10] != 6*time.Hour {
		t.Fatalf("attempts at %v", times)
	}
	if len(recv.got()) != 22 {
		t.Fatalf("%d requests, want 22", len(recv.got()))
	}
	// A given-up delivery is not tried again.
	e.clock.Set(start.Add(100 * time.Hour))
	if dl, f, err := n.RunOnce(ctx); err != nil || dl+f != 0 {
		t.Fatalf("after giving up: %d %d %v", dl, f, err)
	}
}

func TestWebhookUnreachableEndpoint(t *testing.T) {
	e := newEnv(t)
	recv := newReceiver(t, e.clock, 200)
	url := recv.URL
	recv.Close() // nothing listens there any more
	ep := e.endpoint(t, url, "*")
	e.enqueue(t, domain.EventInvoiceIssued, "cli_1", "inv_1", nil)
	if d, f, err := e.notifier(t, nil).RunOnce(context.Background()); err != nil || d != 0 || f != 1 {
		t.Fatalf("run: %d %d %v", d, f, err)
	}
	if d := e.delivery(t, ep.ID); d.Status != domain.DeliveryPending || d.LastStatusCode != 0 || !strings.Contains(d.LastError, "connect") {
		t.Fatalf("delivery %+v", d)
	}
}

func TestNextAttempt(t *testing.T) {
	none := func(d time.Duration) time.Duration { return d }
	for _, tc := range []struct {
		name     string
		now      time.Duration // since the first attempt
		attempts int
		jitter   func(time.Duration) time.Duration
		want     time.Duration // since the first attempt; -1: give up
	}{
		{"first failure waits 30 s", 0, 1, none, 30 * time.Second},
		{"second failure waits 1 m", 30 * time.Second, 2, none, 90 * time.Second},
		{"tenth failure waits 4 h 16 m", time.Hour, 10, none, time.Hour + 15360*time.Second},
		{"eleventh failure waits the 6 h cap", time.Hour, 11, none, 7 * time.Hour},
		{"huge attempt counts stay at the cap", time.Hour, 1000, none, 7 * time.Hour},
		{"jitter shortens the wait", 0, 3, func(d time.Duration) time.Duration { return d / 2 }, time.Minute},
		{"the last wait ends at 3 days", 70 * time.Hour, 20, none, 72 * time.Hour},
		{"at 3 days it gives up", 72 * time.Hour, 22, none, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := billing.NextAttempt(start, start.Add(tc.now), tc.attempts, tc.jitter)
			switch {
			case tc.want < 0 && !got.IsZero():
				t.Fatalf("got %v, want give up", got)
			case tc.want >= 0 && !got.Equal(start.Add(tc.want)):
				t.Fatalf("got %v after the first attempt, want %v", got.Sub(start), tc.want)
			}
		})
	}
}
