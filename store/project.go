package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/remit/remit/domain"
)

// projectRow is the projects table; status is active or cancelled.
type projectRow struct {
	ID          string
	ClientID    string
	Name        string
	Status      string
	Currency    string
	CancelledAt *time.Time
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt   time.Time `gorm:"autoUpdateTime:false"`
}

func (projectRow) TableName() string { return "projects" }

// milestoneRow is the milestones table. InvoiceID links the live invoice;
// DelayInvoicedOn is set once, when the sweep invoices under the client-delay rule.
type milestoneRow struct {
	ID              string
	ProjectID       string
	ClientID        string
	Position        int
	Name            string
	Amount          int64
	PlannedDate     string
	Deposit         bool
	Status          string
	InvoiceID       *string
	InvoicedFor     string
	StartedOn       *string
	DeliveredOn     *string
	InvoicedOn      *string
	PaidOn          *string
	CancelledOn     *string
	ClientDelayOn   *string
	ClientDelayNote string
	DelayInvoicedOn *string
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt       time.Time `gorm:"autoUpdateTime:false"`
}

func (milestoneRow) TableName() string { return "milestones" }

func (r *milestoneRow) toDomain() domain.Milestone {
	m := domain.Milestone{
		ID: r.ID, ProjectID: r.ProjectID, ClientID: r.ClientID, Position: r.Position, Name: r.Name, Amount: r.Amount,
		PlannedDate: dateOf(&r.PlannedDate), Deposit: r.Deposit, Status: r.Status, InvoicedFor: r.InvoicedFor,
		StartedOn: dateOf(r.StartedOn), DeliveredOn: dateOf(r.DeliveredOn), InvoicedOn: dateOf(r.InvoicedOn),
		PaidOn: dateOf(r.PaidOn), CancelledOn: dateOf(r.CancelledOn),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.ClientDelayOn != nil {
		m.ClientDelay = &domain.ClientDelay{RecordedOn: dateOf(r.ClientDelayOn), Note: r.ClientDelayNote}
	}
	return m
}

// awaitsDelayInvoice reports whether the client-delay rule may still
// invoice the milestone of project p: never once the project is cancelled.
func (r *milestoneRow) awaitsDelayInvoice(p *projectRow) bool {
	return p.Status != domain.ProjectCancelled &&
		r.Status == domain.MilestoneInProgress && r.InvoiceID == nil && r.ClientDelayOn != nil && r.DelayInvoicedOn == nil
}

// ProjectService implements domain.ProjectService. Every change locks the
// project row first (PostgreSQL; SQLite's single writer already serialises),
// so that changes to one project's milestones, payments included, queue.
type ProjectService struct {
	db       *DB
	invoices *InvoiceService
}

// NewProjectService returns the project service on db.
func NewProjectService(db *DB) *ProjectService {
	return &ProjectService{db: db, invoices: NewInvoiceService(db)}
}

// projectState is a project as read in one transaction: its rows, its
// client, today in the client's zone, and the domain view.
type projectState struct {
	row    *projectRow
	rows   []milestoneRow
	client *domain.Client
	today  domain.Date
	view   domain.Project
}

// milestoneRow returns the state's row of milestone id, or nil.
func (st *projectState) milestoneRow(id string) *milestoneRow {
	for i := range st.rows {
		if st.rows[i].ID == id {
			return &st.rows[i]
		}
	}
	return nil
}

// forUpdate adds a row lock on PostgreSQL.
func forUpdate(tx *gorm.DB) *gorm.DB {
	if tx.Dialector.Name() == "postgres" {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}

// loadProject reads project id with its milestones, their invoices and the
// agreement in force today; with lock it locks the project row first.
func (db *DB) loadProject(tx *gorm.DB, id string, lock bool) (*projectState, error) {
	var row projectRow
	q := tx
	if lock {
		q = forUpdate(tx)
	}
	if err := q.Take(&row, "id = ?", id).Error; err != nil {
		if err = translate(err); domain.ErrorCode(err) == domain.ENOTFOUND {
			return nil, domain.Errorf(domain.ENOTFOUND, "project %s not found", id)
		}
		return nil, err
	}
	st := &projectState{row: &row}
	if err := tx.Where("project_id = ?", id).Order("position, id").Find(&st.rows).Error; err != nil {
		return nil, err
	}
	c, err := findClient(tx, row.ClientID)
	if err != nil {
		return nil, err
	}
	st.client, st.today = c, domain.DateOf(db.now(), c.Location())
	p := domain.Project{ID: row.ID, ClientID: row.ClientID, Name: row.Name, Status: row.Status, Currency: row.Currency,
		Milestones: make([]domain.Milestone, len(st.rows)), CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC()}
	if row.CancelledAt != nil {
		t := row.CancelledAt.UTC()
		p.CancelledAt = &t
	}
	var invoiceIDs []string
	delayed := false
	for i := range st.rows {
		p.Milestones[i] = st.rows[i].toDomain()
		if st.rows[i].InvoiceID != nil {
			invoiceIDs = append(invoiceIDs, *st.rows[i].InvoiceID)
		}
		delayed = delayed || st.rows[i].awaitsDelayInvoice(&row)
	}
	invoices := map[string]*domain.MilestoneInvoice{}
	if len(invoiceIDs) > 0 {
		var inv []invoiceRow
		if err := tx.Where("id IN ?", invoiceIDs).Find(&inv).Error; err != nil {
			return nil, err
		}
		for _, r := range inv {
			mi := &domain.MilestoneInvoice{ID: r.ID, Status: r.Status, Currency: r.Currency, Total: r.Total, AmountPaid: r.AmountPaid,
				BalanceDue: r.BalanceDue, IssueDate: dateOf(r.IssueDate), DueDate: dateOf(r.DueDate), PrincipalPaid: r.PrincipalPaid}
			if r.Number != nil {
				mi.Number = *r.Number
			}
			invoices[r.ID] = mi
		}
	}
	var rules *domain.MilestoneRules
	if delayed {
		ag, err := agreementInForce(tx, row.ClientID, st.today)
		if err != nil {
			return nil, err
		}
		rules = ag.Milestones
	}
	for i := range st.rows {
		r, m := &st.rows[i], &p.Milestones[i]
		if r.InvoiceID != nil {
			m.Invoice = invoices[*r.InvoiceID]
		}
		if r.awaitsDelayInvoice(&row) {
			m.ClientDelay.InvoiceOn = domain.ClientDelayInvoiceOn(m.PlannedDate, rules)
		}
	}
	p.Summarize()
	st.view = p
	return st, nil
}

// projectOfMilestone returns the id of the project milestone id belongs to.
func projectOfMilestone(tx *gorm.DB, id string) (string, error) {
	var rows []milestoneRow
	if err := tx.Select("id, project_id").Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return "", domain.Errorf(domain.ENOTFOUND, "milestone %s not found", id)
	}
	return rows[0].ProjectID, nil
}

// CreateProject implements domain.ProjectService. A deposit is invoiced in
// the same transaction, dated today and due today whatever the agreement's
// payment terms: it is due on receipt (docs/RULES.md section 11).
func (s *ProjectService) CreateProject(ctx context.Context, in domain.ProjectInput) (*domain.Project, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var id string
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		c, err := findClient(tx, in.ClientID)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			return fieldError("client_id", "no such client")
		}
		if err != nil {
			return err
		}
		if c.Status == domain.ClientOffboarded {
			return domain.Conflictf(domain.ECLIENTOFFBOARDED, "client %s is offboarded and read-only", c.ID)
		}
		now := s.db.now()
		today := domain.DateOf(now, c.Location())
		prow := projectRow{ID: s.db.newID("prj"), ClientID: c.ID, Name: in.Name, Status: domain.ProjectActive, Currency: c.Currency,
			CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&prow).Error; err != nil {
			return err
		}
		rows := make([]milestoneRow, len(in.Milestones))
		var total int64
		for i, m := range in.Milestones {
			planned := m.PlannedDate
			if m.Deposit {
				planned = today
			}
			rows[i] = milestoneRow{ID: s.db.newID("mst"), ProjectID: prow.ID, ClientID: c.ID, Position: i, Name: m.Name, Amount: m.Amount,
				PlannedDate: planned.String(), Deposit: m.Deposit, Status: domain.MilestonePending, CreatedAt: now, UpdatedAt: now}
			total += m.Amount
		}
		if err := tx.Create(&rows).Error; err != nil {
			return err
		}
		if err := s.db.emit(ctx, tx, "project.created", c.ID, "", map[string]any{
			"project_id": prow.ID, "name": prow.Name, "milestones": len(rows), "total": total, "currency": prow.Currency,
		}, false); err != nil {
			return err
		}
		if rows[0].Deposit {
			memo := fmt.Sprintf("Deposit for project %q, due on receipt.", prow.Name)
			if _, err := s.invoiceMilestone(ctx, tx, &prow, &rows[0], today, domain.InvoicedForDeposit, memo); err != nil {
				return err
			}
		}
		id = prow.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.FindProjectByID(ctx, id)
}

