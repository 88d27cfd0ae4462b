package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

func TestTimeEntries(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clients := store.NewClientService(db)
		s := store.NewTimeEntryService(db)
		a, b := newClient("A"), newClient("B")
		for _, c := range []*domain.Client{a, b} {
			if err := clients.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		count := func() int {
			var n int
			if err := db.SQL().QueryRow("SELECT COUNT(*) FROM time_entries").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		no := false
		batch := []domain.TimeEntryInput{
			{ClientID: a.ID, Date: domain.NewDate(2026, 2, 27), Minutes: 90, Description: "Design review", ExternalID: "toggl-1"},
			{ClientID: b.ID, ProjectID: "prj_x", Date: domain.NewDate(2026, 2, 28), Minutes: 30, Billable: &no, ExternalID: "toggl-2"},
			{ClientID: a.ID, Date: domain.NewDate(2026, 3, 1), Minutes: 1440},
		}
		first, err := s.CreateTimeEntries(ctx, "key_1", batch, true)
		if err != nil {
			t.Fatal(err)
		}
		if first.Created != 3 || len(first.Entries) != 3 || first.Entries[1].Billable || !first.Entries[0].Billable ||
			first.Entries[1].ProjectID != "prj_x" || first.Entries[0].ExternalID != "toggl-1" || !first.Entries[0].CreatedAt.Equal(now) {
			t.Fatalf("first import %+v", first)
		}

		// The same entries with ids again: nothing new, the same ids.
		again, err := s.CreateTimeEntries(ctx, "key_1", batch[:2], true)
		if err != nil || again.Created != 0 || again.Entries[0].ID != first.Entries[0].ID || again.Entries[1].ID != first.Entries[1].ID {
			t.Fatalf("re-import %+v %v", again, err)
		}
		// Another key's ids are its own.
		if other, err := s.CreateTimeEntries(ctx, "key_2", batch[:1], true); err != nil || other.Created != 1 {
			t.Fatalf("another key %+v %v", other, err)
		}
		if count() != 4 {
			t.Fatalf("%d entries, want 4", count())
		}

		// The same id with other minutes is a conflict, and nothing of its batch is written.
		changed := []domain.TimeEntryInput{
			{ClientID: a.ID, Date: domain.NewDate(2026, 2, 1), Minutes: 15, ExternalID: "toggl-3"},
			{ClientID: a.ID, Date: domain.NewDate(2026, 2, 27), Minutes: 95, Description: "Design review", ExternalID: "toggl-1"},
		}
		_, err = s.CreateTimeEntries(ctx, "key_1", changed, true)
		var de *domain.Error
		if domain.ErrorCode(err) != domain.ECONFLICT || !errors.As(err, &de) || de.Fields["entries[1].external_id"] == "" {
			t.Fatalf("changed entry: %v", err)
		}

		// Every problem of a batch is named, and nothing is written.
		bad := []domain.TimeEntryInput{
			{ClientID: a.ID, Date: domain.NewDate(2026, 2, 1), Minutes: 60},
			{ClientID: "cli_missing", Date: domain.NewDate(2026, 2, 1), Minutes: 60},
			{ClientID: a.ID, Date: domain.NewDate(2026, 3, 3), Minutes: 0},
		}
		_, err = s.CreateTimeEntries(ctx, "key_1", bad, true)
		if !errors.As(err, &de) || de.Fields["entries[2].minutes"] == "" || de.Fields["entries[2].date"] == "" {
			t.Fatalf("bad batch: %v", err)
		}
		_, err = s.CreateTimeEntries(ctx, "key_1", bad[:2], true)
		if !errors.As(err, &de) || de.Fields["entries[1].client_id"] != "no client cli_missing" {
			t.Fatalf("unknown client: %v", err)
		}
		if count() != 4 {
			t.Fatalf("%d entries after refused batches, want 4", count())
		}

		// An offboarded client is read-only: no more time.
		if _, err := db.SQL().Exec("UPDATE clients SET status = 'offboarded' WHERE id = $1", b.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateTimeEntries(ctx, "key_1", []domain.TimeEntryInput{{ClientID: b.ID, Date: domain.NewDate(2026, 2, 1), Minutes: 5}}, false)
		if domain.ErrorCode(err) != domain.ECLIENTOFFBOARDED {
			t.Fatalf("offboarded client: %v", err)
		}

		// Lists: newest first, filtered, paginated.
		page, err := s.FindTimeEntries(ctx, domain.TimeEntryFilter{ClientID: a.ID, Page: domain.PageParams{Limit: 2}})
		if err != nil || len(page.Data) != 2 || !page.HasMore || page.Data[0].Date != domain.NewDate(2026, 2, 27) {
			t.Fatalf("page 1 %+v %v", page, err)
		}
		page, err = s.FindTimeEntries(ctx, domain.TimeEntryFilter{ClientID: a.ID, Page: domain.PageParams{Limit: 2, StartingAfter: page.Data[1].ID}})
		if err != nil || len(page.Data) != 1 || page.HasMore || page.Data[0].ID != first.Entries[0].ID {
			t.Fatalf("page 2 %+v %v", page, err)
		}
		page, err = s.FindTimeEntries(ctx, domain.TimeEntryFilter{From: domain.NewDate(2026, 2, 28), To: domain.NewDate(2026, 2, 28), Page: domain.PageParams{Limit: 50}})
		if err != nil || len(page.Data) != 1 || page.Data[0].ClientID != b.ID {
			t.Fatalf("by date %+v %v", page, err)
		}
		page, err = s.FindTimeEntries(ctx, domain.TimeEntryFilter{ProjectID: "prj_x", Page: domain.PageParams{Limit: 50}})
		if err != nil || len(page.Data) != 1 {
			t.Fatalf("by project %+v %v", page, err)
		}
	})
}

func TestTimeEntriesBulkOfAThousand(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClient("Busy")
		if err := store.NewClientService(db).CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		in := make([]domain.TimeEntryInput, domain.MaxBulkTimeEntries)
		for i := range in {
			in[i] = domain.TimeEntryInput{ClientID: c.ID, Date: domain.NewDate(2026, 1, 1+i%28), Minutes: 1 + i%480, ExternalID: fmt.Sprintf("e%d", i)}
		}
		s := store.NewTimeEntryService(db)
		first, err := s.CreateTimeEntries(ctx, "key_1", in, true)
		if err != nil || first.Created != 1000 {
			t.Fatalf("%d created, %v", first.Created, err)
		}
		again, err := s.CreateTimeEntries(ctx, "key_1", in, true)
		if err != nil || again.Created != 0 || again.Entries[999].ID != first.Entries[999].ID {
			t.Fatalf("replay: %d created, %v", again.Created, err)
		}
		if _, err := s.CreateTimeEntries(ctx, "key_1", append(in, in[0]), true); domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("1,001 entries: %v", err)
		}
	})
}
