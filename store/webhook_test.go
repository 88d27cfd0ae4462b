package store_test

import (
	"context"
	"strings"
	"testing"

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
