package domain

import (
	"context"
	"net/mail"
	"slices"
	"time"
)

// Languages are the languages a client may read Remit's pages in (BCP 47).
var Languages = []string{"en", "ru", "bg", "de"}

// Client statuses.
const (
	ClientActive     = "active"
	ClientSuspended  = "suspended"
	ClientOffboarded = "offboarded"
)

// Client relationships. A friends-and-family client is flagged when it owes money.
const (
	RelationshipStandard      = "standard"
	RelationshipFriendsFamily = "friends_family"
)

// Client kinds: some laws treat a consumer differently from a business
// (de_bgb_288: a lower margin and no fixed compensation).
const (
	ClientBusiness = "business"
	ClientConsumer = "consumer"
)

// MaxTaxIDLen bounds a tax identifier (a VAT number is at most 14 characters).
const MaxTaxIDLen = 40

// Limits on client fields.
const (
	MaxNameLen     = 200
	MaxTextLen     = 2000
	MaxResponseHrs = 24 * 30
	MaxTurnaround  = 365
)

// Channels a client may be reached by.
var communicationChannels = map[string]bool{
	"email": true, "phone": true, "slack": true, "teams": true,
	"whatsapp": true, "telegram": true, "other": true,
}

// Communication is how the client's one point of contact is reached, and how
// fast we promise to answer.
type Communication struct {
	Channel           string `json:"channel"`
	ResponseTimeHours int    `json:"response_time_hours"`
}