// invoiceMilestone creates and issues the milestone's invoice in tx, dated
// today, and links it to the milestone. The link is written before the
// invoice is issued: client credit applied at issue may pay it at once, and
// the payment hook finds the milestone through the link. The conditional
// update makes a second invoice for the same milestone impossible.
func (s *ProjectService) invoiceMilestone(ctx context.Context, tx *gorm.DB, p *projectRow, m *milestoneRow, today domain.Date, reason, memo string) (string, error) {
	d := domain.InvoiceDraft{
		ClientID: m.ClientID, Currency: p.Currency, CurrencyOverride: true, IssueDate: today, Memo: memo,
		Lines: []domain.LineInput{{Description: p.Name + ": " + m.Name, Quantity: "1", UnitAmount: m.Amount, TaxRate: "0"}},
	}
	if m.Deposit {
		d.DueDate = today
	}
	id, err := s.invoices.createInvoiceTx(ctx, tx, d)
	if err != nil {
		return "", err
	}
	now := s.db.now()
	res := tx.Model(&milestoneRow{}).Where("id = ? AND invoice_id IS NULL", m.ID).Updates(map[string]any{
		"invoice_id": id, "status": domain.MilestoneInvoiced, "invoiced_on": today.String(), "invoiced_for": reason, "updated_at": now,
	})
	if res.Error != nil {
		return "", res.Error
	}
	if res.RowsAffected != 1 {
		return "", domain.Conflictf(domain.ECONFLICT, "milestone %s was invoiced meanwhile", m.ID)
	}
	m.InvoiceID, m.Status, m.InvoicedOn, m.InvoicedFor, m.UpdatedAt = &id, domain.MilestoneInvoiced, dateCol(today), reason, now
	if err := s.invoices.issue(ctx, tx, id); err != nil {
		return "", err
	}
	return id, nil
}

