package domain_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/remit/remit/domain"
)

func TestProjectInputValidate(t *testing.T) {
	d := domain.MustParseDate
	ms := func(m ...domain.MilestoneInput) []domain.MilestoneInput { return m }
	ok := domain.MilestoneInput{Name: "Design", Amount: 100000, PlannedDate: d("2026-03-20")}
	cases := []struct {
		name  string
		in    domain.ProjectInput
		field string // "" means valid
	}{
		{"valid", domain.ProjectInput{ClientID: "cli_1", Name: "Site", Milestones: ms(ok)}, ""},
		{"deposit first", domain.ProjectInput{ClientID: "cli_1", Name: "Site", Milestones: ms(domain.MilestoneInput{Name: "Deposit", Amount: 1, Deposit: true}, ok)}, ""},
		{"same planned dates", domain.ProjectInput{ClientID: "cli_1", Name: "Site", Milestones: ms(ok, ok)}, ""},
		{"no client", domain.ProjectInput{Name: "Site", Milestones: ms(ok)}, "client_id"},
		{"no name", domain.ProjectInput{ClientID: "cli_1", Milestones: ms(ok)}, "name"},
		{"no milestones", domain.ProjectInput{ClientID: "cli_1", Name: "Site"}, "milestones"},
		{"zero amount", domain.ProjectInput{ClientID: "cli_1", Name: "Site", Milestones: ms(ok, domain.MilestoneInput{Name: "B", PlannedDate: d("2026-04-01")})}, "milestones[1].amount"},
		{"negative amount", domain.ProjectInput{ClientID: "cli_1", Name: "Site", Milestones: ms(domain.MilestoneInput{Name: "B", Amount: -5, PlannedDate: d("2026-04-01")})}, "milestones[0].amount"},
		{"no planned date", domain.ProjectInput{ClientID: "cli_1", Name: "Site", Milestones: ms(domain.MilestoneInput{Name: "B", Amount: 5})}, "milestones[0].planned_date"},
		{"dates backwards", domain.ProjectInput{ClientID: "cli_1", Name: "Site", Milestones: ms(ok, domain.MilestoneInput{Name: "B", Amount: 5, PlannedDate: d("2026-03-19")})}, "milestones[1].planned_date"},
		{"deposit second", domain.ProjectInput{ClientID: "cli_1", Name: "Site", Milestones: ms(ok, domain.MilestoneInput{Name: "Deposit", Amount: 5, Deposit: true})}, "milestones[1].deposit"},
		{"deposit with date", domain.ProjectInput{ClientID: "cli_1", Name: "Site", Milestones: ms(domain.MilestoneInput{Name: "Deposit", Amount: 5, Deposit: true, PlannedDate: d("2026-03-01")})}, "milestones[0].planned_date"},
		{"total too large", domain.ProjectInput{ClientID: "cli_1", Name: "Site", Milestones: ms(
			domain.MilestoneInput{Name: "A", Amount: domain.MaxAmount, PlannedDate: d("2026-03-01")},
			domain.MilestoneInput{Name: "B", Amount: domain.MaxAmount, PlannedDate: d("2026-03-02")})}, "milestones"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var de *domain.Error
			if e, ok := err.(*domain.Error); ok {
				de = e
			}
			if de == nil || de.Code != domain.EINVALID || de.Fields[tc.field] == "" {
				t.Fatalf("want invalid %s, got %v", tc.field, err)
			}
		})
	}
}

