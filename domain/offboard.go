package domain

import (
	"context"
	"time"
)

// Reasons a relationship ends.
var offboardReasons = map[string]bool{
	"not_core_work": true, "over_accommodating": true, "underpaid": true,
	"mistreatment": true, "too_close": true, "other": true,
}

// OffboardInput is a request to end a client relationship.
type OffboardInput struct {
	Reason string
	Note   string
	// DryRun computes and returns the plan without doing anything.
	DryRun bool
	// InvoiceDelivered invoices milestones delivered but not yet billed.
	InvoiceDelivered bool
}

// Validate checks the reason and note.
func (in OffboardInput) Validate() error {
	f := FieldErrors{}
	if !offboardReasons[in.Reason] {
		f.Add("reason", "must be not_core_work, over_accommodating, underpaid, mistreatment, too_close or other")
	}
	checkLines(f, "note", in.Note, MaxTextLen, false)
	return f.Err()
}

// OffboardMilestone is a milestone the offboarding touches.
type OffboardMilestone struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	Name      string `json:"name"`
	Amount    int64  `json:"amount"`
	InvoiceID string `json:"invoice_id,omitempty"`
}

// DepositRefund is an unearned deposit given back: through Stripe when it
// was paid by Stripe, else recorded as owed to the client.
type DepositRefund struct {
	MilestoneID string `json:"milestone_id"`
	InvoiceID   string `json:"invoice_id"`
	PaymentID   string `json:"payment_id"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Via         string `json:"via"` // "stripe" or "owed"
	RefundID    string `json:"refund_id,omitempty"`
}

// OpenInvoice is an invoice that stays collectable after offboarding.
type OpenInvoice struct {
	ID         string `json:"id"`
	Number     string `json:"number"`
	BalanceDue int64  `json:"balance_due"`
	Currency   string `json:"currency"`
}

// OffboardPlan is what ending the relationship does (or did).
type OffboardPlan struct {
	ClientID            string              `json:"client_id"`
	Reason              string              `json:"reason"`
	Note                string              `json:"note"`
	DryRun              bool                `json:"dry_run"`
	CancelledMilestones []OffboardMilestone `json:"cancelled_milestones"`
	InvoicedMilestones  []OffboardMilestone `json:"invoiced_milestones"`
	UnbilledMilestones  []OffboardMilestone `json:"unbilled_milestones"`
	DepositRefunds      []DepositRefund     `json:"deposit_refunds"`
	OpenInvoices        []OpenInvoice       `json:"open_invoices"`
	RemindersStopped    bool                `json:"reminders_stopped"`
	Status              string              `json:"status"`
	OffboardedAt        *time.Time          `json:"offboarded_at"`
}

// OffboardService ends client relationships.
type OffboardService interface {
	// Offboard ends the relationship with the client: cancels unstarted
	// milestones, optionally invoices delivered but unbilled ones, refunds
	// unearned deposits as the agreement says, stops reminders, marks the
	// client offboarded (read-only) and emits client.offboarded; open
	// invoices stay collectable. A dry run returns the plan and changes
	// nothing. A second call returns what the first did, and refunds
	// nothing again. Returns EINVALID, ENOTFOUND, EUNAVAILABLE (Stripe).
	Offboard(ctx context.Context, clientID string, in OffboardInput) (*OffboardPlan, error)
}