// FindProjectByID implements domain.ProjectService.
func (s *ProjectService) FindProjectByID(ctx context.Context, id string) (*domain.Project, error) {
	st, err := s.db.loadProject(s.db.reader(ctx), id, false)
	if err != nil {
		return nil, translate(err)
	}
	return &st.view, nil
}

// findMilestone returns milestone id as its project shows it.
func (s *ProjectService) findMilestone(ctx context.Context, id string) (*domain.Milestone, error) {
	tx := s.db.reader(ctx)
	projectID, err := projectOfMilestone(tx, id)
	if err != nil {
		return nil, translate(err)
	}
	st, err := s.db.loadProject(tx, projectID, false)
	if err != nil {
		return nil, translate(err)
	}
	m := st.view.Milestone(id)
	if m == nil {
		return nil, domain.Errorf(domain.ENOTFOUND, "milestone %s not found", id)
	}
	return m, nil
}

// UpdateProject implements domain.ProjectService.
func (s *ProjectService) UpdateProject(ctx context.Context, id string, u domain.ProjectUpdate) (*domain.Project, error) {
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		st, err := s.db.loadProject(tx, id, true)
		if err != nil {
			return err
		}
		p := st.view
		ch, err := u.Apply(&p, st.today, func() string { return s.db.newID("mst") })
		if err != nil {
			return err
		}
		now := s.db.now()
		for _, m := range p.Milestones {
			r := st.milestoneRow(m.ID)
			if r == nil {
				nr := milestoneRow{ID: m.ID, ProjectID: id, ClientID: st.row.ClientID, Position: m.Position, Name: m.Name, Amount: m.Amount,
					PlannedDate: m.PlannedDate.String(), Status: domain.MilestonePending, CreatedAt: now, UpdatedAt: now}
				if err := tx.Create(&nr).Error; err != nil {
					return err
				}
				continue
			}
			if r.Position == m.Position && r.Name == m.Name && r.Amount == m.Amount && r.PlannedDate == m.PlannedDate.String() && r.Status == m.Status {
				continue
			}
			r.Position, r.Name, r.Amount, r.PlannedDate, r.Status, r.CancelledOn, r.UpdatedAt =
				m.Position, m.Name, m.Amount, m.PlannedDate.String(), m.Status, dateCol(m.CancelledOn), now
			if err := tx.Save(r).Error; err != nil {
				return err
			}
		}
		st.row.Name, st.row.UpdatedAt = p.Name, now
		if err := tx.Save(st.row).Error; err != nil {
			return err
		}
		return s.db.emit(ctx, tx, "project.updated", st.row.ClientID, "", map[string]any{"project_id": id, "changes": ch}, false)
	})
	if err != nil {
		return nil, err
	}
	return s.FindProjectByID(ctx, id)
}

