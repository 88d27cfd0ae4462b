package domain

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Project statuses. Completed is derived: every milestone not cancelled is paid.
const (
	ProjectActive    = "active"
	ProjectCompleted = "completed"
	ProjectCancelled = "cancelled"
)

// Milestone statuses, in the order a milestone goes through them.
// Delivered is the state of a delivered milestone with no live invoice:
// delivering issues the invoice at once, so a milestone rests there only
// when its invoice was voided (delivering it again issues a new one).
const (
	MilestonePending    = "pending"
	MilestoneInProgress = "in_progress"
	MilestoneDelivered  = "delivered"
	MilestoneInvoiced   = "invoiced"
	MilestonePaid       = "paid"
	MilestoneCancelled  = "cancelled"
)

// Why a milestone was invoiced (Milestone.InvoicedFor).
const (
	InvoicedForDeposit     = "deposit"      // a deposit, at project creation
	InvoicedForDelivery    = "delivery"     // POST /v1/milestones/{id}/deliver
	InvoicedForClientDelay = "client_delay" // the sweep, the client holding delivery up
)

// Project and milestone error codes (409 conflicts; see also EPREVMILESTONEUNPAID).
const (
	EPROJECTCANCELLED    = "project_cancelled"      // the project is cancelled
	EMILESTONECANCELLED  = "milestone_cancelled"    // the milestone is cancelled
	EMILESTONEOUTOFORDER = "milestone_out_of_order" // an earlier milestone has not started
	EMILESTONENOTSTARTED = "milestone_not_started"  // deliver or client delay before start
	EMILESTONEINVOICED   = "milestone_invoiced"     // an invoiced milestone cannot change or move
)

// Limits on projects.
const (
	MaxMilestones = 100
	// MaxDelayNoteLen bounds a client-delay note; it is quoted in the invoice memo.
	MaxDelayNoteLen = 500
)

// Project is work for a client in ordered milestones, each invoiced on its
// own (docs/RULES.md section 11). The money fields are in the project's
// currency, the client's when the project was created.
type Project struct {
	ID         string      `json:"id"`
	ClientID   string      `json:"client_id"`
	Name       string      `json:"name"`
	Status     string      `json:"status"`
	Currency   string      `json:"currency"`
	Milestones []Milestone `json:"milestones"`
	// Total is the sum of the amounts of the milestones not cancelled.
	Total int64 `json:"total"`
	// Invoiced is the sum of the milestones' invoice totals.
	Invoiced int64 `json:"invoiced"`
	// Paid is the part of Invoiced received (principal only: late fees and
	// interest are not project money).
	Paid int64 `json:"paid"`
	// Remaining is Total - Paid: what the client has still to pay for the
	// project, invoiced or not.
	Remaining int64 `json:"remaining"`

	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	CancelledAt *time.Time `json:"cancelled_at"`
}