// Client is a customer of the business: who pays, who to talk to, in which
// currency and time zone, and whether service is active.
type Client struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	Email          string        `json:"email"`
	ContactName    string        `json:"contact_name"`
	AccountManager string        `json:"account_manager"`
	Address        string        `json:"address"`
	Timezone       string        `json:"timezone"`
	Currency       string        `json:"currency"`
	Communication  Communication `json:"communication"`
	TurnaroundDays int           `json:"turnaround_days"`
	Relationship   string        `json:"relationship"`
	// Kind is business (the default) or consumer.
	Kind string `json:"kind"`
	// TaxID is the client's tax identifier (VAT number), printed on its invoices.
	TaxID  string `json:"tax_id"`
	Status string `json:"status"`
	// Language is what the client reads (Languages; "" is English): the
	// hosted pages speak it.
	Language string `json:"language"`
	// AutoCharge charges the client's saved card (Stripe) for every invoice
	// issued from AutoChargeSince on, on its due date and the retry days.
	AutoCharge bool `json:"auto_charge"`
	// AutoChargeSince is the day (in the client's zone) auto-charge was
	// turned on; the store sets it.
	AutoChargeSince Date `json:"-"`
	// CreditBalance is the client's unused credit in minor units of its
	// currency; the client service sets it, and it is nil (left out) where a
	// client is embedded in another resource.
	CreditBalance *int64 `json:"credit_balance,omitempty"`
	// PortalURL is the client's account page; the api sets it when hosted
	// pages are on (null while the link is revoked).
	PortalURL PageLink  `json:"portal_url,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Location returns the client's time zone; Validate guarantees it loads.
func (c *Client) Location() *time.Location {
	loc, err := LoadZone(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Validate checks every field and returns one EINVALID error naming each bad one.
func (c *Client) Validate() error {
	f := FieldErrors{}
	checkText(f, "name", c.Name, MaxNameLen, true)
	checkText(f, "contact_name", c.ContactName, MaxNameLen, false)
	checkText(f, "account_manager", c.AccountManager, MaxNameLen, false)
	checkLines(f, "address", c.Address, MaxTextLen, false)
	if c.Email == "" {
		f.Add("email", "is required")
	} else if p := TextProblem(c.Email, false); p != "" {
		f.Add("email", "%s", p)
	} else if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || len(c.Email) > 254 {
		f.Add("email", "must be a plain e-mail address such as billing@example.com")
	}
	if c.Timezone == "" {
		f.Add("timezone", "is required")
	} else if _, err := LoadZone(c.Timezone); err != nil {
		f.Add("timezone", "must be an IANA time zone such as Europe/Berlin")
	}
	if !ValidCurrency(c.Currency) {
		f.Add("currency", "must be an ISO 4217 currency code in upper case, such as EUR")
	}
	if c.Communication.Channel != "" && !communicationChannels[c.Communication.Channel] {
		f.Add("communication.channel", "must be one of email, phone, slack, teams, whatsapp, telegram, other")
	}
	if c.Communication.ResponseTimeHours < 0 || c.Communication.ResponseTimeHours > MaxResponseHrs {
		f.Add("communication.response_time_hours", "must be between 0 and %d", MaxResponseHrs)
	}
	if c.TurnaroundDays < 0 || c.TurnaroundDays > MaxTurnaround {
		f.Add("turnaround_days", "must be between 0 and %d", MaxTurnaround)
	}
	if c.Relationship != RelationshipStandard && c.Relationship != RelationshipFriendsFamily {
		f.Add("relationship", "must be standard or friends_family")
	}
	if c.Kind != ClientBusiness && c.Kind != ClientConsumer {
		f.Add("kind", "must be business or consumer")
	}
	checkText(f, "tax_id", c.TaxID, MaxTaxIDLen, false)
	if c.Language != "" && !slices.Contains(Languages, c.Language) {
		f.Add("language", "must be one of en, ru, bg, de")
	}
	switch c.Status {
	case ClientActive, ClientSuspended, ClientOffboarded:
	default:
		f.Add("status", "must be active, suspended or offboarded")
	}
	return f.Err()
}

// ClientUpdate holds the fields a PATCH may change; nil means unchanged.
type ClientUpdate struct {
	Name           *string
	Email          *string
	ContactName    *string
	AccountManager *string
	Address        *string
	Timezone       *string
	Currency       *string
	Channel        *string
	ResponseHours  *int
	TurnaroundDays *int
	Relationship   *string
	Kind           *string
	TaxID          *string
	Status         *string
	Language       *string
	AutoCharge     *bool
}

// Apply changes c by the update. Offboarding happens only through the
// offboarding flow, and an offboarded client is read-only.
func (u ClientUpdate) Apply(c *Client) error {
	if c.Status == ClientOffboarded {
		return Conflictf(ECLIENTOFFBOARDED, "client %s is offboarded and read-only", c.ID)
	}
	if u.Status != nil && *u.Status == ClientOffboarded {
		return &Error{Code: EINVALID, Message: "status: use POST /v1/clients/{id}/offboard to offboard a client",
			Fields: map[string]string{"status": "must be active or suspended; offboard through its own endpoint"}}
	}
	set(&c.Name, u.Name)
	set(&c.Email, u.Email)
	set(&c.ContactName, u.ContactName)
	set(&c.AccountManager, u.AccountManager)
	set(&c.Address, u.Address)
	set(&c.Timezone, u.Timezone)
	set(&c.Currency, u.Currency)
	set(&c.Communication.Channel, u.Channel)
	set(&c.Communication.ResponseTimeHours, u.ResponseHours)
	set(&c.TurnaroundDays, u.TurnaroundDays)
	set(&c.Relationship, u.Relationship)
	set(&c.Kind, u.Kind)
	set(&c.TaxID, u.TaxID)
	set(&c.Status, u.Status)
	set(&c.Language, u.Language)
	if u.AutoCharge != nil && *u.AutoCharge != c.AutoCharge {
		// Turned on: from the day the store records; turned off: no longer.
		c.AutoCharge, c.AutoChargeSince = *u.AutoCharge, Date{}
	}
	return c.Validate()
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// ClientFilter selects clients for a list.
type ClientFilter struct {
	Status string
	// AcceptancePending keeps the clients with a version in force or
	// announced that requires acceptance and has none.
	AcceptancePending bool
	Page              PageParams
}

// ClientService stores clients.
type ClientService interface {
	// CreateClient stores a new client, setting its ID and timestamps.
	// Returns EINVALID.
	CreateClient(ctx context.Context, c *Client) error
	// FindClientByID returns the client. Returns ENOTFOUND.
	FindClientByID(ctx context.Context, id string) (*Client, error)
	// FindClients lists clients, newest first. Returns EINVALID for a bad cursor.
	FindClients(ctx context.Context, f ClientFilter) (Page[Client], error)
	// UpdateClient applies upd and returns the result. Returns ENOTFOUND,
	// EINVALID, ECLIENTOFFBOARDED.
	UpdateClient(ctx context.Context, id string, upd ClientUpdate) (*Client, error)
	// FindCredits lists the client's credit entries, newest first. Returns
	// ENOTFOUND.
	FindCredits(ctx context.Context, clientID string, p PageParams) (Page[CreditEntry], error)
}