// project returns a project with a paid deposit and three stages in the
// given states (pending, in_progress, invoiced, paid, cancelled).
func project(states ...string) domain.Project {
	p := domain.Project{ID: "prj_1", ClientID: "cli_1", Name: "Site", Status: domain.ProjectActive, Currency: "EUR"}
	p.Milestones = append(p.Milestones, domain.Milestone{ID: "mst_0", Position: 0, Name: "Deposit", Amount: 10000, Deposit: true,
		Status: domain.MilestonePaid, PlannedDate: domain.MustParseDate("2026-03-01"),
		Invoice: &domain.MilestoneInvoice{ID: "inv_0", Number: "INV-2026-0001", Status: "paid", Currency: "EUR", Total: 10000, PrincipalPaid: 10000}})
	for i, st := range states {
		m := domain.Milestone{ID: fmt.Sprintf("mst_%d", i+1), Position: i + 1, Name: fmt.Sprintf("Stage %d", i+1), Amount: int64(i+1) * 100000,
			PlannedDate: domain.NewDate(2026, 4, 1).AddDays(30 * i), Status: st}
		if st == domain.MilestoneInvoiced || st == domain.MilestonePaid {
			inv := &domain.MilestoneInvoice{ID: fmt.Sprintf("inv_%d", i+1), Number: fmt.Sprintf("INV-2026-%04d", i+2), Status: "open", Currency: "EUR", Total: m.Amount, BalanceDue: m.Amount}
			if st == domain.MilestonePaid {
				inv.Status, inv.BalanceDue, inv.AmountPaid, inv.PrincipalPaid = "paid", 0, m.Amount, m.Amount
			}
			m.Invoice = inv
		}
		p.Milestones = append(p.Milestones, m)
	}
	p.Summarize()
	return p
}

func TestCheckStart(t *testing.T) {
	cancelled := project(domain.MilestonePending, domain.MilestonePending)
	cancelled.Status = domain.ProjectCancelled
	unpaidDeposit := project(domain.MilestonePending)
	unpaidDeposit.Milestones[0].Status = domain.MilestoneInvoiced
	unpaidDeposit.Milestones[0].Invoice.Status, unpaidDeposit.Milestones[0].Invoice.BalanceDue = "open", 10000
	cases := []struct {
		name    string
		p       domain.Project
		id      string
		gate    bool
		code    string
		message string
	}{
		{"first stage after paid deposit", project(domain.MilestonePending, domain.MilestonePending), "mst_1", true, "", ""},
		{"deposit unpaid", unpaidDeposit, "mst_1", true, domain.EPREVMILESTONEUNPAID, `milestone 0 "Deposit" (mst_0) is paid: invoice INV-2026-0001 (inv_0) has 100.00 EUR due`},
		{"deposit unpaid, no gate", unpaidDeposit, "mst_1", false, "", ""},
		{"previous invoiced", project(domain.MilestoneInvoiced, domain.MilestonePending), "mst_2", true, domain.EPREVMILESTONEUNPAID, `until milestone 1 "Stage 1" (mst_1) is paid: invoice INV-2026-0002 (inv_1) has 1,000.00 EUR due`},
		{"previous in progress", project(domain.MilestoneInProgress, domain.MilestonePending), "mst_2", true, domain.EPREVMILESTONEUNPAID, "is delivered, invoiced and paid (it is in_progress"},
		{"previous in progress, no gate", project(domain.MilestoneInProgress, domain.MilestonePending), "mst_2", false, "", ""},
		{"previous paid", project(domain.MilestonePaid, domain.MilestonePending), "mst_2", true, "", ""},
		{"previous cancelled", project(domain.MilestoneCancelled, domain.MilestonePending), "mst_2", true, "", ""},
		{"out of order", project(domain.MilestonePending, domain.MilestonePending), "mst_2", false, domain.EMILESTONEOUTOFORDER, `start that one first`},
		{"out of order before gate", project(domain.MilestonePending, domain.MilestonePending), "mst_2", true, domain.EMILESTONEOUTOFORDER, ""},
		{"already started", project(domain.MilestoneInProgress), "mst_1", true, domain.ECONFLICT, "already started"},
		{"cancelled milestone", project(domain.MilestoneCancelled), "mst_1", true, domain.EMILESTONECANCELLED, ""},
		{"cancelled project", cancelled, "mst_1", true, domain.EPROJECTCANCELLED, ""},
		{"deposit", project(domain.MilestonePending), "mst_0", true, domain.ECONFLICT, "deposit"},
		{"unknown", project(domain.MilestonePending), "mst_9", true, domain.ENOTFOUND, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.CheckStart(tc.id, tc.gate)
			if domain.ErrorCode(err) != tc.code && !(tc.code == "" && err == nil) {
				t.Fatalf("got %v, want code %q", err, tc.code)
			}
			if tc.message != "" && !strings.Contains(domain.ErrorMessage(err), tc.message) {
				t.Fatalf("message %q does not say %q", domain.ErrorMessage(err), tc.message)
			}
		})
	}
}