// CancelProject implements domain.ProjectService.
func (s *ProjectService) CancelProject(ctx context.Context, id string) (*domain.Project, error) {
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		st, err := s.db.loadProject(tx, id, true)
		if err != nil {
			return err
		}
		if st.row.Status == domain.ProjectCancelled {
			return domain.Conflictf(domain.EPROJECTCANCELLED, "project %s is already cancelled", id)
		}
		now := s.db.now()
		st.row.Status, st.row.CancelledAt, st.row.UpdatedAt = domain.ProjectCancelled, &now, now
		if err := tx.Save(st.row).Error; err != nil {
			return err
		}
		cancelled, kept := []string{}, []string{}
		for i := range st.rows {
			r := &st.rows[i]
			switch r.Status {
			case domain.MilestonePending:
				r.Status, r.CancelledOn, r.UpdatedAt = domain.MilestoneCancelled, dateCol(st.today), now
				if err := tx.Save(r).Error; err != nil {
					return err
				}
				cancelled = append(cancelled, r.ID)
			case domain.MilestoneInProgress, domain.MilestoneDelivered:
				kept = append(kept, r.ID)
			}
		}
		return s.db.emit(ctx, tx, "project.cancelled", st.row.ClientID, "", map[string]any{
			"project_id": id, "cancelled_milestones": cancelled, "milestones_in_progress": kept,
		}, false)
	})
	if err != nil {
		return nil, err
	}
	return s.FindProjectByID(ctx, id)
}

// milestoneStep runs fn on milestone id in a transaction with its project
// locked, then returns the milestone as it now stands.
func (s *ProjectService) milestoneStep(ctx context.Context, id string, fn func(tx *gorm.DB, st *projectState, r *milestoneRow, m *domain.Milestone) error) (*domain.Milestone, error) {
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		projectID, err := projectOfMilestone(tx, id)
		if err != nil {
			return err
		}
		st, err := s.db.loadProject(tx, projectID, true)
		if err != nil {
			return err
		}
		r, m := st.milestoneRow(id), st.view.Milestone(id)
		if r == nil || m == nil {
			return domain.Errorf(domain.ENOTFOUND, "milestone %s not found", id)
		}
		return fn(tx, st, r, m)
	})
	if err != nil {
		return nil, err
	}
	return s.findMilestone(ctx, id)
}

