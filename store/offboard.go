package store

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// offboardingRow is the offboardings table: one per client, with the plan
// as it was carried out.
type offboardingRow struct {
	ClientID  string `gorm:"primaryKey"`
	Reason    string
	Note      string
	Plan      string
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
}

func (offboardingRow) TableName() string { return "offboardings" }

// OffboardService implements domain.OffboardService.
type OffboardService struct {
	db       *DB
	invoices *InvoiceService
	projects *ProjectService
	// Stripe refunds deposits paid through Stripe; nil when Stripe is off
	// (such deposits are then recorded as owed).
	Stripe domain.PaymentGateway
}

// NewOffboardService returns the offboarding service on db.
func NewOffboardService(db *DB, invoices *InvoiceService, projects *ProjectService) *OffboardService {
	return &OffboardService{db: db, invoices: invoices, projects: projects}
}

// offboardState is what the plan is computed from.
type offboardState struct {
	client    *domain.Client
	today     domain.Date
	projects  map[string]*projectRow
	pending   []milestoneRow
	delivered []milestoneRow
	deposits  []depositState
	open      []invoiceRow
}

type depositState struct {
	milestone milestoneRow
	invoice   *invoiceRow
	payments  []paymentRow
}

// Offboard implements domain.OffboardService.
func (s *OffboardService) Offboard(ctx context.Context, clientID string, in domain.OffboardInput) (*domain.OffboardPlan, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	c, err := findClient(s.db.reader(ctx), clientID)
	if err != nil {
		return nil, err
	}
	if c.Status == domain.ClientOffboarded {
		return s.stored(ctx, clientID)
	}
	st, err := s.load(s.db.reader(ctx), c)
	if err != nil {
		return nil, err
	}
	plan, err := s.plan(st, in)
	if err != nil || in.DryRun {
		return plan, err
	}
	// Stripe first, outside the transaction: its idempotency key makes a
	// retry (after a crash before our commit) return the same refund.
	for i := range plan.DepositRefunds {
		r := &plan.DepositRefunds[i]
		if r.Via != "stripe" {
			continue
		}
		var pi string
		for _, d := range st.deposits {
			for _, p := range d.payments {
				if p.ID == r.PaymentID {
					pi = p.ExternalKey
				}
			}
		}
		if r.RefundID, err = s.Stripe.RefundPaymentIntent(ctx, pi, r.Amount, "remit-offboard-"+r.PaymentID); err != nil {
			return nil, err
		}
	}
	err = s.db.WithinTx(ctx, func(ctx context.Context) error {
		tx := s.db.writer(ctx)
		// The client's row lock makes concurrent offboardings take turns on
		// PostgreSQL: the later ones find it offboarded and answer with the
		// plan the first carried out (SQLite has one writer).
		var cur clientRow
		if err := forUpdate(tx).Take(&cur, "id = ?", clientID).Error; err != nil {
			return err
		}
		if cur.Status == domain.ClientOffboarded {
			return domain.Conflictf(domain.ECLIENTOFFBOARDED, "client %s was offboarded meanwhile", clientID)
		}
		return s.carryOut(ctx, tx, st, plan, in)
	})
	if domain.ErrorCode(err) == domain.ECLIENTOFFBOARDED {
		return s.stored(ctx, clientID)
	}
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// stored returns the plan an earlier offboarding carried out.
func (s *OffboardService) stored(ctx context.Context, clientID string) (*domain.OffboardPlan, error) {
	var row offboardingRow
	if err := s.db.reader(ctx).Take(&row, "client_id = ?", clientID).Error; err != nil {
		return nil, translate(err)
	}
	var plan domain.OffboardPlan
	return &plan, json.Unmarshal([]byte(row.Plan), &plan)
}

// load reads the client's projects, milestones and deposits.
func (s *OffboardService) load(tx *gorm.DB, c *domain.Client) (*offboardState, error) {
	st := &offboardState{client: c, today: domain.DateOf(s.db.now(), c.Location()), projects: map[string]*projectRow{}}
	if err := tx.Where("client_id = ? AND status IN ? AND balance_due > 0", c.ID,
		[]string{domain.InvoiceStatusOpen, domain.InvoiceStatusUncollectible}).Order("id").Find(&st.open).Error; err != nil {
		return nil, err
	}
	var projects []projectRow
	if err := tx.Where("client_id = ? AND status <> ?", c.ID, domain.ProjectCancelled).Find(&projects).Error; err != nil {
		return nil, err
	}
	if len(projects) == 0 {
		return st, nil
	}
	ids := make([]string, len(projects))
	for i := range projects {
		ids[i] = projects[i].ID
		st.projects[projects[i].ID] = &projects[i]
	}
	var ms []milestoneRow
	if err := tx.Where("project_id IN ?", ids).Order("project_id, position").Find(&ms).Error; err != nil {
		return nil, err
	}
	earned := map[string]bool{} // project -> a non-deposit milestone was delivered
	for _, m := range ms {
		switch {
		case m.Status == domain.MilestonePending:
			st.pending = append(st.pending, m)
		case m.Status == domain.MilestoneDelivered && m.InvoiceID == nil:
			st.delivered = append(st.delivered, m)
		}
		if !m.Deposit && (m.Status == domain.MilestoneDelivered || m.Status == domain.MilestoneInvoiced || m.Status == domain.MilestonePaid) {
			earned[m.ProjectID] = true
		}
	}
	ag, err := agreementInForce(tx, c.ID, st.today)
	if err != nil {
		return nil, err
	}
	if ag.Milestones == nil || !ag.Milestones.DepositRefundable {
		return st, nil // the agreement keeps deposits
	}
	for _, m := range ms {
		if !m.Deposit || earned[m.ProjectID] || m.InvoiceID == nil {
			continue
		}
		inv, err := lockInvoice(tx, *m.InvoiceID, false)
		if err != nil {
			return nil, err
		}
		d := depositState{milestone: m, invoice: inv}
		if err := tx.Where("invoice_id = ? AND amount > refunded", inv.ID).Order("paid_on, id").Find(&d.payments).Error; err != nil {
			return nil, err
		}
		if len(d.payments) > 0 {
			st.deposits = append(st.deposits, d)
		}
	}
	return st, nil
}

// plan turns the state into what offboarding will do.
func (s *OffboardService) plan(st *offboardState, in domain.OffboardInput) (*domain.OffboardPlan, error) {
	p := &domain.OffboardPlan{ClientID: st.client.ID, Reason: in.Reason, Note: in.Note, DryRun: in.DryRun, RemindersStopped: true,
		Status: domain.ClientOffboarded, CancelledMilestones: []domain.OffboardMilestone{}, InvoicedMilestones: []domain.OffboardMilestone{},
		UnbilledMilestones: []domain.OffboardMilestone{}, DepositRefunds: []domain.DepositRefund{}, OpenInvoices: []domain.OpenInvoice{}}
	for _, m := range st.pending {
		p.CancelledMilestones = append(p.CancelledMilestones, domain.OffboardMilestone{ID: m.ID, ProjectID: m.ProjectID, Name: m.Name, Amount: m.Amount})
	}
	for _, m := range st.delivered {
		om := domain.OffboardMilestone{ID: m.ID, ProjectID: m.ProjectID, Name: m.Name, Amount: m.Amount}
		if in.InvoiceDelivered {
			p.InvoicedMilestones = append(p.InvoicedMilestones, om)
		} else {
			p.UnbilledMilestones = append(p.UnbilledMilestones, om)
		}
	}
	refunded := map[string]bool{}
	for _, d := range st.deposits {
		refunded[d.invoice.ID] = true
	}
	p.OpenInvoices = openInvoices(st.open, refunded)
	for _, d := range st.deposits {
		for _, pay := range d.payments {
			via := "owed"
			if pay.Source == domain.PaymentStripe && s.Stripe != nil {
				via = "stripe"
			}
			p.DepositRefunds = append(p.DepositRefunds, domain.DepositRefund{MilestoneID: d.milestone.ID, InvoiceID: d.invoice.ID,
				PaymentID: pay.ID, Amount: pay.Amount - pay.Refunded, Currency: pay.Currency, Via: via})
		}
	}
	return p, nil
}

// carryOut does what the plan says, in the caller's transaction.
func (s *OffboardService) carryOut(ctx context.Context, tx *gorm.DB, st *offboardState, plan *domain.OffboardPlan, in domain.OffboardInput) error {
	now := s.db.now()
	for _, m := range st.pending {
		if err := tx.Model(&milestoneRow{}).Where("id = ? AND status = ?", m.ID, domain.MilestonePending).
			Updates(map[string]any{"status": domain.MilestoneCancelled, "cancelled_on": st.today.String(), "updated_at": now}).Error; err != nil {
			return err
		}
	}
	for i, m := range st.delivered {
		if !in.InvoiceDelivered {
			break
		}
		id, err := s.projects.invoiceMilestone(ctx, tx, st.projects[m.ProjectID], &st.delivered[i], st.today, "offboarding", "Delivered work, invoiced when the relationship ended")
		if err != nil {
			return err
		}
		plan.InvoicedMilestones[i].InvoiceID = id
	}
	voided := map[string]bool{}
	for _, r := range plan.DepositRefunds {
		key, reason := "offboard:"+r.PaymentID, "unearned deposit, owed to the client on offboarding"
		if r.Via == "stripe" {
			key, reason = "stripe:refund:"+r.RefundID, "unearned deposit refunded through Stripe ("+r.RefundID+") on offboarding"
		}
		var out domain.Refund
		if err := s.invoices.refundPaymentTx(ctx, tx, r.PaymentID, domain.RefundInput{Amount: r.Amount, RefundedOn: st.today, Reason: reason, Key: key}, &out); err != nil {
			return err
		}
		voided[r.InvoiceID] = true
	}
	for id := range voided {
		// Refunded in full, the deposit invoice owes nothing: void it.
		if _, err := s.invoices.VoidInvoice(ctx, id); err != nil {
			return err
		}
	}
	var open []invoiceRow
	if err := tx.Where("client_id = ? AND status IN ? AND balance_due > 0", st.client.ID,
		[]string{domain.InvoiceStatusOpen, domain.InvoiceStatusUncollectible}).Order("id").Find(&open).Error; err != nil {
		return err
	}
	plan.OpenInvoices = openInvoices(open, nil)
	if err := tx.Model(&clientRow{}).Where("id = ?", st.client.ID).
		Updates(map[string]any{"status": domain.ClientOffboarded, "suspension_source": "", "updated_at": now}).Error; err != nil {
		return err
	}
	plan.OffboardedAt = &now
	raw, err := json.Marshal(plan)
	if err != nil {
		return err
	}
	if err := tx.Create(&offboardingRow{ClientID: st.client.ID, Reason: in.Reason, Note: in.Note, Plan: string(raw), CreatedAt: now}).Error; err != nil {
		return err
	}
	return s.db.emit(ctx, tx, domain.EventClientOffboarded, st.client.ID, "", plan, true)
}

// openInvoices lists the invoices that stay collectable, less those skipped.
func openInvoices(rows []invoiceRow, skip map[string]bool) []domain.OpenInvoice {
	out := []domain.OpenInvoice{}
	for _, inv := range rows {
		if skip[inv.ID] {
			continue
		}
		n := ""
		if inv.Number != nil {
			n = *inv.Number
		}
		out = append(out, domain.OpenInvoice{ID: inv.ID, Number: n, BalanceDue: inv.BalanceDue, Currency: inv.Currency})
	}
	return out
}