func TestCheckDeliverAndClientDelay(t *testing.T) {
	p := project(domain.MilestonePending, domain.MilestoneInProgress, domain.MilestoneInvoiced, domain.MilestonePaid, domain.MilestoneCancelled, domain.MilestoneDelivered)
	p.Milestones[3].DeliveredOn = domain.MustParseDate("2026-05-01") // invoiced on delivery
	cases := []struct {
		id                  string
		invoice             bool
		deliverErr, delayEr string
	}{
		{"mst_0", false, domain.ECONFLICT, domain.ECONFLICT},
		{"mst_1", false, domain.EMILESTONENOTSTARTED, domain.EMILESTONENOTSTARTED},
		{"mst_2", true, "", ""},
		{"mst_3", false, domain.ECONFLICT, domain.ECONFLICT}, // delivered and invoiced
		{"mst_4", false, "", domain.ECONFLICT},               // paid under the client-delay rule: delivery recorded only
		{"mst_5", false, domain.EMILESTONECANCELLED, domain.EMILESTONECANCELLED},
		{"mst_6", true, "", domain.ECONFLICT}, // delivered, invoice voided
	}
	for _, tc := range cases {
		m := p.Milestone(tc.id)
		invoice, err := m.CheckDeliver()
		if domain.ErrorCode(err) != tc.deliverErr || invoice != tc.invoice {
			t.Errorf("deliver %s (%s): invoice %v err %v, want %v %q", tc.id, m.Status, invoice, err, tc.invoice, tc.deliverErr)
		}
		if err := m.CheckClientDelay(); domain.ErrorCode(err) != tc.delayEr {
			t.Errorf("client delay %s (%s): %v, want %q", tc.id, m.Status, err, tc.delayEr)
		}
	}
	if err := domain.CheckDelayNote(""); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("empty note: %v", err)
	}
	if err := domain.CheckDelayNote(strings.Repeat("x", domain.MaxDelayNoteLen+1)); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("long note: %v", err)
	}
}

func TestClientDelayInvoiceOn(t *testing.T) {
	planned := domain.MustParseDate("2026-04-30")
	if got := domain.ClientDelayInvoiceOn(planned, &domain.MilestoneRules{ClientDelayDays: 10}); got != domain.MustParseDate("2026-05-11") {
		t.Errorf("10 days: %s", got)
	}
	if got := domain.ClientDelayInvoiceOn(planned, nil); got != domain.MustParseDate("2026-05-01") {
		t.Errorf("no rules: %s", got)
	}
}

func TestNextUnlockedAndTotals(t *testing.T) {
	cases := []struct {
		states []string
		want   string
	}{
		{[]string{domain.MilestonePending, domain.MilestonePending}, "mst_1"},
		{[]string{domain.MilestonePaid, domain.MilestonePending}, "mst_2"},
		{[]string{domain.MilestoneCancelled, domain.MilestonePending}, "mst_2"},
		{[]string{domain.MilestoneInvoiced, domain.MilestonePending}, ""},
		{[]string{domain.MilestoneInProgress, domain.MilestonePending}, ""},
		{[]string{domain.MilestonePaid, domain.MilestonePaid}, ""},
	}
	for _, tc := range cases {
		p := project(tc.states...)
		got := ""
		if m := p.NextUnlocked(); m != nil {
			got = m.ID
		}
		if got != tc.want {
			t.Errorf("%v: next unlocked %q, want %q", tc.states, got, tc.want)
		}
	}
	p := project(domain.MilestonePaid, domain.MilestoneInvoiced, domain.MilestonePending, domain.MilestoneCancelled)
	if p.Total != 10000+100000+200000+300000 || p.Invoiced != 10000+100000+200000 || p.Paid != 10000+100000 || p.Remaining != 500000 || p.Status != domain.ProjectActive {
		t.Fatalf("totals %d %d %d %d %s", p.Total, p.Invoiced, p.Paid, p.Remaining, p.Status)
	}
	if done := project(domain.MilestonePaid, domain.MilestoneCancelled); done.Status != domain.ProjectCompleted || done.Remaining != 0 {
		t.Fatalf("all paid: %s remaining %d", done.Status, done.Remaining)
	}
}