// StartMilestone implements domain.ProjectService.
func (s *ProjectService) StartMilestone(ctx context.Context, id string) (*domain.Milestone, error) {
	return s.milestoneStep(ctx, id, func(tx *gorm.DB, st *projectState, r *milestoneRow, m *domain.Milestone) error {
		if st.client.Status == domain.ClientOffboarded {
			return domain.Conflictf(domain.ECLIENTOFFBOARDED, "client %s is offboarded and read-only", st.client.ID)
		}
		ag, err := agreementInForce(tx, st.row.ClientID, st.today)
		if err != nil {
			return err
		}
		gate := ag.Milestones != nil && ag.Milestones.GateNextOnPayment
		if err := st.view.CheckStart(id, gate); err != nil {
			return err
		}
		r.Status, r.StartedOn, r.UpdatedAt = domain.MilestoneInProgress, dateCol(st.today), s.db.now()
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		return s.db.emit(ctx, tx, "milestone.started", r.ClientID, "", map[string]any{
			"project_id": r.ProjectID, "milestone_id": r.ID, "name": r.Name, "position": r.Position, "started_on": st.today, "gated": gate,
		}, false)
	})
}

// DeliverMilestone implements domain.ProjectService. Delivering a milestone
// the client-delay rule already invoiced records the delivery only.
func (s *ProjectService) DeliverMilestone(ctx context.Context, id string) (*domain.Milestone, error) {
	return s.milestoneStep(ctx, id, func(tx *gorm.DB, st *projectState, r *milestoneRow, m *domain.Milestone) error {
		invoice, err := m.CheckDeliver()
		if err != nil {
			return err
		}
		r.DeliveredOn, r.UpdatedAt = dateCol(st.today), s.db.now()
		if invoice {
			r.Status = domain.MilestoneDelivered
		}
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		if err := s.db.emit(ctx, tx, "milestone.delivered", r.ClientID, "", map[string]any{
			"project_id": r.ProjectID, "milestone_id": r.ID, "name": r.Name, "position": r.Position, "delivered_on": st.today,
		}, false); err != nil || !invoice {
			return err
		}
		memo := fmt.Sprintf("Milestone %q of project %q, delivered on %s.", r.Name, st.row.Name, st.today)
		_, err = s.invoiceMilestone(ctx, tx, st.row, r, st.today, domain.InvoicedForDelivery, memo)
		return err
	})
}

// RecordClientDelay implements domain.ProjectService. The first record's
// date stays; a later one replaces the note.
func (s *ProjectService) RecordClientDelay(ctx context.Context, id, note string) (*domain.Milestone, error) {
	if err := domain.CheckDelayNote(note); err != nil {
		return nil, err
	}
	return s.milestoneStep(ctx, id, func(tx *gorm.DB, st *projectState, r *milestoneRow, m *domain.Milestone) error {
		if err := m.CheckClientDelay(); err != nil {
			return err
		}
		if r.ClientDelayOn == nil {
			r.ClientDelayOn = dateCol(st.today)
		}
		r.ClientDelayNote, r.UpdatedAt = note, s.db.now()
		if err := tx.Save(r).Error; err != nil {
			return err
		}
		return s.db.emit(ctx, tx, "milestone.client_delay", r.ClientID, "", map[string]any{
			"project_id": r.ProjectID, "milestone_id": r.ID, "name": r.Name, "note": note, "recorded_on": dateOf(r.ClientDelayOn),
		}, false)
	})
}

// IssueDelayedMilestones implements domain.ProjectService. Each milestone
// is invoiced in its own transaction, so one failure does not hold the
// others back; the failures are returned together after the rest are done.
func (s *ProjectService) IssueDelayedMilestones(ctx context.Context, now time.Time) (int, error) {
	// No time zone is a day ahead of UTC or more, so no client's today is
	// later than horizon: anything planned from horizon on cannot be due.
	horizon := domain.DateOf(now, time.UTC).AddDays(1)
	var ids []string
	if err := s.db.reader(ctx).Model(&milestoneRow{}).
		Where("status = ? AND invoice_id IS NULL AND client_delay_on IS NOT NULL AND delay_invoiced_on IS NULL AND planned_date < ?",
			domain.MilestoneInProgress, horizon.String()).
		Where("project_id IN (SELECT id FROM projects WHERE status <> ?)", domain.ProjectCancelled).
		Order("id").Pluck("id", &ids).Error; err != nil {
		return 0, translate(err)
	}
	issued := 0
	var errs []error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return issued, errors.Join(append(errs, err)...)
		}
		ok, err := s.issueDelayed(ctx, id, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("milestone %s: %w", id, err))
		}
		if ok {
			issued++
		}
	}
	return issued, errors.Join(errs...)
}

