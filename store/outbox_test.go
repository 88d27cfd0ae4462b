package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// mustEndpoint stores a webhook endpoint that takes the event types.
func mustEndpoint(t *testing.T, s *store.WebhookService, url string, events ...string) *domain.WebhookEndpoint {
	t.Helper()
	e := &domain.WebhookEndpoint{URL: url, EnabledEvents: events}
	if err := s.CreateWebhookEndpoint(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

// mustEnqueue puts an event in the outbox.
func mustEnqueue(t *testing.T, o *store.OutboxService, typ, clientID, invoiceID string, data any) *domain.OutboxMessage {
	t.Helper()
	m, err := o.Enqueue(context.Background(), typ, clientID, invoiceID, data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// deliveries lists every delivery of an endpoint, oldest first.
func deliveries(t *testing.T, s *store.WebhookService, endpointID string) []domain.WebhookDelivery {
	t.Helper()
	p, err := s.FindWebhookDeliveries(context.Background(), endpointID, domain.DeliveryFilter{Page: domain.PageParams{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(p.Data, func(i, j int) bool { return p.Data[i].ID < p.Data[j].ID })
	return p.Data
}

func TestOutboxEnqueue(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		o := store.NewOutboxService(db)
		ctx := domain.WithActor(context.Background(), domain.Actor{KeyID: "key_1", Name: "crm"})
		m, err := o.Enqueue(ctx, domain.EventInvoicePaid, "cli_1", "inv_1", map[string]any{"number": "INV-2026-0001"})
		if err != nil {
			t.Fatal(err)
		}
		var env map[string]any
		if err := json.Unmarshal(m.Payload, &env); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`map[client_id:cli_1 created:2026-03-01T09:00:00Z data:map[number:INV-2026-0001] id:%s invoice_id:inv_1 type:invoice.paid]`, m.EventID)
		if fmt.Sprint(env) != want || m.Type != "invoice.paid" || m.InvoiceID != "inv_1" || !m.CreatedAt.Equal(now) {
			t.Fatalf("message %+v\npayload %v\nwant    %s", m, env, want)
		}
		if _, err := o.Enqueue(ctx, "", "cli_1", "", nil); domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("no type: %v", err)
		}
	})
}

func TestOutboxFanOut(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clients, hooks, o := store.NewClientService(db), store.NewWebhookService(db), store.NewOutboxService(db)
		c := newClient("Acme")
		if err := clients.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		all := mustEndpoint(t, hooks, "https://a.example.com/hook", "*")
		paid := mustEndpoint(t, hooks, "https://b.example.com/hook", domain.EventInvoicePaid)
		issued := mustEnqueue(t, o, domain.EventInvoiceIssued, c.ID, "inv_1", map[string]any{"number": "INV-1"})
		settled := mustEnqueue(t, o, domain.EventInvoicePaid, c.ID, "inv_1", map[string]any{"number": "INV-1"})
		// An event about a client Remit has no row for gets webhooks but no e-mail.
		mustEnqueue(t, o, domain.EventInvoicePaid, "cli_gone", "", nil)

		if n, err := o.FanOut(ctx, 100, true); err != nil || n != 3 {
			t.Fatalf("fan-out: %d %v", n, err)
		}
		if got := deliveries(t, hooks, all.ID); len(got) != 3 || got[0].EventID != issued.EventID || got[1].EventID != settled.EventID ||
			got[0].Status != domain.DeliveryPending || got[0].Attempts != 0 || !got[0].NextAttemptAt.Equal(now) {
			t.Fatalf("deliveries to the catch-all endpoint: %+v", got)
		}
		if got := deliveries(t, hooks, paid.ID); len(got) != 2 || got[0].EventID != settled.EventID || got[0].EventType != "invoice.paid" {
			t.Fatalf("deliveries to the invoice.paid endpoint: %+v", got)
		}

		// Nothing is left to fan out; and a row fanned out twice (a crash
		// between the inserts and the commit of a replica that lost its
		// claim) creates each delivery once.
		if n, err := o.FanOut(ctx, 100, true); err != nil || n != 0 {
			t.Fatalf("second fan-out: %d %v", n, err)
		}
		if _, err := db.SQL().Exec("UPDATE outbox SET processed_at = NULL"); err != nil {
			t.Fatal(err)
		}
		if n, err := o.FanOut(ctx, 100, true); err != nil || n != 3 {
			t.Fatalf("repeated fan-out: %d %v", n, err)
		}
		if got := deliveries(t, hooks, all.ID); len(got) != 3 {
			t.Fatalf("a repeated fan-out duplicated deliveries: %+v", got)
		}
		if got := deliveries(t, hooks, paid.ID); len(got) != 2 {
			t.Fatalf("a repeated fan-out duplicated deliveries: %+v", got)
		}

		mails, err := o.ClaimEmailJobs(ctx, 100, time.Minute)
		if err != nil || len(mails) != 2 {
			t.Fatalf("e-mail jobs: %+v %v", mails, err)
		}
		for _, m := range mails {
			if m.Delivery.Recipient != "billing@example.com" || m.Delivery.ClientID != c.ID || m.Message.ClientID != c.ID {
				t.Fatalf("e-mail job %+v", m)
			}
		}
	})
}

func TestOutboxFanOutWithoutEmail(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clients, o := store.NewClientService(db), store.NewOutboxService(db)
		c := newClient("Acme")
		if err := clients.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		mustEnqueue(t, o, domain.EventInvoiceIssued, c.ID, "", nil)
		if n, err := o.FanOut(ctx, 100, false); err != nil || n != 1 {
			t.Fatalf("fan-out: %d %v", n, err)
		}
		if jobs, err := o.ClaimEmailJobs(ctx, 100, time.Minute); err != nil || len(jobs) != 0 {
			t.Fatalf("e-mail without SMTP: %+v %v", jobs, err)
		}
	})
}