// Milestone is one stage of a project: an amount invoiced when the stage is
// delivered (a deposit: when the project is created; a stage the client holds
// up: client_delay_days after its planned date).
type Milestone struct {
	ID          string `json:"id"`
	ProjectID   string `json:"project_id"`
	ClientID    string `json:"client_id"`
	Position    int    `json:"position"`
	Name        string `json:"name"`
	Amount      int64  `json:"amount"`
	PlannedDate Date   `json:"planned_date"`
	Deposit     bool   `json:"deposit"`
	Status      string `json:"status"`
	// InvoicedFor says why the invoice was issued: deposit, delivery or client_delay.
	InvoicedFor string            `json:"invoiced_for,omitempty"`
	Invoice     *MilestoneInvoice `json:"invoice"`
	ClientDelay *ClientDelay      `json:"client_delay"`

	StartedOn   Date `json:"started_on"`
	DeliveredOn Date `json:"delivered_on"`
	InvoicedOn  Date `json:"invoiced_on"`
	PaidOn      Date `json:"paid_on"`
	CancelledOn Date `json:"cancelled_on"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MilestoneInvoice is a milestone's invoice as its project shows it.
type MilestoneInvoice struct {
	ID         string `json:"id"`
	Number     string `json:"number"`
	Status     string `json:"status"`
	Currency   string `json:"currency"`
	Total      int64  `json:"total"`
	AmountPaid int64  `json:"amount_paid"`
	BalanceDue int64  `json:"balance_due"`
	IssueDate  Date   `json:"issue_date"`
	DueDate    Date   `json:"due_date"`
	// PrincipalPaid is the part of Total received; it makes Project.Paid.
	PrincipalPaid int64 `json:"-"`
}

// ClientDelay records that the client holds a milestone's delivery up.
type ClientDelay struct {
	// RecordedOn is when it was first recorded; Note the latest explanation.
	RecordedOn Date   `json:"recorded_on"`
	Note       string `json:"note"`
	// InvoiceOn is the first day the sweep invoices the milestone if it is
	// still not delivered: planned date + client_delay_days + 1, under the
	// agreement in force today.
	InvoiceOn Date `json:"invoice_on"`
}

// HasInvoice reports whether the milestone has a live (not void) invoice.
func (m *Milestone) HasInvoice() bool {
	return m.Status == MilestoneInvoiced || m.Status == MilestonePaid
}

// label names the milestone for messages: milestone 2 "Build" (mst_...).
func (m *Milestone) label() string {
	return fmt.Sprintf("milestone %d %q (%s)", m.Position, m.Name, m.ID)
}

// ClientDelayInvoiceOn returns the first day a milestone planned for planned
// and held up by the client is invoiced: planned + client_delay_days + 1
// (the delay days have passed). Without milestone rules the delay is 0 days.
func ClientDelayInvoiceOn(planned Date, rules *MilestoneRules) Date {
	days := 0
	if rules != nil {
		days = rules.ClientDelayDays
	}
	return planned.AddDays(days + 1)
}

// MilestoneInput is a milestone as a caller describes it. A deposit has no
// planned date: it is invoiced, due on receipt, when the project is created.
type MilestoneInput struct {
	Name        string `json:"name"`
	Amount      int64  `json:"amount"`
	PlannedDate Date   `json:"planned_date"`
	Deposit     bool   `json:"deposit"`
}

// ProjectInput is what creating a project takes.
type ProjectInput struct {
	ClientID   string
	Name       string
	Milestones []MilestoneInput
}

// Validate checks the input without a database: a name, 1 to MaxMilestones
// milestones with a name, a positive amount and a planned date each, planned
// dates in order, and a deposit only as the first milestone.
func (in ProjectInput) Validate() error {
	f := FieldErrors{}
	if in.ClientID == "" {
		f.Add("client_id", "is required")
	}
	checkText(f, "name", in.Name, MaxNameLen, true)
	switch {
	case len(in.Milestones) == 0:
		f.Add("milestones", "at least one milestone is required")
	case len(in.Milestones) > MaxMilestones:
		f.Add("milestones", "at most %d milestones", MaxMilestones)
		return f.Err()
	}
	var sum int64
	order := make([]plannedEntry, 0, len(in.Milestones))
	for i, m := range in.Milestones {
		field := "milestones[" + strconv.Itoa(i) + "]"
		checkText(f, field+".name", m.Name, MaxNameLen, true)
		checkAmount(f, field+".amount", m.Amount)
		sum += max(0, min(m.Amount, MaxAmount))
		switch {
		case m.Deposit && i > 0:
			f.Add(field+".deposit", "only the first milestone may be a deposit")
		case m.Deposit && !m.PlannedDate.IsZero():
			f.Add(field+".planned_date", "a deposit is due on receipt, when the project is created; leave planned_date out")
		case m.Deposit:
		case m.PlannedDate.IsZero():
			f.Add(field+".planned_date", "is required (YYYY-MM-DD)")
		default:
			order = append(order, plannedEntry{field, m.PlannedDate})
		}
	}
	if sum > MaxAmount {
		f.Add("milestones", "the project total is too large")
	}
	checkPlannedOrder(f, order)
	return f.Err()
}

func checkAmount(f FieldErrors, field string, amount int64) {
	if amount <= 0 || amount > MaxAmount {
		f.Add(field, "must be a positive integer in minor units, at most %d", int64(MaxAmount))
	}
}

// plannedEntry is a planned date and the request field that set it.
type plannedEntry struct {
	field string
	date  Date
}

// checkPlannedOrder records a problem with each planned date that comes
// before the one of an earlier milestone.
func checkPlannedOrder(f FieldErrors, entries []plannedEntry) {
	for i := 1; i < len(entries); i++ {
		if prev := entries[i-1]; entries[i].date.Before(prev.date) {
			f.Add(entries[i].field+".planned_date", "must not be before the planned date of the milestone before it (%s)", prev.date)
		}
	}
}

// MilestoneChange is one entry of a project update's milestone list: an
// existing milestone (ID set), changed where fields are set and cancelled with
// Cancel, or a new one (no ID).
type MilestoneChange struct {
	ID          string
	Name        *string
	Amount      *int64
	PlannedDate *Date
	Cancel      bool
}

// ProjectUpdate changes a project: nil fields stay. Milestones, when set, is
// the whole new list in the new order: every existing milestone by id, new
// ones without.
type ProjectUpdate struct {
	Name       *string
	Milestones *[]MilestoneChange
}

// ProjectChanges is what an update did, for the audit trail.
type ProjectChanges struct {
	Renamed   bool     `json:"renamed"`
	Added     []string `json:"added"`
	Changed   []string `json:"changed"`
	Cancelled []string `json:"cancelled"`
	Reordered bool     `json:"reordered"`
}

// Apply changes p by u as of today, giving new milestones ids from newID.
// Milestones that have an invoice can neither change nor move: every
// milestone up to the last invoiced one keeps its place, and additions and
// moves go after it. On a cancelled project only renaming and cancelling
// milestones are allowed. Returns EINVALID (naming the fields),
// EMILESTONEINVOICED, EMILESTONECANCELLED, EPROJECTCANCELLED; p is unchanged
// on error.
func (u ProjectUpdate) Apply(p *Project, today Date, newID func() string) (ProjectChanges, error) {
	var ch ProjectChanges
	f := FieldErrors{}
	name := p.Name
	if u.Name != nil {
		checkText(f, "name", *u.Name, MaxNameLen, true)
		ch.Renamed = *u.Name != p.Name
		name = *u.Name
	}
	if u.Milestones == nil {
		if err := f.Err(); err != nil {
			return ch, err
		}
		p.Name = name
		return ch, nil
	}
	list := *u.Milestones
	if len(list) > MaxMilestones {
		f.Add("milestones", "at most %d milestones", MaxMilestones)
		return ch, f.Err()
	}
	byID := map[string]int{}
	for i, m := range p.Milestones {
		byID[m.ID] = i
	}
	seen := map[string]bool{}
	next := make([]Milestone, 0, len(list))
	var conflict error
	conflictf := func(code, format string, args ...any) {
		if conflict == nil {
			conflict = Conflictf(code, format, args...)
		}
	}
	for i, c := range list {
		field := "milestones[" + strconv.Itoa(i) + "]"
		if c.ID == "" {
			m := Milestone{ProjectID: p.ID, ClientID: p.ClientID, Status: MilestonePending}
			if c.Name == nil {
				f.Add(field+".name", "is required")
			} else {
				m.Name = *c.Name
				checkText(f, field+".name", m.Name, MaxNameLen, true)
			}
			if c.Amount == nil {
				f.Add(field+".amount", "is required")
			} else {
				m.Amount = *c.Amount
				checkAmount(f, field+".amount", m.Amount)
			}
			if c.PlannedDate == nil || c.PlannedDate.IsZero() {
				f.Add(field+".planned_date", "is required (YYYY-MM-DD)")
			} else {
				m.PlannedDate = *c.PlannedDate
			}
			if c.Cancel {
				f.Add(field+".cancel", "a new milestone cannot be cancelled; leave it out")
			}
			if p.Status == ProjectCancelled {
				conflictf(EPROJECTCANCELLED, "project %s is cancelled: milestones can be cancelled, not added", p.ID)
			}
			next = append(next, m)
			continue
		}
		idx, ok := byID[c.ID]
		if !ok {
			f.Add(field+".id", "no milestone %s in project %s", c.ID, p.ID)
			continue
		}
		if seen[c.ID] {
			f.Add(field+".id", "milestone %s is listed twice", c.ID)
			continue
		}
		seen[c.ID] = true
		m := p.Milestones[idx]
		changed := false
		if c.Name != nil && *c.Name != m.Name {
			checkText(f, field+".name", *c.Name, MaxNameLen, true)
			m.Name, changed = *c.Name, true
		}
		if c.Amount != nil && *c.Amount != m.Amount {
			checkAmount(f, field+".amount", *c.Amount)
			m.Amount, changed = *c.Amount, true
			if p.Status == ProjectCancelled {
				conflictf(EPROJECTCANCELLED, "project %s is cancelled: milestones can be cancelled, not changed", p.ID)
			}
		}
		if c.PlannedDate != nil && *c.PlannedDate != m.PlannedDate {
			if c.PlannedDate.IsZero() {
				f.Add(field+".planned_date", "is required (YYYY-MM-DD)")
			}
			m.PlannedDate, changed = *c.PlannedDate, true
			if p.Status == ProjectCancelled {
				conflictf(EPROJECTCANCELLED, "project %s is cancelled: milestones can be cancelled, not changed", p.ID)
			}
		}
		switch {
		case (changed || c.Cancel) && m.HasInvoice():
			conflictf(EMILESTONEINVOICED, "%s is %s (invoice %s): an invoiced milestone cannot be changed or cancelled", m.label(), m.Status, m.invoiceRef())
		case changed && m.Status == MilestoneCancelled:
			conflictf(EMILESTONECANCELLED, "%s is cancelled and cannot be changed", m.label())
		case c.Cancel && m.Status != MilestoneCancelled:
			m.Status, m.CancelledOn = MilestoneCancelled, today
			ch.Cancelled = append(ch.Cancelled, m.ID)
		case changed:
			ch.Changed = append(ch.Changed, m.ID)
		}
		next = append(next, m)
	}
	idProblem := false
	for k := range f {
		idProblem = idProblem || strings.HasSuffix(k, ".id")
	}
	if len(seen) < len(p.Milestones) && !idProblem {
		var missing []string
		for _, m := range p.Milestones {
			if !seen[m.ID] {
				missing = append(missing, m.ID)
			}
		}
		f.Add("milestones", "must list every milestone of the project, in the new order; missing %s", strings.Join(missing, ", "))
		idProblem = true
	}
	if idProblem {
		// Which milestone is which is unclear: nothing else can be judged.
		return ch, f.Err()
	}
	// Up to the last invoiced milestone, the order is fixed. A conflict is
	// reported before the values: fixing them would not lift it.
	last := -1
	for i, m := range p.Milestones {
		if m.HasInvoice() {
			last = i
		}
	}
	for i := 0; i <= last; i++ {
		if next[i].ID != p.Milestones[i].ID {
			lm := p.Milestones[last]
			conflictf(EMILESTONEINVOICED, "milestones up to %s, the last one invoiced, keep their places; add or move milestones after it", lm.label())
			break
		}
	}
	for i := range next {
		if next[i].ID != "" && (i >= len(p.Milestones) || next[i].ID != p.Milestones[i].ID) {
			ch.Reordered = true
			if p.Status == ProjectCancelled {
				conflictf(EPROJECTCANCELLED, "project %s is cancelled: milestones can be cancelled, not moved", p.ID)
			}
		}
	}
	if conflict != nil {
		return ProjectChanges{}, conflict
	}
	live, sum := 0, int64(0)
	order := make([]plannedEntry, 0, len(next))
	for i, m := range next {
		if m.Status == MilestoneCancelled {
			continue
		}
		live++
		sum += max(0, min(m.Amount, MaxAmount))
		if !m.Deposit {
			order = append(order, plannedEntry{"milestones[" + strconv.Itoa(i) + "]", m.PlannedDate})
		}
	}
	if live == 0 {
		f.Add("milestones", "at least one milestone must stay; cancel the project instead")
	}
	if sum > MaxAmount {
		f.Add("milestones", "the project total is too large")
	}
	checkPlannedOrder(f, order)
	if err := f.Err(); err != nil {
		return ProjectChanges{}, err
	}
	for i := range next {
		if next[i].ID == "" {
			next[i].ID = newID()
			ch.Added = append(ch.Added, next[i].ID)
		}
		next[i].Position = i
	}
	p.Name, p.Milestones = name, next
	p.Summarize()
	return ch, nil
}

// invoiceRef names a milestone's invoice: its number and id.
func (m *Milestone) invoiceRef() string {
	if m.Invoice == nil {
		return "none"
	}
	if m.Invoice.Number == "" {
		return m.Invoice.ID
	}
	return m.Invoice.Number + " (" + m.Invoice.ID + ")"
}

// Milestone returns the project's milestone with the id, or nil.
func (p *Project) Milestone(id string) *Milestone {
	for i := range p.Milestones {
		if p.Milestones[i].ID == id {
			return &p.Milestones[i]
		}
	}
	return nil
}

// Summarize sets the totals from the milestones and their invoices, and
// reports an active project whose milestones are all paid as completed.
func (p *Project) Summarize() {
	p.Total, p.Invoiced, p.Paid = 0, 0, 0
	live, paid := 0, 0
	for _, m := range p.Milestones {
		if m.Status == MilestoneCancelled {
			continue
		}
		live++
		p.Total += m.Amount
		if m.Status == MilestonePaid {
			paid++
		}
		if m.Invoice != nil && m.HasInvoice() {
			p.Invoiced += m.Invoice.Total
			p.Paid += min(m.Invoice.Total, max(0, m.Invoice.PrincipalPaid))
		}
	}
	p.Remaining = max(0, p.Total-p.Paid)
	if p.Status == ProjectActive && live > 0 && paid == live {
		p.Status = ProjectCompleted
	}
}

// CheckStart says whether the milestone id may start: it must be pending
// and not a deposit, the project not cancelled, every earlier milestone (the
// cancelled ones aside) started, and, when gate is set (the agreement's
// gate_next_on_payment), paid. Returns ENOTFOUND, EPROJECTCANCELLED,
// EMILESTONECANCELLED, ECONFLICT (already started, or a deposit),
// EMILESTONEOUTOFORDER, EPREVMILESTONEUNPAID (naming the first unpaid
// milestone and its invoice).
func (p *Project) CheckStart(id string, gate bool) error {
	m := p.Milestone(id)
	switch {
	case m == nil:
		return Errorf(ENOTFOUND, "milestone %s not found", id)
	case p.Status == ProjectCancelled:
		return Conflictf(EPROJECTCANCELLED, "project %s is cancelled: its milestones cannot start", p.ID)
	case m.Status == MilestoneCancelled:
		return Conflictf(EMILESTONECANCELLED, "%s is cancelled", m.label())
	case m.Deposit:
		return Conflictf(ECONFLICT, "%s is a deposit: it was invoiced when the project was created and has no work to start", m.label())
	case m.Status != MilestonePending:
		return Conflictf(ECONFLICT, "%s has already started (it is %s)", m.label(), m.Status)
	}
	earlier := p.Milestones[:slices.IndexFunc(p.Milestones, func(e Milestone) bool { return e.ID == id })]
	for i := range earlier {
		if e := &earlier[i]; e.Status == MilestonePending {
			return Conflictf(EMILESTONEOUTOFORDER, "%s cannot start before %s: start that one first", m.label(), e.label())
		}
	}
	if !gate {
		return nil
	}
	for i := range earlier {
		e := &earlier[i]
		switch e.Status {
		case MilestoneCancelled, MilestonePaid:
			continue
		case MilestoneInvoiced:
			return Conflictf(EPREVMILESTONEUNPAID, "%s cannot start until %s is paid: invoice %s has %s due (the agreement gates each milestone on payment of the ones before it)",
				m.label(), e.label(), e.invoiceRef(), FormatMoney(e.Invoice.BalanceDue, e.Invoice.Currency))
		default:
			return Conflictf(EPREVMILESTONEUNPAID, "%s cannot start until %s is delivered, invoiced and paid (it is %s; the agreement gates each milestone on payment of the ones before it)",
				m.label(), e.label(), e.Status)
		}
	}
	return nil
}

// CheckDeliver says whether the milestone may be delivered. It returns
// invoice=true when delivering must issue the milestone's invoice (false when
// the client-delay rule already invoiced it). Returns EMILESTONENOTSTARTED,
// EMILESTONECANCELLED, ECONFLICT (already delivered).
func (m *Milestone) CheckDeliver() (invoice bool, err error) {
	switch {
	case m.Status == MilestoneCancelled:
		return false, Conflictf(EMILESTONECANCELLED, "%s is cancelled", m.label())
	case m.Deposit:
		return false, Conflictf(ECONFLICT, "%s is a deposit: it is invoiced when the project is created, not delivered", m.label())
	case m.Status == MilestonePending:
		return false, Conflictf(EMILESTONENOTSTARTED, "%s has not started: start it (POST /v1/milestones/%s/start) before delivering it", m.label(), m.ID)
	case m.Status == MilestoneInProgress || m.Status == MilestoneDelivered:
		return true, nil
	case !m.DeliveredOn.IsZero():
		return false, Conflictf(ECONFLICT, "%s was already delivered on %s", m.label(), m.DeliveredOn)
	}
	// Invoiced (or paid) under the client-delay rule before delivery.
	return false, nil
}

// CheckClientDelay says whether a client delay may be recorded on the
// milestone: only while it is in progress. Returns EMILESTONENOTSTARTED,
// EMILESTONECANCELLED, ECONFLICT.
func (m *Milestone) CheckClientDelay() error {
	switch m.Status {
	case MilestoneInProgress:
		return nil
	case MilestonePending:
		return Conflictf(EMILESTONENOTSTARTED, "%s has not started: a client delay holds up work in progress", m.label())
	case MilestoneCancelled:
		return Conflictf(EMILESTONECANCELLED, "%s is cancelled", m.label())
	}
	return Conflictf(ECONFLICT, "%s is %s: a client delay can only hold up a milestone in progress", m.label(), m.Status)
}

// CheckDelayNote validates a client-delay note.
func CheckDelayNote(note string) error {
	f := FieldErrors{}
	checkLines(f, "note", note, MaxDelayNoteLen, true)
	return f.Err()
}

// NextUnlocked returns the milestone that payment has just opened: the first
// pending milestone (cancelled ones aside) when every milestone before it is
// paid, or nil.
func (p *Project) NextUnlocked() *Milestone {
	for i := range p.Milestones {
		m := &p.Milestones[i]
		switch m.Status {
		case MilestoneCancelled, MilestonePaid:
			continue
		case MilestonePending:
			return m
		}
		return nil
	}
	return nil
}

// ProjectService stores projects and milestones and issues milestone
// invoices through the invoice ledger.
type ProjectService interface {
	// CreateProject stores a project for a client with its ordered
	// milestones; a deposit milestone is invoiced at once, due on receipt.
	// Returns EINVALID (naming the fields; an unknown client is client_id),
	// ECLIENTOFFBOARDED.
	CreateProject(ctx context.Context, in ProjectInput) (*Project, error)
	// FindProjectByID returns the project with its milestones, their
	// invoices and totals. Returns ENOTFOUND.
	FindProjectByID(ctx context.Context, id string) (*Project, error)
	// UpdateProject renames the project and adds, changes, reorders or
	// cancels milestones not yet invoiced (see ProjectUpdate.Apply).
	// Returns EINVALID, ENOTFOUND, EMILESTONEINVOICED, EMILESTONECANCELLED,
	// EPROJECTCANCELLED.
	UpdateProject(ctx context.Context, id string, u ProjectUpdate) (*Project, error)
	// CancelProject cancels the project and its pending milestones; invoices
	// already issued stay as they are, and milestones in progress can still
	// be delivered (and so invoiced) or cancelled one by one, but the sweep
	// never invoices them under the client-delay rule.
	// Returns ENOTFOUND, EPROJECTCANCELLED.
	CancelProject(ctx context.Context, id string) (*Project, error)
	// StartMilestone starts a pending milestone (see Project.CheckStart),
	// gated by the agreement in force today. Returns ENOTFOUND,
	// EPROJECTCANCELLED, EMILESTONECANCELLED, EMILESTONEOUTOFORDER,
	// EPREVMILESTONEUNPAID, ECONFLICT.
	StartMilestone(ctx context.Context, id string) (*Milestone, error)
	// DeliverMilestone records the delivery and issues the milestone's
	// invoice under the agreement in force today. Returns ENOTFOUND,
	// EMILESTONENOTSTARTED, EMILESTONECANCELLED, ECLIENTOFFBOARDED, ECONFLICT.
	DeliverMilestone(ctx context.Context, id string) (*Milestone, error)
	// RecordClientDelay records that the client holds a milestone in
	// progress up, with a note. Returns EINVALID (note), ENOTFOUND,
	// EMILESTONENOTSTARTED, EMILESTONECANCELLED, ECONFLICT.
	RecordClientDelay(ctx context.Context, id, note string) (*Milestone, error)
	// IssueDelayedMilestones issues, once each, the invoices of the
	// milestones in progress held up by their client whose planned date plus
	// the agreement's client_delay_days has passed by now (in the client's
	// time zone). The sweep calls it every run; a second run, on this
	// replica or another, issues nothing more. Milestones whose client is
	// offboarded, or whose project is cancelled, are left alone. It returns how many invoices it issued.
	IssueDelayedMilestones(ctx context.Context, now time.Time) (issued int, err error)
}
