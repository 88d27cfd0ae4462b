// Package billing runs the enforcement sweep and the delivery of notices:
// it asks the store what is due, lets the domain rules decide, and records
// what it did. No HTTP handlers, no SQL strings.
package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/remit/remit/domain"
)

// Step is extra work a sweep does after the invoices (issuing milestone
// invoices held up by a client, purging old idempotency keys, ...). It
// returns how many things it did.
type Step struct {
	Name string
	Run  func(ctx context.Context, now time.Time) (int, error)
}

// Sweeper runs the enforcement sweep: every charge that is due and not yet
// posted, every reminder and suspension step that is due, reinstatements.
// Running it twice, after a crash half way, or on several replicas at once
// posts each thing once: the store's unique keys decide.
type Sweeper struct {
	Store    domain.SweepStore
	Runs     domain.BillingRunService
	Now      func() time.Time
	Logger   *slog.Logger
	PageSize int
	Steps    []Step
	// Observe, when set, is told about every run after it is recorded,
	// failed runs included (metrics).
	Observe func(*domain.BillingRun)

	mu sync.Mutex // one sweep at a time in this process
}

// Sweep runs once as of now and records the run. trigger says who asked
// ("scheduler", "api", "start"). A cancelled ctx stops it between pages;
// what was committed stays, and the next run carries on.
func (s *Sweeper) Sweep(ctx context.Context, trigger string) (*domain.BillingRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	started := s.Now()
	// The run's duration is measured on the wall clock: Now may be pinned.
	wall := time.Now()
	report, err := s.sweep(ctx, started)
	elapsed := time.Since(wall)
	run := &domain.BillingRun{
		Trigger: trigger, AsOf: domain.DateOf(started, time.UTC), StartedAt: started,
		InvoicesExamined: report.Examined, Reminders: report.Reminders, SuspensionWarnings: report.Warnings,
		Suspensions: report.Suspensions, Reinstatements: report.Reinstatements, Skipped: report.SkippedDetail, SkippedByKind: report.Skipped,
		Posted: map[domain.ChargeKind]int{},
	}
	for k, n := range report.ChargesPosted {
		run.Posted[domain.ChargeKind(k)] = n
	}
	if err != nil {
		run.Error = err.Error()
	}
	run.FinishedAt, run.DurationMS = started.Add(elapsed), elapsed.Milliseconds()
	if s.Runs != nil {
		// Record even a failed run, so the log shows it; ctx may be cancelled.
		if rerr := s.Runs.RecordRun(context.WithoutCancel(ctx), run); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	s.Logger.Info("billing run", "trigger", trigger, "examined", report.Examined, "posted", report.ChargesPosted,
		"amount_posted", report.AmountPosted, "reminders", report.Reminders, "suspensions", report.Suspensions,
		"reinstatements", report.Reinstatements, "skipped", report.Skipped, "error", run.Error)
	if s.Observe != nil {
		s.Observe(run)
	}
	return run, err
}

func (s *Sweeper) sweep(ctx context.Context, now time.Time) (domain.SweepReport, error) {
	var total domain.SweepReport
	size := s.PageSize
	if size <= 0 {
		size = 500
	}
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		last, page, err := s.Store.SweepPage(ctx, now, after, size)
		total.Add(page)
		if err != nil {
			return total, err
		}
		if last == "" {
			break
		}
		after = last
	}
	n, err := s.Store.ReinstateClients(ctx, now)
	total.Reinstatements += n
	if err != nil {
		return total, err
	}
	// A step that fails does not hold the later ones back (a template
	// that cannot be issued must not stop the cards being charged).
	var errs []error
	for _, step := range s.Steps {
		if err := ctx.Err(); err != nil {
			return total, errors.Join(append(errs, err)...)
		}
		n, err := step.Run(ctx, now)
		if step.Name == "milestones" {
			total.Milestones += n
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", step.Name, err))
		}
	}
	return total, errors.Join(errs...)
}

// Run sweeps at start and then every interval until ctx ends; an interval
// of 0 sweeps only at start.
func (s *Sweeper) Run(ctx context.Context, interval time.Duration) {
	if _, err := s.Sweep(ctx, "start"); err != nil && ctx.Err() == nil {
		s.Logger.Error("billing run failed", "error", err)
	}
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sweep(ctx, "scheduler"); err != nil && ctx.Err() == nil {
				s.Logger.Error("billing run failed", "error", err)
			}
		}
	}
}
