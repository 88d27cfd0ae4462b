package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

func TestWebhookEndpoints(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewWebhookService(db)

		e := &domain.WebhookEndpoint{URL: "https://hooks.example.com/remit", Description: "hosting", EnabledEvents: []string{domain.EventClientSuspended, domain.EventClientReinstated}}
		if err := s.CreateWebhookEndpoint(ctx, e); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(e.ID, "whe_") || !strings.HasPrefix(e.Secret, "whsec_") || len(e.Secret) != len("whsec_")+48 || !e.Enabled || !e.CreatedAt.Equal(now) {
			t.Fatalf("created %+v", e)
		}
		got, err := s.FindWebhookEndpointByID(ctx, e.ID)
		if err != nil || got.Secret != "" || got.URL != e.URL || got.Description != "hosting" ||
			strings.Join(got.EnabledEvents, ",") != "client.suspended,client.reinstated" || !got.Enabled {
			t.Fatalf("read back %+v %v", got, err)
		}

		all := &domain.WebhookEndpoint{URL: "http://127.0.0.1:9000/in", EnabledEvents: []string{"*"}}
		if err := s.CreateWebhookEndpoint(ctx, all); err != nil {
			t.Fatal(err)
		}
		if all.Secret == e.Secret {
			t.Fatal("two endpoints share a secret")
		}
		page, err := s.FindWebhookEndpoints(ctx, domain.PageParams{Limit: 1})
		if err != nil || len(page.Data) != 1 || !page.HasMore || page.Data[0].ID != all.ID || page.Data[0].Secret != "" {
			t.Fatalf("first page %+v %v", page, err)
		}
		page, err = s.FindWebhookEndpoints(ctx, domain.PageParams{Limit: 1, StartingAfter: all.ID})
		if err != nil || len(page.Data) != 1 || page.HasMore || page.Data[0].ID != e.ID {
			t.Fatalf("second page %+v %v", page, err)
		}

		for _, bad := range []domain.WebhookEndpoint{
			{URL: "ftp://example.com/x", EnabledEvents: []string{"*"}},
			{URL: "https:///nohost", EnabledEvents: []string{"*"}},
			{URL: "https://example.com", EnabledEvents: []string{"invoice.exploded"}},
			{URL: "https://example.com", EnabledEvents: []string{"*", "invoice.paid"}},
			{URL: "https://example.com"},
		} {
			if err := s.CreateWebhookEndpoint(ctx, &bad); domain.ErrorCode(err) != domain.EINVALID {
				t.Errorf("%+v: %v", bad, err)
			}
		}
		if page, _ := s.FindWebhookEndpoints(ctx, domain.PageParams{Limit: 10}); len(page.Data) != 2 {
			t.Fatalf("refused endpoints were stored: %+v", page)
		}

		if _, err := s.FindWebhookDeliveries(ctx, "whe_missing", domain.DeliveryFilter{Page: domain.PageParams{Limit: 10}}); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("deliveries of a missing endpoint: %v", err)
		}
	})
}

// TestWebhookEndpointChanges: an endpoint is changed, disabled (its
// deliveries wait), its secret rolled (the previous one signs beside the new
// one during the overlap) and deleted (hidden, pending deliveries failed).
func TestWebhookEndpointChanges(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clients, s, o := store.NewClientService(db), store.NewWebhookService(db), store.NewOutboxService(db)
		c := newClient("Hooked")
		if err := clients.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		e := mustEndpoint(t, s, "https://a.example.com/hook", "*")
		url, off := "https://b.example.com/v2", false
		got, err := s.UpdateWebhookEndpoint(ctx, e.ID, domain.WebhookEndpointUpdate{URL: &url, Enabled: &off})
		if err != nil || got.URL != url || got.Enabled || got.Secret != "" {
			t.Fatalf("update: %+v %v", got, err)
		}
		bad := []string{"nope"}
		if _, err := s.UpdateWebhookEndpoint(ctx, e.ID, domain.WebhookEndpointUpdate{EnabledEvents: &bad}); domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("bad events: %v", err)
		}
		if _, err := s.UpdateWebhookEndpoint(ctx, "whe_missing", domain.WebhookEndpointUpdate{Enabled: &off}); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("missing: %v", err)
		}

		// Disabled endpoints get no new deliveries; one fanned out before waits.
		on := true
		if _, err := s.UpdateWebhookEndpoint(ctx, e.ID, domain.WebhookEndpointUpdate{Enabled: &on}); err != nil {
			t.Fatal(err)
		}
		mustEnqueue(t, o, domain.EventInvoiceIssued, c.ID, "inv_1", nil)
		if _, err := o.FanOut(ctx, 10, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateWebhookEndpoint(ctx, e.ID, domain.WebhookEndpointUpdate{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		if jobs, err := o.ClaimWebhookJobs(ctx, 10, time.Minute); err != nil || len(jobs) != 0 {
			t.Fatalf("jobs of a disabled endpoint: %+v %v", jobs, err)
		}

		rolled, err := s.RollWebhookSecret(ctx, e.ID)
		if err != nil || rolled.Secret == e.Secret || !strings.HasPrefix(rolled.Secret, "whsec_") ||
			rolled.PreviousSecretExpiresAt == nil || !rolled.PreviousSecretExpiresAt.Equal(now.Add(domain.WebhookSecretOverlap)) {
			t.Fatalf("roll: %+v %v", rolled, err)
		}
		if _, err := s.UpdateWebhookEndpoint(ctx, e.ID, domain.WebhookEndpointUpdate{Enabled: &on}); err != nil {
			t.Fatal(err)
		}
		db.Now = func() time.Time { return now.Add(2 * time.Minute) } // past the lease of the claim above
		jobs, err := o.ClaimWebhookJobs(ctx, 10, time.Minute)
		if err != nil || len(jobs) != 1 || jobs[0].Secret != rolled.Secret || jobs[0].PreviousSecret != e.Secret {
			t.Fatalf("jobs during the overlap: %+v %v", jobs, err)
		}
		db.Now = func() time.Time { return now.Add(domain.WebhookSecretOverlap + time.Hour) }
		jobs, err = o.ClaimWebhookJobs(ctx, 10, time.Minute)
		if err != nil || len(jobs) != 1 || jobs[0].PreviousSecret != "" {
			t.Fatalf("jobs after the overlap: %+v %v", jobs, err)
		}

		if _, err := s.DeleteWebhookEndpoint(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindWebhookEndpointByID(ctx, e.ID); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("find after delete: %v", err)
		}
		if _, err := s.DeleteWebhookEndpoint(ctx, e.ID); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("delete twice: %v", err)
		}
		if page, err := s.FindWebhookEndpoints(ctx, domain.PageParams{Limit: 10}); err != nil || len(page.Data) != 0 {
			t.Fatalf("list after delete: %+v %v", page, err)
		}
		db.Now = func() time.Time { return now.Add(48 * time.Hour) }
		if jobs, err := o.ClaimWebhookJobs(ctx, 10, time.Minute); err != nil || len(jobs) != 0 {
			t.Fatalf("jobs after delete: %+v %v", jobs, err)
		}
	})
}
