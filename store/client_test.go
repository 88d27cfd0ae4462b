package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

func newClient(name string) *domain.Client {
	return &domain.Client{Name: name, Email: "billing@example.com", Timezone: "Europe/Berlin", Currency: "EUR",
		Communication: domain.Communication{Channel: "email", ResponseTimeHours: 24},
		Relationship:  domain.RelationshipStandard, Status: domain.ClientActive}
}

func TestClients(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewClientService(db)
		c := newClient("ООО Ромашка")
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindClientByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "ООО Ромашка" || got.Currency != "EUR" || got.Communication.ResponseTimeHours != 24 || !got.CreatedAt.Equal(now) {
			t.Fatalf("read back %+v", got)
		}
		if _, err := s.FindClientByID(ctx, "cli_missing"); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("missing client: %v", err)
		}

		name := "Фирма ЕООД"
		upd, err := s.UpdateClient(ctx, c.ID, domain.ClientUpdate{Name: &name})
		if err != nil || upd.Name != name || upd.Email != c.Email {
			t.Fatalf("update: %+v %v", upd, err)
		}
		bad := "nope"
		if _, err := s.UpdateClient(ctx, c.ID, domain.ClientUpdate{Currency: &bad}); domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("bad currency update: %v", err)
		}
		if got, _ := s.FindClientByID(ctx, c.ID); got.Currency != "EUR" {
			t.Fatalf("a refused update changed the row: %+v", got)
		}
	})
}

func TestClientsPagination(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewClientService(db)
		var ids []string
		for i := range 7 {
			c := newClient(fmt.Sprintf("client %d", i))
			if err := s.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		var seen []string
		p := domain.PageParams{Limit: 3}
		for pages := 0; ; pages++ {
			pg, err := s.FindClients(ctx, domain.ClientFilter{Page: p})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range pg.Data {
				seen = append(seen, c.ID)
			}
			if !pg.HasMore {
				if pages != 2 {
					t.Fatalf("want 3 pages, got %d", pages+1)
				}
				break
			}
			p.StartingAfter = pg.Data[len(pg.Data)-1].ID
		}
		if len(seen) != 7 {
			t.Fatalf("saw %d clients", len(seen))
		}
		for i := range seen { // newest first
			if seen[i] != ids[len(ids)-1-i] {
				t.Fatalf("order: %v vs created %v", seen, ids)
			}
		}
	})
}