func TestProjectUpdateApply(t *testing.T) {
	d := domain.MustParseDate
	today := d("2026-03-10")
	str := func(s string) *string { return &s }
	amt := func(n int64) *int64 { return &n }
	day := func(s string) *domain.Date { v := d(s); return &v }
	keep := func(ids ...string) []domain.MilestoneChange {
		out := make([]domain.MilestoneChange, len(ids))
		for i, id := range ids {
			out[i] = domain.MilestoneChange{ID: id}
		}
		return out
	}
	with := func(list []domain.MilestoneChange, extra ...domain.MilestoneChange) *[]domain.MilestoneChange {
		list = append(list, extra...)
		return &list
	}
	// Deposit paid, stage 1 invoiced, stages 2 and 3 pending.
	base := func() domain.Project {
		return project(domain.MilestoneInvoiced, domain.MilestonePending, domain.MilestonePending)
	}
	n := 0
	newID := func() string { n++; return fmt.Sprintf("mst_new%d", n) }

	t.Run("rename only", func(t *testing.T) {
		p := base()
		ch, err := domain.ProjectUpdate{Name: str("Site v2")}.Apply(&p, today, newID)
		if err != nil || p.Name != "Site v2" || !ch.Renamed {
			t.Fatalf("%v %+v", err, ch)
		}
	})
	t.Run("add, reorder and cancel after the last invoiced", func(t *testing.T) {
		p := base()
		list := with(keep("mst_0", "mst_1", "mst_3"),
			domain.MilestoneChange{ID: "mst_2", Cancel: true},
			domain.MilestoneChange{Name: str("Extra"), Amount: amt(5000), PlannedDate: day("2026-09-01")})
		// Stage 3 (planned 2026-05-31) before stage 2 (2026-05-01) is fine: stage 2 is cancelled.
		ch, err := domain.ProjectUpdate{Milestones: list}.Apply(&p, today, newID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range p.Milestones {
			got = append(got, fmt.Sprintf("%d:%s:%s", m.Position, m.ID, m.Status))
		}
		want := []string{"0:mst_0:paid", "1:mst_1:invoiced", "2:mst_3:pending", "3:mst_2:cancelled", "4:" + ch.Added[0] + ":pending"}
		if !reflect.DeepEqual(got, want) || !ch.Reordered || !reflect.DeepEqual(ch.Cancelled, []string{"mst_2"}) {
			t.Fatalf("got %v %+v", got, ch)
		}
		if p.Milestone("mst_2").CancelledOn != today || p.Total != 10000+100000+300000+5000 {
			t.Fatalf("cancelled on %s, total %d", p.Milestone("mst_2").CancelledOn, p.Total)
		}
	})
	refused := []struct {
		name  string
		u     domain.ProjectUpdate
		code  string
		field string
	}{
		{"move an invoiced milestone", domain.ProjectUpdate{Milestones: with(keep("mst_1", "mst_0", "mst_2", "mst_3"))}, domain.EMILESTONEINVOICED, ""},
		{"add before the last invoiced", domain.ProjectUpdate{Milestones: with(keep("mst_0"), domain.MilestoneChange{Name: str("X"), Amount: amt(1), PlannedDate: day("2026-03-15")}, domain.MilestoneChange{ID: "mst_1"}, domain.MilestoneChange{ID: "mst_2"}, domain.MilestoneChange{ID: "mst_3"})}, domain.EMILESTONEINVOICED, ""},
		{"cancel an invoiced milestone", domain.ProjectUpdate{Milestones: with(keep("mst_0"), domain.MilestoneChange{ID: "mst_1", Cancel: true}, domain.MilestoneChange{ID: "mst_2"}, domain.MilestoneChange{ID: "mst_3"})}, domain.EMILESTONEINVOICED, ""},
		{"change an invoiced amount", domain.ProjectUpdate{Milestones: with(keep("mst_0"), domain.MilestoneChange{ID: "mst_1", Amount: amt(1)}, domain.MilestoneChange{ID: "mst_2"}, domain.MilestoneChange{ID: "mst_3"})}, domain.EMILESTONEINVOICED, ""},
		{"leave one out", domain.ProjectUpdate{Milestones: with(keep("mst_0", "mst_1", "mst_2"))}, domain.EINVALID, "milestones"},
		{"list one twice", domain.ProjectUpdate{Milestones: with(keep("mst_0", "mst_1", "mst_2", "mst_3", "mst_3"))}, domain.EINVALID, "milestones[4].id"},
		{"unknown id", domain.ProjectUpdate{Milestones: with(keep("mst_0", "mst_1", "mst_2", "mst_3", "mst_x"))}, domain.EINVALID, "milestones[4].id"},
		{"new without amount", domain.ProjectUpdate{Milestones: with(keep("mst_0", "mst_1", "mst_2", "mst_3"), domain.MilestoneChange{Name: str("X"), PlannedDate: day("2026-09-01")})}, domain.EINVALID, "milestones[4].amount"},
		{"new with zero amount", domain.ProjectUpdate{Milestones: with(keep("mst_0", "mst_1", "mst_2", "mst_3"), domain.MilestoneChange{Name: str("X"), Amount: amt(0), PlannedDate: day("2026-09-01")})}, domain.EINVALID, "milestones[4].amount"},
		{"new planned too early", domain.ProjectUpdate{Milestones: with(keep("mst_0", "mst_1", "mst_2", "mst_3"), domain.MilestoneChange{Name: str("X"), Amount: amt(1), PlannedDate: day("2026-05-30")})}, domain.EINVALID, "milestones[4].planned_date"},
		{"reorder against the dates", domain.ProjectUpdate{Milestones: with(keep("mst_0", "mst_1", "mst_3", "mst_2"))}, domain.EINVALID, "milestones[3].planned_date"},
		{"empty name", domain.ProjectUpdate{Name: str(""), Milestones: with(keep("mst_0", "mst_1"), domain.MilestoneChange{ID: "mst_2", Cancel: true}, domain.MilestoneChange{ID: "mst_3", Cancel: true})}, domain.EINVALID, "name"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			before := fmt.Sprintf("%+v", p)
			_, err := tc.u.Apply(&p, today, newID)
			if domain.ErrorCode(err) != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			if tc.field != "" {
				if e, ok := err.(*domain.Error); !ok || e.Fields[tc.field] == "" {
					t.Fatalf("error does not name %s: %v", tc.field, err)
				}
			}
			if after := fmt.Sprintf("%+v", p); after != before {
				t.Fatal("a refused update changed the project")
			}
		})
	}
	t.Run("cancelled project: cancel and rename only", func(t *testing.T) {
		p := project(domain.MilestoneInProgress, domain.MilestoneCancelled)
		p.Status = domain.ProjectCancelled
		if _, err := (domain.ProjectUpdate{Milestones: with(keep("mst_0", "mst_1", "mst_2"), domain.MilestoneChange{Name: str("X"), Amount: amt(1), PlannedDate: day("2026-09-01")})}).Apply(&p, today, newID); domain.ErrorCode(err) != domain.EPROJECTCANCELLED {
			t.Fatalf("add: %v", err)
		}
		ch, err := domain.ProjectUpdate{Name: str("Old site"), Milestones: with(keep("mst_0"), domain.MilestoneChange{ID: "mst_1", Cancel: true}, domain.MilestoneChange{ID: "mst_2"})}.Apply(&p, today, newID)
		if err != nil || p.Milestone("mst_1").Status != domain.MilestoneCancelled || !ch.Renamed {
			t.Fatalf("cancel: %v %+v", err, ch)
		}
	})
}
