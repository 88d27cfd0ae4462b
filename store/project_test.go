package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// projectFixture is a client in Europe/Berlin with a gated agreement
// (net_14, client_delay_days 10), the services, and a movable clock.
type projectFixture struct {
	t        *testing.T
	db       *store.DB
	clock    atomic.Int64
	client   *domain.Client
	projects *store.ProjectService
	invoices *store.InvoiceService
}

func newProjectFixture(t *testing.T, db *store.DB) *projectFixture {
	t.Helper()
	f := &projectFixture{t: t, db: db, projects: store.NewProjectService(db), invoices: store.NewInvoiceService(db)}
	f.at(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	db.Now = func() time.Time { return time.Unix(0, f.clock.Load()).UTC() }
	ctx := context.Background()
	f.client = newClient("Acme GmbH")
	if err := store.NewClientService(db).CreateClient(ctx, f.client); err != nil {
		t.Fatal(err)
	}
	_, err := store.NewAgreementService(db, domain.Business{NoticeDays: 30}).CreateAgreement(ctx, f.client.ID, domain.Agreement{
		EffectiveFrom: domain.NewDate(2026, 1, 1), PaymentTerms: "net_14",
		Milestones: &domain.MilestoneRules{GateNextOnPayment: true, ClientDelayDays: 10}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// at moves the clock.
func (f *projectFixture) at(t time.Time) { f.clock.Store(t.UnixNano()) }

// create makes a project with a deposit (500.00) and stages Design (2,000.00,
// planned 2026-03-20) and Build (3,000.00, planned 2026-04-30).
func (f *projectFixture) create() *domain.Project {
	f.t.Helper()
	p, err := f.projects.CreateProject(context.Background(), domain.ProjectInput{ClientID: f.client.ID, Name: "Website", Milestones: []domain.MilestoneInput{
		{Name: "Deposit", Amount: 50000, Deposit: true},
		{Name: "Design", Amount: 200000, PlannedDate: domain.MustParseDate("2026-03-20")},
		{Name: "Build", Amount: 300000, PlannedDate: domain.MustParseDate("2026-04-30")},
	}})
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *projectFixture) project(id string) *domain.Project {
	f.t.Helper()
	p, err := f.projects.FindProjectByID(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *projectFixture) pay(invoiceID string, amount int64, on, key string) *domain.Payment {
	f.t.Helper()
	p, err := f.invoices.RecordPayment(context.Background(), invoiceID, domain.PaymentInput{Amount: amount, PaidOn: domain.MustParseDate(on),
		Method: "bank_transfer", Source: domain.PaymentManual, Key: key})
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// outbox lists the types and milestone ids of the milestone notices queued, in order.
func (f *projectFixture) outbox() []string {
	f.t.Helper()
	rows, err := f.db.SQL().Query("SELECT o.type, e.data FROM outbox o JOIN events e ON e.id = o.event_id WHERE o.type LIKE 'milestone.%' ORDER BY o.id")
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ, payload string
		if err := rows.Scan(&typ, &payload); err != nil {
			f.t.Fatal(err)
		}
		i := strings.Index(payload, `"milestone_id":"`)
		out = append(out, typ+" "+payload[i+16:i+16+len("mst_")+26])
	}
	return out
}

func (f *projectFixture) count(query string) int {
	f.t.Helper()
	var n int
	if err := f.db.SQL().QueryRow(query).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestProjectGateAndPaymentHooks(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newProjectFixture(t, db)
		p := f.create()
		dep, design, build := p.Milestones[0], p.Milestones[1], p.Milestones[2]
		if p.Status != domain.ProjectActive || dep.Status != domain.MilestoneInvoiced || dep.InvoicedFor != domain.InvoicedForDeposit ||
			dep.Invoice.Number != "INV-2026-0001" || dep.Invoice.DueDate != domain.MustParseDate("2026-03-02") || dep.Invoice.Total != 50000 ||
			dep.PlannedDate != domain.MustParseDate("2026-03-02") || design.Status != domain.MilestonePending || design.Invoice != nil {
			t.Fatalf("created %+v", p)
		}
		if p.Total != 550000 || p.Invoiced != 50000 || p.Paid != 0 || p.Remaining != 550000 {
			t.Fatalf("totals %d %d %d %d", p.Total, p.Invoiced, p.Paid, p.Remaining)
		}

		// The deposit gates the first stage.
		_, err := f.projects.StartMilestone(ctx, design.ID)
		if domain.ErrorCode(err) != domain.EPREVMILESTONEUNPAID || !strings.Contains(domain.ErrorMessage(err), `"Deposit"`) ||
			!strings.Contains(domain.ErrorMessage(err), "INV-2026-0001") || !strings.Contains(domain.ErrorMessage(err), "500.00 EUR due") {
			t.Fatalf("start before the deposit is paid: %v", err)
		}
		f.pay(dep.Invoice.ID, 50000, "2026-03-02", "k1")
		if got := f.project(p.ID).Milestones[0]; got.Status != domain.MilestonePaid || got.PaidOn != domain.MustParseDate("2026-03-02") {
			t.Fatalf("deposit after payment %+v", got)
		}
		if got, want := f.outbox(), []string{"milestone.paid " + dep.ID, "milestone.unlocked " + design.ID}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("outbox %v, want %v", got, want)
		}

		if _, err := f.projects.DeliverMilestone(ctx, design.ID); domain.ErrorCode(err) != domain.EMILESTONENOTSTARTED {
			t.Fatalf("deliver before start: %v", err)
		}
		if _, err := f.projects.StartMilestone(ctx, build.ID); domain.ErrorCode(err) != domain.EMILESTONEOUTOFORDER {
			t.Fatalf("start out of order: %v", err)
		}
		m, err := f.projects.StartMilestone(ctx, design.ID)
		if err != nil || m.Status != domain.MilestoneInProgress || m.StartedOn != domain.MustParseDate("2026-03-02") {
			t.Fatalf("start design: %+v %v", m, err)
		}
		f.at(time.Date(2026, 3, 20, 15, 0, 0, 0, time.UTC))
		m, err = f.projects.DeliverMilestone(ctx, design.ID)
		if err != nil || m.Status != domain.MilestoneInvoiced || m.DeliveredOn != domain.MustParseDate("2026-03-20") || m.InvoicedFor != domain.InvoicedForDelivery ||
			m.Invoice.Number != "INV-2026-0002" || m.Invoice.DueDate != domain.MustParseDate("2026-04-03") || m.Invoice.BalanceDue != 200000 {
			t.Fatalf("deliver design: %+v %v", m, err)
		}
		inv, err := f.invoices.FindInvoiceByID(ctx, m.Invoice.ID)
		if err != nil || inv.Lines[0].Description != "Website: Design" || inv.Memo != `Milestone "Design" of project "Website", delivered on 2026-03-20.` {
			t.Fatalf("design invoice %+v %v", inv, err)
		}
		_, err = f.projects.StartMilestone(ctx, build.ID)
		if domain.ErrorCode(err) != domain.EPREVMILESTONEUNPAID || !strings.Contains(domain.ErrorMessage(err), `milestone 1 "Design"`) ||
			!strings.Contains(domain.ErrorMessage(err), "INV-2026-0002") {
			t.Fatalf("start build before design is paid: %v", err)
		}

		// Paid in two parts: the milestone is paid with the second.
		f.at(time.Date(2026, 3, 27, 10, 0, 0, 0, time.UTC))
		f.pay(m.Invoice.ID, 150000, "2026-03-25", "k2")
		if got := f.project(p.ID); got.Milestones[1].Status != domain.MilestoneInvoiced || got.Paid != 200000 {
			t.Fatalf("after a partial payment %s, paid %d", got.Milestones[1].Status, got.Paid)
		}
		pay := f.pay(m.Invoice.ID, 50000, "2026-03-26", "k3")
		got := f.project(p.ID)
		if got.Milestones[1].Status != domain.MilestonePaid || got.Paid != 250000 || got.Invoiced != 250000 || got.Remaining != 300000 {
			t.Fatalf("after full payment %+v", got)
		}

		// A refund reopens the invoice: the milestone is unpaid again and the gate closes.
		if _, err := f.invoices.RefundPayment(ctx, pay.ID, domain.RefundInput{Amount: 10000, Key: "r1"}); err != nil {
			t.Fatal(err)
		}
		if got := f.project(p.ID); got.Milestones[1].Status != domain.MilestoneInvoiced || !got.Milestones[1].PaidOn.IsZero() || got.Paid != 240000 {
			t.Fatalf("after refund %+v", got.Milestones[1])
		}
		if _, err := f.projects.StartMilestone(ctx, build.ID); domain.ErrorCode(err) != domain.EPREVMILESTONEUNPAID {
			t.Fatalf("start build after the refund: %v", err)
		}
		f.pay(m.Invoice.ID, 10000, "2026-03-27", "k4")
		if _, err := f.projects.StartMilestone(ctx, build.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{"milestone.paid " + dep.ID, "milestone.unlocked " + design.ID, "milestone.paid " + design.ID, "milestone.unlocked " + build.ID,
			"milestone.reopened " + design.ID, "milestone.paid " + design.ID, "milestone.unlocked " + build.ID}
		if got := f.outbox(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("outbox %v\nwant %v", got, want)
		}
		events, err := f.invoices.FindEvents(ctx, m.Invoice.ID, domain.PageParams{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range events.Data {
			types = append(types, e.Type)
		}
		if !strings.Contains(strings.Join(types, ","), "invoice.paid,milestone.paid,milestone.unlocked") {
			t.Fatalf("invoice events %v", types)
		}
		checkLedger(t, db, "project flow")
	})
}

func TestClientDelayInvoicedOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newProjectFixture(t, db)
		p := f.create()
		design, build := p.Milestones[1], p.Milestones[2]
		f.pay(p.Milestones[0].Invoice.ID, 50000, "2026-03-02", "k1")
		if _, err := f.projects.RecordClientDelay(ctx, design.ID, "waiting for content"); domain.ErrorCode(err) != domain.EMILESTONENOTSTARTED {
			t.Fatalf("delay before start: %v", err)
		}
		if _, err := f.projects.StartMilestone(ctx, design.ID); err != nil {
			t.Fatal(err)
		}
		f.at(time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC))
		m, err := f.projects.RecordClientDelay(ctx, design.ID, "the client has not sent the copy")
		if err != nil || m.ClientDelay == nil || m.ClientDelay.RecordedOn != domain.MustParseDate("2026-03-15") ||
			m.ClientDelay.InvoiceOn != domain.MustParseDate("2026-03-31") {
			t.Fatalf("client delay %+v %v", m.ClientDelay, err)
		}
		if _, err := f.projects.RecordClientDelay(ctx, design.ID, ""); domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("empty note: %v", err)
		}

		// Planned 2026-03-20 + 10 days: invoiced from 2026-03-31 in Berlin
		// (UTC+2 from 29 March), that is from 2026-03-30T22:00Z.
		for _, tc := range []struct {
			now  time.Time
			want int
		}{
			{time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC), 0},
			{time.Date(2026, 3, 30, 21, 59, 0, 0, time.UTC), 0},
			{time.Date(2026, 3, 30, 22, 0, 0, 0, time.UTC), 1},
			{time.Date(2026, 3, 30, 22, 0, 0, 0, time.UTC), 0},
			{time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC), 0},
		} {
			f.at(tc.now)
			n, err := f.projects.IssueDelayedMilestones(ctx, tc.now)
			if err != nil || n != tc.want {
				t.Fatalf("sweep at %s: issued %d (%v), want %d", tc.now, n, err, tc.want)
			}
		}
		got := f.project(p.ID).Milestones[1]
		if got.Status != domain.MilestoneInvoiced || got.InvoicedFor != domain.InvoicedForClientDelay || got.InvoicedOn != domain.MustParseDate("2026-03-31") ||
			!got.DeliveredOn.IsZero() || got.Invoice.Number != "INV-2026-0002" || got.Invoice.DueDate != domain.MustParseDate("2026-04-14") || got.ClientDelay.InvoiceOn != (domain.Date{}) {
			t.Fatalf("after the sweep %+v", got)
		}
		if n := f.count("SELECT COUNT(*) FROM invoices"); n != 2 {
			t.Fatalf("%d invoices", n)
		}
		events, err := f.invoices.FindEvents(ctx, got.Invoice.ID, domain.PageParams{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var said string
		for _, e := range events.Data {
			if e.Type == "milestone.client_delay_invoiced" {
				said += string(e.Data)
			}
		}
		if !strings.Contains(said, "not delivered 10 days after the planned date 2026-03-20 because the client holds it up") || !strings.Contains(said, "the client has not sent the copy") {
			t.Fatalf("client-delay event %q", said)
		}
		inv, _ := f.invoices.FindInvoiceByID(ctx, got.Invoice.ID)
		if !strings.Contains(inv.Memo, "invoiced on 2026-03-31 before delivery: the client has held delivery up since 2026-03-15 (the client has not sent the copy)") {
			t.Fatalf("memo %q", inv.Memo)
		}

		// Delivering later records the delivery and issues nothing more.
		m, err = f.projects.DeliverMilestone(ctx, design.ID)
		if err != nil || m.Status != domain.MilestoneInvoiced || m.DeliveredOn != domain.MustParseDate("2026-04-02") || m.Invoice.ID != got.Invoice.ID {
			t.Fatalf("deliver after the delay invoice: %+v %v", m, err)
		}
		if _, err := f.projects.DeliverMilestone(ctx, design.ID); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Fatalf("second delivery: %v", err)
		}
		if n := f.count("SELECT COUNT(*) FROM invoices"); n != 2 {
			t.Fatalf("%d invoices after delivery", n)
		}

		// Many sweeps at once (replicas) still issue one invoice.
		f.pay(got.Invoice.ID, 200000, "2026-04-02", "k2")
		if _, err := f.projects.StartMilestone(ctx, build.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.projects.RecordClientDelay(ctx, build.ID, "no access to the server"); err != nil {
			t.Fatal(err)
		}
		later := time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC)
		f.at(later)
		var issued atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				n, err := f.projects.IssueDelayedMilestones(ctx, later)
				if err != nil {
					t.Error(err)
				}
				issued.Add(int64(n))
			})
		}
		wg.Wait()
		if issued.Load() != 1 || f.count("SELECT COUNT(*) FROM invoices") != 3 ||
			f.count("SELECT COUNT(*) FROM events WHERE type = 'milestone.client_delay_invoiced'") != 2 {
			t.Fatalf("concurrent sweeps issued %d", issued.Load())
		}
		if n := f.count("SELECT last_number FROM invoice_counters"); n != 3 {
			t.Fatalf("invoice counter at %d: a number was skipped", n)
		}
		checkLedger(t, db, "client delay")
	})
}

