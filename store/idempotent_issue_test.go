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

// TestGroupedKeyedRequests drives IdempotentGrouped as the API does for
// POST /v1/clients and POST /v1/invoices: distinct keys, duplicates of one
// key at once (some of them the way of Idempotent), a draft and a client
// with credit (whose writes cannot be held back, so the request runs again
// in a transaction), a 5xx after issuing, and a refusal that writes
// nothing. Every key has one effect and one response, replayed byte for
// byte, and the series stays gapless.
func TestGroupedKeyedRequests(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clients, invoices, keys := store.NewClientService(db), store.NewInvoiceService(db), store.NewIdempotencyService(db)
		c := newClient("Grouped")
		if err := clients.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		draft := func(clientID string, issue bool) domain.InvoiceDraft {
			return domain.InvoiceDraft{ClientID: clientID, Issue: issue, Memo: "Grouped",
				Lines: []domain.LineInput{{Description: "Work", Quantity: "3", UnitAmount: 2500}}}
		}
		// fn as the middleware makes it: a write that needs the transaction
		// gives an answer the store does not use.
		answer := func(v any, err error) domain.IdempotentResponse {
			if err != nil {
				return domain.IdempotentResponse{Status: 500, Body: []byte(err.Error())}
			}
			body, _ := json.Marshal(v)
			return domain.IdempotentResponse{Status: 201, ContentType: "application/json", Body: body}
		}
		issue := func(d domain.InvoiceDraft) func(ctx context.Context) domain.IdempotentResponse {
			return func(ctx context.Context) domain.IdempotentResponse { return answer(invoices.CreateInvoice(ctx, d)) }
		}
		create := func(name string) func(ctx context.Context) domain.IdempotentResponse {
			return func(ctx context.Context) domain.IdempotentResponse {
				cl := newClient(name)
				return answer(cl, clients.CreateClient(ctx, cl))
			}
		}

		type call struct {
			key  string
			tx   bool // the way of Idempotent
			fn   func(ctx context.Context) domain.IdempotentResponse
			resp domain.IdempotentResponse
		}
		var calls []*call
		for i := range 12 {
			calls = append(calls, &call{key: fmt.Sprintf("inv-%d", i), fn: issue(draft(c.ID, true))})
			calls = append(calls, &call{key: fmt.Sprintf("cli-%d", i), fn: create(fmt.Sprintf("Client %d", i))})
		}
		for i := range 6 {
			calls = append(calls, &call{key: "inv-dup", tx: i%2 == 1, fn: issue(draft(c.ID, true))})
			calls = append(calls, &call{key: "cli-dup", tx: i%2 == 1, fn: create("Duplicate")})
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(calls)+12)
		for _, cl := range calls {
			wg.Go(func() {
				run := keys.IdempotentGrouped
				if cl.tx {
					run = keys.Idempotent
				}
				resp, _, err := run(ctx, "key_g", cl.key, "fp-"+cl.key, cl.fn)
				if err != nil || resp.Status != 201 {
					errs <- fmt.Errorf("%s: %d %s %v", cl.key, resp.Status, resp.Body, err)
				}
				cl.resp = resp
			})
		}
		for range 12 {
			wg.Go(func() {
				if _, err := invoices.CreateInvoice(ctx, draft(c.ID, true)); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		first := map[string]string{}
		for _, cl := range calls {
			if f, ok := first[cl.key]; ok && f != string(cl.resp.Body) {
				t.Fatalf("two answers for %s:\n%s\n%s", cl.key, f, cl.resp.Body)
			}
			first[cl.key] = string(cl.resp.Body)
		}

		// A draft, and an issue for a client with credit: their writes need
		// the transaction.
		rich := newClient("With credit")
		if err := clients.CreateClient(ctx, rich); err != nil {
			t.Fatal(err)
		}
		paid, err := invoices.CreateInvoice(ctx, draft(rich.ID, true))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := invoices.RecordPayment(ctx, paid.ID, domain.PaymentInput{Amount: paid.Total + 500, Method: "bank_transfer"}); err != nil {
			t.Fatal(err)
		}
		for key, fn := range map[string]func(ctx context.Context) domain.IdempotentResponse{
			"inv-draft": issue(draft(c.ID, false)), "inv-credit": issue(draft(rich.ID, true)),
		} {
			resp, replayed, err := keys.IdempotentGrouped(ctx, "key_g", key, "fp", fn)
			if err != nil || replayed || resp.Status != 201 {
				t.Fatalf("%s: %d %s replayed=%v %v", key, resp.Status, resp.Body, replayed, err)
			}
			first[key] = string(resp.Body)
		}
		var credited domain.Invoice
		if err := json.Unmarshal([]byte(first["inv-credit"]), &credited); err != nil || credited.BalanceDue != credited.Total-500 {
			t.Fatalf("the issue with credit: %+v %v", credited, err)
		}

		// A 5xx after issuing keeps nothing; a refusal is kept.
		resp, _, err := keys.IdempotentGrouped(ctx, "key_g", "inv-failed", "fp", func(ctx context.Context) domain.IdempotentResponse {
			issue(draft(c.ID, true))(ctx)
			return domain.IdempotentResponse{Status: 503}
		})
		if err != nil || resp.Status != 503 {
			t.Fatalf("failed issue: %d %v", resp.Status, err)
		}
		refusal := func(context.Context) domain.IdempotentResponse {
			return domain.IdempotentResponse{Status: 422, ContentType: "application/json", Body: []byte(`{"error":"no"}`)}
		}
		if resp, replayed, err := keys.IdempotentGrouped(ctx, "key_g", "refused", "fp", refusal); err != nil || replayed || resp.Status != 422 {
			t.Fatalf("refusal: %d replayed=%v %v", resp.Status, replayed, err)
		}
		first["refused"] = `{"error":"no"}`

		// Every key replays its answer without running again.
		for key, body := range first {
			fp := "fp"
			if strings.HasPrefix(key, "inv-") && key != "inv-draft" && key != "inv-credit" || strings.HasPrefix(key, "cli-") {
				fp = "fp-" + key
			}
			resp, replayed, err := keys.IdempotentGrouped(ctx, "key_g", key, fp,
				func(context.Context) domain.IdempotentResponse {
					t.Errorf("%s ran again", key)
					return domain.IdempotentResponse{Status: 500}
				})
			if err != nil || !replayed || string(resp.Body) != body {
				t.Fatalf("replay of %s: replayed=%v %v\n%s\nwant\n%s", key, replayed, err, resp.Body, body)
			}
			if strings.Contains(string(resp.Body), "remit-number-") {
				t.Fatalf("%s answered a token: %s", key, resp.Body)
			}
		}
		if _, _, err := keys.IdempotentGrouped(ctx, "key_g", "inv-0", "another", issue(draft(c.ID, true))); domain.ErrorCode(err) != domain.EIDEMPOTENCY {
			t.Fatalf("a key of another request: %v", err)
		}

		// One effect per key: 12 + 1 keyed issues, 12 plain, the one paid
		// and the one with credit; 12 + 1 keyed clients and the 2 above.
		numbers, err := ledgercheck.Series(db.SQL(), "INV-"+fmt.Sprint(time.Now().UTC().Year()))
		if err != nil {
			t.Fatal(err)
		}
		if len(numbers) != 12+1+12+2 {
			t.Fatalf("%d invoices issued, want %d", len(numbers), 12+1+12+2)
		}
		for key, body := range first {
			var inv domain.Invoice
			if strings.HasPrefix(key, "inv-") && key != "inv-draft" {
				if err := json.Unmarshal([]byte(body), &inv); err != nil || numbers[inv.ID] != inv.Number {
					t.Fatalf("%s answered %q, the row has %q", key, inv.Number, numbers[inv.ID])
				}
			}
		}
		page, err := clients.FindClients(ctx, domain.ClientFilter{Page: domain.PageParams{Limit: 100}})
		if err != nil || len(page.Data) != 12+1+2 {
			t.Fatalf("%d clients, want %d (%v)", len(page.Data), 12+1+2, err)
		}
	})
}
