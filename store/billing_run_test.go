package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

func TestBillingRuns(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewBillingRunService(db)
		first := &domain.BillingRun{Trigger: domain.RunTriggerStart, AsOf: domain.MustParseDate("2026-03-01"),
			StartedAt: now, FinishedAt: now.Add(1500 * time.Millisecond), InvoicesExamined: 4}
		if err := s.RecordRun(ctx, first); err != nil {
			t.Fatal(err)
		}
		second := &domain.BillingRun{Trigger: domain.RunTriggerAPI, AsOf: domain.MustParseDate("2026-03-02"),
			StartedAt: now.Add(time.Hour), FinishedAt: now.Add(time.Hour + 250*time.Millisecond), InvoicesExamined: 9,
			Posted:    map[domain.ChargeKind]int{domain.ChargeLateFee: 2, domain.ChargeInterest: 5, domain.ChargeCompensation: 1},
			Reminders: 3, SuspensionWarnings: 1, Suspensions: 1, Reinstatements: 2,
			Skipped: []domain.SkippedInvoice{{InvoiceID: "inv_1", Reason: "reference rate ECB_MRO in force on 2026-01-01 is not loaded"}},
			Error:   ""}
		if err := s.RecordRun(ctx, second); err != nil {
			t.Fatal(err)
		}
		if second.DurationMS != 250 || second.ChargesPosted() != 8 {
			t.Fatalf("recorded %+v", second)
		}

		page, err := s.FindRuns(ctx, domain.PageParams{Limit: 1})
		if err != nil || len(page.Data) != 1 || !page.HasMore || !reflect.DeepEqual(page.Data[0], *second) {
			t.Fatalf("first page %+v %v\nwant %+v", page, err, *second)
		}
		page, err = s.FindRuns(ctx, domain.PageParams{Limit: 1, StartingAfter: second.ID})
		want := *first
		want.Posted, want.Skipped = map[domain.ChargeKind]int{}, []domain.SkippedInvoice{}
		if err != nil || len(page.Data) != 1 || page.HasMore || !reflect.DeepEqual(page.Data[0], want) || page.Data[0].DurationMS != 1500 {
			t.Fatalf("second page %+v %v", page, err)
		}

		if err := s.RecordRun(ctx, &domain.BillingRun{StartedAt: now}); domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("incomplete run: %v", err)
		}
	})
}