func TestOutboxAttempts(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		hooks, o := store.NewWebhookService(db), store.NewOutboxService(db)
		e := mustEndpoint(t, hooks, "https://a.example.com/hook", "*")
		enqueued := map[string]string{}
		for i := range 3 {
			m := mustEnqueue(t, o, domain.EventChargePosted, "cli_1", fmt.Sprintf("inv_%d", i), map[string]any{"amount": 4000, "description": "Late fee — пеня"})
			enqueued[m.ID] = string(m.Payload)
		}
		if _, err := o.FanOut(ctx, 100, false); err != nil {
			t.Fatal(err)
		}
		jobs, err := o.ClaimWebhookJobs(ctx, 100, 5*time.Minute)
		if err != nil || len(jobs) != 3 {
			t.Fatalf("claim: %+v %v", jobs, err)
		}
		if jobs[0].URL != e.URL || jobs[0].Secret != e.Secret || jobs[0].Message.Type != "charge.posted" {
			t.Fatalf("job %+v", jobs[0])
		}
		// The body sent is built from the event row; it is the one the
		// enqueue returned, byte for byte.
		for _, j := range jobs {
			if got := string(j.Message.Payload); got != enqueued[j.Message.ID] {
				t.Fatalf("delivered payload\n%s\nenqueued\n%s", got, enqueued[j.Message.ID])
			}
		}
		// Claimed deliveries are leased: a second claimer gets none of them.
		if again, err := o.ClaimWebhookJobs(ctx, 100, 5*time.Minute); err != nil || len(again) != 0 {
			t.Fatalf("second claim: %+v %v", again, err)
		}

		ok, retry, giveUp := jobs[0].Delivery.ID, jobs[1].Delivery.ID, jobs[2].Delivery.ID
		at := now.Add(time.Second)
		next := now.Add(time.Minute)
		for id, a := range map[string]domain.DeliveryAttempt{
			ok:     {At: at, Delivered: true, StatusCode: 200, ResponseExcerpt: "thanks"},
			retry:  {At: at, StatusCode: 500, Error: "HTTP 500", ResponseExcerpt: "boom\x00\xff", NextAttemptAt: next},
			giveUp: {At: at, Error: "dial tcp: connection refused"},
		} {
			if err := o.RecordWebhookAttempt(ctx, id, a); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string]domain.WebhookDelivery{}
		for _, d := range deliveries(t, hooks, e.ID) {
			got[d.ID] = d
		}
		if d := got[ok]; d.Status != domain.DeliverySucceeded || d.Attempts != 1 || !d.DeliveredAt.Equal(at) || d.NextAttemptAt != nil ||
			d.LastStatusCode != 200 || d.ResponseExcerpt != "thanks" || !d.FirstAttemptAt.Equal(at) {
			t.Fatalf("succeeded %+v", d)
		}
		if d := got[retry]; d.Status != domain.DeliveryPending || d.Attempts != 1 || !d.NextAttemptAt.Equal(next) || d.LastStatusCode != 500 ||
			d.LastError != "HTTP 500" || d.ResponseExcerpt != "boom\uFFFD" || d.DeliveredAt != nil {
			t.Fatalf("retrying %+v", d)
		}
		if d := got[giveUp]; d.Status != domain.DeliveryFailed || d.Attempts != 1 || d.LastStatusCode != 0 || d.LastError != "dial tcp: connection refused" {
			t.Fatalf("given up %+v", d)
		}
		if err := o.RecordWebhookAttempt(ctx, ok, domain.DeliveryAttempt{At: at, Error: "late"}); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("an attempt on a finished delivery: %v", err)
		}
		failed, err := hooks.FindWebhookDeliveries(ctx, e.ID, domain.DeliveryFilter{Status: domain.DeliveryFailed, Page: domain.PageParams{Limit: 10}})
		if err != nil || len(failed.Data) != 1 || failed.Data[0].ID != giveUp {
			t.Fatalf("failed filter %+v %v", failed, err)
		}

		// When its next attempt comes, the retry is due again, and only it;
		// the second attempt keeps the first attempt's time.
		db.Now = func() time.Time { return next }
		jobs, err = o.ClaimWebhookJobs(ctx, 100, 5*time.Minute)
		if err != nil || len(jobs) != 1 || jobs[0].Delivery.ID != retry || jobs[0].Delivery.Attempts != 1 || !jobs[0].Delivery.FirstAttemptAt.Equal(at) {
			t.Fatalf("due again: %+v %v", jobs, err)
		}
		if err := o.RecordWebhookAttempt(ctx, retry, domain.DeliveryAttempt{At: next, Delivered: true, StatusCode: 204}); err != nil {
			t.Fatal(err)
		}
		if d := deliveries(t, hooks, e.ID)[1]; d.ID != retry || d.Attempts != 2 || d.Status != domain.DeliverySucceeded ||
			!d.FirstAttemptAt.Equal(at) || !d.LastAttemptAt.Equal(next) || d.LastError != "" {
			t.Fatalf("second attempt %+v", d)
		}
	})
}

// TestOutboxConcurrentClaimers runs several workers against one database at
// once: every event reaches the endpoint through exactly one claim.
func TestOutboxConcurrentClaimers(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		hooks, o := store.NewWebhookService(db), store.NewOutboxService(db)
		mustEndpoint(t, hooks, "https://a.example.com/hook", "*")
		const events = 120
		for i := range events {
			mustEnqueue(t, o, domain.EventInvoiceOverdue, "cli_1", fmt.Sprintf("inv_%d", i), nil)
		}
		var mu sync.Mutex
		claims := map[string]int{}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n, err := o.FanOut(ctx, 7, false)
					if err != nil {
						errs <- err
						return
					}
					jobs, err := o.ClaimWebhookJobs(ctx, 5, time.Hour)
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					for _, j := range jobs {
						claims[j.Message.EventID]++
					}
					mu.Unlock()
					if n == 0 && len(jobs) == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(claims) != events {
			t.Fatalf("%d events claimed, want %d", len(claims), events)
		}
		for id, n := range claims {
			if n != 1 {
				t.Fatalf("event %s claimed %d times", id, n)
			}
		}
	})
}
