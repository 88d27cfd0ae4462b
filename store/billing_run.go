package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/remit/remit/domain"
)

// billingRunRow is the billing_runs table.
type billingRunRow struct {
	ID                 string
	TriggeredBy        string
	AsOf               string
	StartedAt          time.Time
	FinishedAt         time.Time
	DurationMS         int64 `gorm:"column:duration_ms"`
	InvoicesExamined   int64
	ChargesPosted      int64
	Posted             string // JSON object: charge kind -> count
	Reminders          int64
	SuspensionWarnings int64
	Suspensions        int64
	Reinstatements     int64
	SkippedCount       int64
	Skipped            string // JSON array of domain.SkippedInvoice
	ErrorMessage       string
}

func (billingRunRow) TableName() string { return "billing_runs" }

func (r *billingRunRow) toDomain() domain.BillingRun {
	run := domain.BillingRun{
		ID: r.ID, Trigger: r.TriggeredBy, AsOf: dateOf(&r.AsOf), StartedAt: r.StartedAt.UTC(), FinishedAt: r.FinishedAt.UTC(),
		DurationMS: r.DurationMS, InvoicesExamined: int(r.InvoicesExamined), Reminders: int(r.Reminders),
		SuspensionWarnings: int(r.SuspensionWarnings), Suspensions: int(r.Suspensions), Reinstatements: int(r.Reinstatements),
		Posted: map[domain.ChargeKind]int{}, Skipped: []domain.SkippedInvoice{}, Error: r.ErrorMessage,
	}
	// Both columns are written only by RecordRun, from marshalled values.
	_ = json.Unmarshal([]byte(r.Posted), &run.Posted)
	_ = json.Unmarshal([]byte(r.Skipped), &run.Skipped)
	return run
}

// BillingRunService implements domain.BillingRunService.
type BillingRunService struct{ db *DB }

// NewBillingRunService returns the billing run log on db.
func NewBillingRunService(db *DB) *BillingRunService { return &BillingRunService{db: db} }

// RecordRun implements domain.BillingRunService.
func (s *BillingRunService) RecordRun(ctx context.Context, r *domain.BillingRun) error {
	f := domain.FieldErrors{}
	if r.Trigger == "" {
		f.Add("trigger", "is required")
	}
	if r.AsOf.IsZero() {
		f.Add("as_of", "is required")
	}
	if r.StartedAt.IsZero() || r.FinishedAt.Before(r.StartedAt) {
		f.Add("finished_at", "must be set and not before started_at")
	}
	if err := f.Err(); err != nil {
		return err
	}
	if r.Posted == nil {
		r.Posted = map[domain.ChargeKind]int{}
	}
	if r.Skipped == nil {
		r.Skipped = []domain.SkippedInvoice{}
	}
	posted, err := json.Marshal(r.Posted)
	if err != nil {
		return err
	}
	skipped, err := json.Marshal(r.Skipped)
	if err != nil {
		return err
	}
	r.StartedAt = r.StartedAt.UTC().Truncate(time.Microsecond)
	r.FinishedAt = r.FinishedAt.UTC().Truncate(time.Microsecond)
	if r.DurationMS == 0 {
		r.DurationMS = r.FinishedAt.Sub(r.StartedAt).Milliseconds()
	}
	r.ID = s.db.newID("run")
	row := billingRunRow{
		ID: r.ID, TriggeredBy: r.Trigger, AsOf: r.AsOf.String(), StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		DurationMS: r.DurationMS, InvoicesExamined: int64(r.InvoicesExamined), ChargesPosted: int64(r.ChargesPosted()),
		Posted: string(posted), Reminders: int64(r.Reminders), SuspensionWarnings: int64(r.SuspensionWarnings),
		Suspensions: int64(r.Suspensions), Reinstatements: int64(r.Reinstatements),
		SkippedCount: int64(len(r.Skipped)), Skipped: string(skipped), ErrorMessage: clip(r.Error, maxErrorLen),
	}
	// One INSERT is atomic on its own.
	return translate(s.db.writer(ctx).Create(&row).Error)
}

// FindRuns implements domain.BillingRunService.
func (s *BillingRunService) FindRuns(ctx context.Context, p domain.PageParams) (domain.Page[domain.BillingRun], error) {
	var rows []billingRunRow
	if err := page(s.db.reader(ctx).Model(&billingRunRow{}), p).Find(&rows).Error; err != nil {
		return domain.Page[domain.BillingRun]{}, translate(err)
	}
	return finishPage(rows, p, (*billingRunRow).toDomain), nil
}