// issueDelayed invoices one milestone held up by its client if it is
// still waiting and its time has come; it reports whether it did.
func (s *ProjectService) issueDelayed(ctx context.Context, id string, now time.Time) (bool, error) {
	issued := false
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		projectID, err := projectOfMilestone(tx, id)
		if err != nil {
			return err
		}
		// Locked and read again: another run (here or on another replica)
		// may have invoiced it since the candidates were listed.
		st, err := s.db.loadProject(tx, projectID, true)
		if err != nil {
			return err
		}
		r := st.milestoneRow(id)
		if r == nil || !r.awaitsDelayInvoice(st.row) || st.client.Status == domain.ClientOffboarded {
			return nil
		}
		today := domain.DateOf(now, st.client.Location())
		ag, err := agreementInForce(tx, st.row.ClientID, today)
		if err != nil {
			return err
		}
		planned := dateOf(&r.PlannedDate)
		invoiceOn := domain.ClientDelayInvoiceOn(planned, ag.Milestones)
		if today.Before(invoiceOn) {
			return nil
		}
		delayDays := invoiceOn.DaysSince(planned) - 1
		memo := fmt.Sprintf("Milestone %q of project %q, planned for %s, is invoiced on %s before delivery: the client has held delivery up since %s (%s), and the agreement invoices a milestone held up by the client %d days after its planned date.",
			r.Name, st.row.Name, planned, today, dateOf(r.ClientDelayOn), r.ClientDelayNote, delayDays)
		invoiceID, err := s.invoiceMilestone(ctx, tx, st.row, r, today, domain.InvoicedForClientDelay, memo)
		if err != nil {
			return err
		}
		if err := tx.Model(&milestoneRow{}).Where("id = ?", id).Update("delay_invoiced_on", today.String()).Error; err != nil {
			return err
		}
		issued = true
		return s.db.emit(ctx, tx, domain.EventMilestoneClientDelayInvoiced, r.ClientID, invoiceID, map[string]any{
			"project_id": r.ProjectID, "milestone_id": r.ID, "name": r.Name, "planned_date": planned, "client_delay_days": delayDays,
			"client_delay_since": dateOf(r.ClientDelayOn), "note": r.ClientDelayNote, "invoiced_on": today,
			"message": fmt.Sprintf("invoiced under the client-delay rule: not delivered %d days after the planned date %s because the client holds it up", delayDays, planned),
		}, true)
	})
	if err != nil {
		issued = false
		if domain.ErrorCode(err) == domain.ECLIENTOFFBOARDED {
			return false, nil
		}
	}
	return issued, err
}

// milestoneOfInvoice returns the row of the milestone invoice id bills, in a
// state read after its project was locked, or nil when it bills none.
func (db *DB) milestoneOfInvoice(tx *gorm.DB, invoiceID string) (*projectState, *milestoneRow, error) {
	// Most invoices bill no milestone: one indexed probe settles that.
	var id, projectID string
	err := rawScan(tx, "SELECT id, project_id FROM milestones WHERE invoice_id = ?", []any{invoiceID}, &id, &projectID)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	st, err := db.loadProject(tx, projectID, true)
	if err != nil {
		return nil, nil, err
	}
	r := st.milestoneRow(id)
	if r == nil || r.InvoiceID == nil || *r.InvoiceID != invoiceID {
		return nil, nil, nil
	}
	return st, r, nil
}

