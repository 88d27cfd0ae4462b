package billing_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/remit/remit/billing"
	"github.com/remit/remit/internal/testdb"
	"github.com/remit/remit/store"
)

// TestSweepStepFailureDoesNotStopLaterSteps: a failing step (a recurring
// template that cannot be issued) is reported, and the steps after it (the
// auto-charge, the purge) still run.
func TestSweepStepFailureDoesNotStopLaterSteps(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, testdb.SQLiteURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ran := []string{}
	step := func(name string, err error) billing.Step {
		return billing.Step{Name: name, Run: func(context.Context, time.Time) (int, error) { ran = append(ran, name); return 0, err }}
	}
	s := &billing.Sweeper{Store: store.NewSweepService(db), Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Steps: []billing.Step{step("recurring", errors.New("template broken")), step("auto_charge", nil), step("idempotency", nil)}}
	run, err := s.Sweep(ctx, "api")
	if err == nil || !strings.Contains(err.Error(), "recurring: template broken") || !strings.Contains(run.Error, "template broken") {
		t.Errorf("sweep error %v, run error %q", err, run.Error)
	}
	if strings.Join(ran, " ") != "recurring auto_charge idempotency" {
		t.Errorf("steps run: %v", ran)
	}
}