func TestMilestoneInvoiceVoidAndCredit(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newProjectFixture(t, db)
		p := f.create()
		dep, design, build := p.Milestones[0], p.Milestones[1], p.Milestones[2]

		// Voiding the deposit invoice cancels the deposit: the gate no longer waits on it.
		if _, err := f.invoices.VoidInvoice(ctx, dep.Invoice.ID); err != nil {
			t.Fatal(err)
		}
		got := f.project(p.ID)
		if got.Milestones[0].Status != domain.MilestoneCancelled || got.Milestones[0].Invoice != nil || got.Total != 500000 || got.Invoiced != 0 {
			t.Fatalf("after voiding the deposit %+v", got)
		}
		if _, err := f.projects.StartMilestone(ctx, design.ID); err != nil {
			t.Fatal(err)
		}
		m, err := f.projects.DeliverMilestone(ctx, design.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Voiding a delivered milestone's invoice leaves it delivered; delivering again issues a new invoice.
		if _, err := f.invoices.VoidInvoice(ctx, m.Invoice.ID); err != nil {
			t.Fatal(err)
		}
		if got := f.project(p.ID).Milestones[1]; got.Status != domain.MilestoneDelivered || got.Invoice != nil || got.DeliveredOn.IsZero() {
			t.Fatalf("after voiding the delivery invoice %+v", got)
		}
		m2, err := f.projects.DeliverMilestone(ctx, design.ID)
		if err != nil || m2.Status != domain.MilestoneInvoiced || m2.Invoice.ID == m.Invoice.ID || m2.Invoice.Number != "INV-2026-0003" {
			t.Fatalf("delivered again %+v %v", m2, err)
		}

		// An overpayment becomes credit; a new project's deposit is paid by it at once.
		f.pay(m2.Invoice.ID, 260000, "2026-03-02", "k1")
		if _, err := f.projects.StartMilestone(ctx, build.ID); err != nil {
			t.Fatal(err)
		}
		q, err := f.projects.CreateProject(ctx, domain.ProjectInput{ClientID: f.client.ID, Name: "Shop", Milestones: []domain.MilestoneInput{
			{Name: "Deposit", Amount: 40000, Deposit: true}, {Name: "Shop", Amount: 100000, PlannedDate: domain.MustParseDate("2026-06-01")}}})
		if err != nil {
			t.Fatal(err)
		}
		if q.Milestones[0].Status != domain.MilestonePaid || q.Milestones[0].Invoice.Status != domain.InvoiceStatusPaid || q.Paid != 40000 {
			t.Fatalf("deposit paid by credit %+v", q.Milestones[0])
		}
		if n := f.count("SELECT COUNT(*) FROM outbox o JOIN events e ON e.id = o.event_id WHERE o.type = 'milestone.unlocked' AND e.data LIKE '%" + q.Milestones[1].ID + "%'"); n != 1 {
			t.Fatalf("%d unlocked notices for the new project's first stage", n)
		}

		// Cancelling a project cancels what has not started and keeps the rest.
		c, err := f.projects.CancelProject(ctx, p.ID)
		if err != nil || c.Status != domain.ProjectCancelled || c.Milestones[2].Status != domain.MilestoneInProgress || c.Milestones[1].Status != domain.MilestonePaid {
			t.Fatalf("cancel %+v %v", c, err)
		}
		if _, err := f.projects.CancelProject(ctx, p.ID); domain.ErrorCode(err) != domain.EPROJECTCANCELLED {
			t.Fatalf("cancel twice: %v", err)
		}
		checkLedger(t, db, "void and credit")
	})
}

