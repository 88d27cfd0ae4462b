package store_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// BenchmarkApplyStripeEvent measures the ledger's side of a webhook on
// SQLite, one event at a time: the event id's insert and a new payment
// (payment_intent.succeeded) or a status change (payment_intent.processing).
func BenchmarkApplyStripeEvent(b *testing.B) {
	for _, kind := range []string{"payment", "processing"} {
		b.Run(kind, func(b *testing.B) {
			db := MustOpenDB(b, "sqlite")
			t := &testing.T{}
			f := newStripeFixture(t, db)
			f.t = t
			ids := make([]string, 200)
			for i := range ids {
				inv, err := f.invoices.CreateInvoice(context.Background(), domain.InvoiceDraft{ClientID: f.clientID, Issue: true,
					Lines: []domain.LineInput{{Description: "Bench", Quantity: "1", UnitAmount: 100_000_000}}})
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = inv.ID
			}
			ctx := context.Background()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				ev := intentEvent(fmt.Sprintf("evt_%d", i), "payment_intent.succeeded", fmt.Sprintf("pi_%d", i), ids[i%len(ids)], domain.IntentSucceeded, 100, 1)
				if kind == "processing" {
					ev.Type, ev.Status, ev.Amount = "payment_intent.processing", domain.IntentProcessing, 0
				}
				ev.Payload = []byte(`{}`)
				if _, err := f.ledger.ApplyStripeEvent(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			// CPU time per event: the figure that holds on a busy machine.
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
		})
	}
	_ = store.SQLite
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