// milestoneInvoicePaid marks the milestone an invoice bills paid, emits
// milestone.paid and, when every milestone before the next pending one is
// now paid, milestone.unlocked for it: a project tool can open that stage.
func (db *DB) milestoneInvoicePaid(ctx context.Context, tx *gorm.DB, inv *invoiceRow) error {
	st, r, err := db.milestoneOfInvoice(tx, inv.ID)
	if err != nil || r == nil {
		return err
	}
	r.Status, r.PaidOn, r.UpdatedAt = domain.MilestonePaid, inv.PaidOn, db.now()
	if err := tx.Save(r).Error; err != nil {
		return err
	}
	if err := db.emit(ctx, tx, domain.EventMilestonePaid, r.ClientID, inv.ID, map[string]any{
		"project_id": r.ProjectID, "milestone_id": r.ID, "name": r.Name, "position": r.Position, "amount": r.Amount,
		"currency": inv.Currency, "invoice_id": inv.ID, "invoice_number": inv.Number, "paid_on": dateOf(inv.PaidOn),
	}, true); err != nil {
		return err
	}
	st.view.Milestone(r.ID).Status = domain.MilestonePaid
	next := st.view.NextUnlocked()
	if next == nil {
		return nil
	}
	return db.emit(ctx, tx, domain.EventMilestoneUnlocked, r.ClientID, inv.ID, map[string]any{
		"project_id": r.ProjectID, "milestone_id": next.ID, "name": next.Name, "position": next.Position, "amount": next.Amount,
		"planned_date": next.PlannedDate, "unlocked_by": map[string]any{"milestone_id": r.ID, "invoice_id": inv.ID},
	}, true)
}

// milestoneInvoiceReopened takes a milestone back from paid to invoiced
// when its invoice reopens (a refund), and emits milestone.reopened. A later
// milestone already started stays started (the work is under way); one not
// started is gated again, since the gate looks at the milestones' state.
func (db *DB) milestoneInvoiceReopened(ctx context.Context, tx *gorm.DB, inv *invoiceRow) error {
	_, r, err := db.milestoneOfInvoice(tx, inv.ID)
	if err != nil || r == nil || r.Status != domain.MilestonePaid {
		return err
	}
	r.Status, r.PaidOn, r.UpdatedAt = domain.MilestoneInvoiced, nil, db.now()
	if err := tx.Save(r).Error; err != nil {
		return err
	}
	return db.emit(ctx, tx, domain.EventMilestoneReopened, r.ClientID, inv.ID, map[string]any{
		"project_id": r.ProjectID, "milestone_id": r.ID, "name": r.Name, "position": r.Position,
		"invoice_id": inv.ID, "balance_due": inv.BalanceDue, "currency": inv.Currency,
	}, true)
}

// milestoneInvoiceVoided releases a milestone from its voided invoice so the
// gate does not wait on it for ever: a delivered milestone goes back to
// delivered (delivering it again issues a new invoice), one invoiced under
// the client-delay rule back to in progress (the rule does not invoice it
// twice), and a deposit is cancelled.
func (db *DB) milestoneInvoiceVoided(ctx context.Context, tx *gorm.DB, inv *invoiceRow) error {
	st, r, err := db.milestoneOfInvoice(tx, inv.ID)
	if err != nil || r == nil {
		return err
	}
	switch {
	case r.Deposit:
		r.Status, r.CancelledOn = domain.MilestoneCancelled, dateCol(st.today)
	case r.DeliveredOn != nil:
		r.Status = domain.MilestoneDelivered
	default:
		r.Status = domain.MilestoneInProgress
	}
	r.InvoiceID, r.InvoicedOn, r.InvoicedFor, r.UpdatedAt = nil, nil, "", db.now()
	if err := tx.Save(r).Error; err != nil {
		return err
	}
	return db.emit(ctx, tx, "milestone.invoice_voided", r.ClientID, inv.ID, map[string]any{
		"project_id": r.ProjectID, "milestone_id": r.ID, "name": r.Name, "invoice_id": inv.ID, "status": r.Status,
	}, false)
}
