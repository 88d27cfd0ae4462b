package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/ledgercheck"
	"github.com/remit/remit/store"
)

// TestKeyedIssueNumbersWithItsResponse issues invoices at creation in
// requests with an Idempotency-Key, at the same time as issues without
// one. On PostgreSQL a keyed issue takes its number in the statement that
// also stores its response; either way the response sent, the response
// replayed, the row and invoice.issued carry the same number, the series
// stays gapless, and a request that fails after issuing gives its number
// back.
func TestKeyedIssueNumbersWithItsResponse(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClient("Keyed")
		if err := store.NewClientService(db).CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		invoices, keys := store.NewInvoiceService(db), store.NewIdempotencyService(db)
		draft := domain.InvoiceDraft{ClientID: c.ID, Issue: true, Memo: "Keyed issue",
			Lines: []domain.LineInput{{Description: "Work", Quantity: "2", UnitAmount: 4500, TaxRate: "20"}}}
		issue := func(ctx context.Context) domain.IdempotentResponse {
			inv, err := invoices.CreateInvoice(ctx, draft)
			if err != nil {
				return domain.IdempotentResponse{Status: 500}
			}
			body, _ := json.Marshal(inv)
			return domain.IdempotentResponse{Status: 201, ContentType: "application/json", Body: body}
		}
		const keyed, plain = 24, 24
		var wg sync.WaitGroup
		sent := make([]domain.IdempotentResponse, keyed)
		errs := make(chan error, keyed+plain)
		for i := range keyed {
			wg.Go(func() {
				resp, replayed, err := keys.Idempotent(ctx, "key_a", fmt.Sprintf("issue-%d", i), "fp", issue)
				if err != nil || replayed || resp.Status != 201 {
					errs <- fmt.Errorf("keyed issue %d: status %d replayed=%v %v", i, resp.Status, replayed, err)
				}
				sent[i] = resp
			})
		}
		for range plain {
			wg.Go(func() {
				if _, err := invoices.CreateInvoice(ctx, draft); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}

		// A keyed request that fails after issuing keeps nothing.
		if resp, _, err := keys.Idempotent(ctx, "key_a", "issue-failed", "fp", func(ctx context.Context) domain.IdempotentResponse {
			issue(ctx)
			return domain.IdempotentResponse{Status: 503}
		}); err != nil || resp.Status != 503 {
			t.Fatalf("failed keyed issue: %d %v", resp.Status, err)
		}
		series := "INV-" + fmt.Sprint(time.Now().UTC().Year())
		numbers, err := ledgercheck.Series(db.SQL(), series)
		if err != nil {
			t.Fatal(err)
		}
		if len(numbers) != keyed+plain {
			t.Fatalf("%d invoices in %s, want %d", len(numbers), series, keyed+plain)
		}
		for i, resp := range sent {
			var inv domain.Invoice
			if err := json.Unmarshal(resp.Body, &inv); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(resp.Body), "remit-number-") || inv.Number != numbers[inv.ID] || inv.Number == "" {
				t.Fatalf("keyed issue %d answered number %q, the row has %q:\n%s", i, inv.Number, numbers[inv.ID], resp.Body)
			}
			replay, replayed, err := keys.Idempotent(ctx, "key_a", fmt.Sprintf("issue-%d", i), "fp", issue)
			if err != nil || !replayed || string(replay.Body) != string(resp.Body) {
				t.Fatalf("replay of keyed issue %d: replayed=%v %v\n%s\nwant\n%s", i, replayed, err, replay.Body, resp.Body)
			}
			evs, err := invoices.FindEvents(ctx, inv.ID, domain.PageParams{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			announced := false
			for _, e := range evs.Data {
				if e.Type == "invoice.issued" {
					announced = strings.Contains(string(e.Data), `"number":"`+inv.Number+`"`)
				}
			}
			if !announced {
				t.Fatalf("invoice.issued of keyed issue %d does not name %s: %+v", i, inv.Number, evs.Data)
			}
		}
		// The next issue takes the next number: the failed one gave its back.
		next, err := invoices.CreateInvoice(ctx, draft)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%s-%04d", series, keyed+plain+1); next.Number != want {
			t.Fatalf("next number %s, want %s", next.Number, want)
		}
	})
}