// A cancelled project stays cancelled: the sweep never invoices a milestone
// of it, even one in progress held up by the client (issue 14, item 6).
func TestCancelledProjectNotInvoicedForDelay(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newProjectFixture(t, db)
		p := f.create()
		design := p.Milestones[1]
		f.pay(p.Milestones[0].Invoice.ID, 50000, "2026-03-02", "k1")
		if _, err := f.projects.StartMilestone(ctx, design.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.projects.RecordClientDelay(ctx, design.ID, "the client has not sent the copy"); err != nil {
			t.Fatal(err)
		}
		cancelled, err := f.projects.CancelProject(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m := cancelled.Milestones[1]; m.ClientDelay == nil || !m.ClientDelay.InvoiceOn.IsZero() {
			t.Fatalf("a cancelled project's milestone still shows a delay invoice day: %+v", m.ClientDelay)
		}
		later := time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC)
		f.at(later)
		n, err := f.projects.IssueDelayedMilestones(ctx, later)
		if err != nil || n != 0 {
			t.Fatalf("the sweep invoiced %d milestones of a cancelled project (%v)", n, err)
		}
		if n := f.count("SELECT COUNT(*) FROM invoices"); n != 1 {
			t.Fatalf("%d invoices, want only the deposit's", n)
		}
		if m := f.project(p.ID).Milestones[1]; m.Status != domain.MilestoneInProgress || m.Invoice != nil {
			t.Fatalf("milestone after the sweep %+v", m)
		}
	})
}
