package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// TestClientReport builds three clients with known figures on each
// database (the clock is 2026-03-01) and checks every aggregate and flag.
func TestClientReport(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clients := store.NewClientService(db)
		agreements := store.NewAgreementService(db, domain.Business{NoticeDays: 30})
		invoices := store.NewInvoiceService(db)
		times := store.NewTimeEntryService(db)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		client := func(name string, ag domain.Agreement) string {
			c := newClient(name)
			must(clients.CreateClient(ctx, c))
			ag.EffectiveFrom = domain.NewDate(2025, 1, 1)
			_, err := agreements.CreateAgreement(ctx, c.ID, ag)
			must(err)
			return c.ID
		}
		issue := func(clientID string, amount int64, issued domain.Date) string {
			inv, err := invoices.CreateInvoice(ctx, domain.InvoiceDraft{ClientID: clientID, Issue: true, IssueDate: issued,
				Lines: []domain.LineInput{{Description: "Work", UnitAmount: amount}}})
			must(err)
			return inv.ID
		}
		pay := func(invoiceID string, amount int64, on domain.Date, key string) {
			_, err := invoices.RecordPayment(ctx, invoiceID, domain.PaymentInput{Amount: amount, PaidOn: on, Method: "bank_transfer", Source: domain.PaymentManual, Key: key})
			must(err)
		}
		work := func(clientID string, minutes int, billable bool) {
			_, err := times.CreateTimeEntries(ctx, "key", []domain.TimeEntryInput{{ClientID: clientID, Date: domain.NewDate(2026, 2, 10), Minutes: minutes, Billable: &billable}}, false)
			must(err)
		}
		net30 := domain.Agreement{PaymentTerms: "net_30"}

		// Good: paid before the due date, 10 hours.
		good := client("Good", net30)
		pay(issue(good, 100000, domain.NewDate(2026, 1, 1)), 100000, domain.NewDate(2026, 1, 20), "g1")
		work(good, 600, true)

		// Late: one invoice paid 15 days late, one unpaid since 2026-02-14; 20 hours.
		late := client("Late", net30)
		pay(issue(late, 50000, domain.NewDate(2026, 1, 1)), 50000, domain.NewDate(2026, 2, 15), "l1")
		issue(late, 30000, domain.NewDate(2026, 1, 15))
		work(late, 1200, true)

		// Waived: pays 1.00 ten days late, which goes to the 5.00 fee posted
		// on day one overdue; the other 4.00 of the fee is waived today.
		waived := client("Waived", domain.Agreement{PaymentTerms: "net_30", LateFee: &domain.LateFee{Flat: 500}})
		inv := issue(waived, 20000, domain.NewDate(2026, 1, 1))
		pay(inv, 100, domain.NewDate(2026, 2, 10), "w1")
		charges, err := invoices.FindCharges(ctx, inv)
		must(err)
		if len(charges) != 1 || charges[0].Paid != 100 {
			t.Fatalf("charges %+v", charges)
		}
		_, err = invoices.WaiveCharge(ctx, inv, charges[0].ID, "goodwill")
		must(err)
		work(waived, 300, false)

		th := domain.Thresholds{TargetHourlyRates: map[string]int64{"EUR": 6000}, LateShare: 30, HoursShareCap: 20, Exceptions: 1}
		s := store.NewHealthService(db, domain.Business{Timezone: "Europe/Berlin"}, th)
		r, err := s.ClientReport(ctx, domain.Period{From: domain.NewDate(2026, 1, 1), To: domain.NewDate(2026, 3, 1)})
		must(err)
		if r.AsOf != domain.NewDate(2026, 3, 1) || len(r.Clients) != 3 {
			t.Fatalf("report %+v", r)
		}
		type row struct {
			name                                string
			received, minutes, billable         int64
			rate                                int64
			hoursShare, revenueShare            string
			due, onTime, paidLate, overdue      int64
			onTimeRate, avgLate                 string
			worstLate                           int64
			waivers, waivedAmount, open, oldest int64
			flags                               []string
		}
		want := []row{
			{"Late", 50000, 1200, 1200, 2500, "57.14", "33.31", 2, 0, 1, 1, "0", "15", 15, 0, 0, 30000, 15,
				[]string{domain.FlagLatePayer, domain.FlagBelowTargetRate, domain.FlagHoursOverRevenue, domain.FlagHoursOverCap}},
			{"Waived", 100, 300, 0, 20, "14.29", "0.07", 1, 0, 0, 1, "0", "", 0, 1, 400, 20000, 29,
				[]string{domain.FlagLatePayer, domain.FlagBelowTargetRate, domain.FlagHoursOverRevenue, domain.FlagFrequentExceptions}},
			{"Good", 100000, 600, 600, 10000, "28.57", "66.62", 1, 1, 0, 0, "100", "", 0, 0, 0, 0, 0, nil},
		}
		for i, w := range want {
			h := r.Clients[i]
			var codes []string
			for _, f := range h.Flags {
				codes = append(codes, f.Code)
			}
			got := row{h.ClientName, h.RevenueReceived, h.Minutes, h.BillableMinutes, deref(h.EffectiveHourlyRate), derefS(h.HoursShare), derefS(h.RevenueShare),
				h.InvoicesDue, h.InvoicesPaidOnTime, h.InvoicesPaidLate, h.InvoicesOverdue, derefS(h.OnTimeRate), derefS(h.AverageDaysLate),
				deref(h.WorstDaysLate), h.Waivers, h.WaivedAmount, h.OpenBalance, h.OldestOverdueDays, codes}
			if h.Rank != i+1 || !reflect.DeepEqual(got, w) {
				t.Errorf("rank %d:\n got %+v\nwant %+v", h.Rank, got, w)
			}
		}
		lateFlag := r.Clients[0].Flags[0]
		if lateFlag.Figure != "100" || lateFlag.Threshold != "30" || lateFlag.Unit != domain.UnitPercent {
			t.Errorf("late payer flag %+v", lateFlag)
		}

		// A period before the waiver and the second payment sees neither.
		r, err = s.ClientReport(ctx, domain.Period{From: domain.NewDate(2026, 1, 1), To: domain.NewDate(2026, 1, 31)})
		must(err)
		for _, h := range r.Clients {
			if h.ClientName == "Late" && (h.RevenueReceived != 0 || h.InvoicesDue != 1 || h.InvoicesPaidLate != 1) ||
				h.ClientName == "Waived" && h.Waivers != 0 {
				t.Errorf("January: %+v", h)
			}
		}

		one, err := s.ClientHealth(ctx, good, domain.Period{})
		must(err)
		if len(one.Clients) != 1 || one.Clients[0].ClientID != good || one.Clients[0].Rank != 3 ||
			one.From != domain.NewDate(2025, 3, 2) || one.To != domain.NewDate(2026, 3, 1) {
			t.Fatalf("one client %+v", one)
		}
		if _, err := s.ClientHealth(ctx, "cli_missing", domain.Period{}); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("missing client: %v", err)
		}
	})
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func derefS(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
