package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// clientRow is the clients table.
type clientRow struct {
	ID                string
	Name              string
	Email             string
	ContactName       string
	AccountManager    string
	Address           string
	Timezone          string
	Currency          string
	Channel           string
	ResponseTimeHours int
	TurnaroundDays    int
	AutoChargeSince   *string
	Relationship      string
	Kind              string
	TaxID             string `gorm:"column:tax_id"`
	Status            string
	SuspensionSource  string
	Language          string
	CreatedAt         time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt         time.Time `gorm:"autoUpdateTime:false"`
}

func (clientRow) TableName() string { return "clients" }

func clientToRow(c *domain.Client) clientRow {
	return clientRow{
		ID: c.ID, Name: c.Name, Email: c.Email, ContactName: c.ContactName,
		AccountManager: c.AccountManager, Address: c.Address, Timezone: c.Timezone,
		Currency: c.Currency, Channel: c.Communication.Channel,
		ResponseTimeHours: c.Communication.ResponseTimeHours, TurnaroundDays: c.TurnaroundDays,
		Relationship: c.Relationship, Kind: c.Kind, TaxID: c.TaxID, Status: c.Status, Language: c.Language,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		AutoChargeSince: dateCol(c.AutoChargeSince),
	}
}

// clientCols are the clients table's columns in the order of clientRow.values.
var clientCols = []string{"id", "name", "email", "contact_name", "account_manager", "address", "timezone", "currency", "channel",
	"response_time_hours", "turnaround_days", "auto_charge_since", "relationship", "kind", "tax_id", "status", "suspension_source",
	"language", "created_at", "updated_at"}

// clientInsertSQL inserts a client on PostgreSQL and returns its id.
var clientInsertSQL = rebindPostgres(valuesSQL("clients", clientCols, 1) + " RETURNING id")

// clientLateSQL is clientInsertSQL held back by a request with an
// Idempotency-Key (lateWrite), in the shape of numberedSQL.
var clientLateSQL = "WITH n AS (" + valuesSQL("clients", clientCols, 1) + " RETURNING id AS number)" + numberedTail

func (r *clientRow) fields() []any {
	return []any{&r.ID, &r.Name, &r.Email, &r.ContactName, &r.AccountManager, &r.Address, &r.Timezone, &r.Currency, &r.Channel,
		&r.ResponseTimeHours, &r.TurnaroundDays, &r.AutoChargeSince, &r.Relationship, &r.Kind, &r.TaxID, &r.Status, &r.SuspensionSource,
		&r.Language, &r.CreatedAt, &r.UpdatedAt}
}

func (r *clientRow) values() []any {
	return []any{r.ID, r.Name, r.Email, r.ContactName, r.AccountManager, r.Address, r.Timezone, r.Currency, r.Channel,
		r.ResponseTimeHours, r.TurnaroundDays, nullable(r.AutoChargeSince), r.Relationship, r.Kind, r.TaxID, r.Status, r.SuspensionSource,
		r.Language, r.CreatedAt, r.UpdatedAt}
}

func (r *clientRow) toDomain() domain.Client {
	return domain.Client{
		ID: r.ID, Name: r.Name, Email: r.Email, ContactName: r.ContactName,
		AccountManager: r.AccountManager, Address: r.Address, Timezone: r.Timezone,
		Currency:       r.Currency,
		Communication:  domain.Communication{Channel: r.Channel, ResponseTimeHours: r.ResponseTimeHours},
		TurnaroundDays: r.TurnaroundDays, Relationship: r.Relationship, Kind: r.Kind, TaxID: r.TaxID, Status: r.Status,
		Language:  r.Language,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		AutoCharge: r.AutoChargeSince != nil, AutoChargeSince: dateOf(r.AutoChargeSince),
	}
}

// ClientService implements domain.ClientService.
type ClientService struct{ db *DB }

// NewClientService returns the client service on db.
func NewClientService(db *DB) *ClientService { return &ClientService{db: db} }

// CreateClient implements domain.ClientService.
func (s *ClientService) CreateClient(ctx context.Context, c *domain.Client) error {
	if c.Kind == "" {
		c.Kind = domain.ClientBusiness
	}
	if err := c.Validate(); err != nil {
		return err
	}
	now := s.db.now()
	c.ID, c.CreatedAt, c.UpdatedAt = s.db.newID("cli"), now, now
	if c.Language == "" {
		c.Language = domain.Languages[0]
	}
	if c.AutoCharge {
		c.AutoChargeSince = domain.DateOf(now, c.Location())
	}
	row := clientToRow(c)
	// One INSERT is atomic on its own; an explicit transaction would only
	// hold the single SQLite writer longer. On PostgreSQL the inserts that
	// arrive together commit together (see groupWriter).
	if _, inTx := ctx.Value(txKey{}).(*gorm.DB); s.db.inserts != nil && !inTx {
		if late := heldWrite(ctx); late != nil {
			// A request with an Idempotency-Key (IdempotentGrouped): the
			// insert goes with its response.
			if _, err := late.hold(s.db.inserts, "", clientLateSQL, row.values(), false); err != nil {
				return err
			}
		} else if _, err := s.db.inserts.run(ctx, "", clientInsertSQL, row.values()); err != nil {
			return err
		}
	} else if _, err := rawExec(s.db.writer(ctx), valuesSQL("clients", clientCols, 1), row.values()...); err != nil {
		return translate(err)
	}
	c.CreditBalance = new(int64) // a new client has no credit
	return nil
}

// FindClientByID implements domain.ClientService.
func (s *ClientService) FindClientByID(ctx context.Context, id string) (*domain.Client, error) {
	// The client and its credit in its currency, in one statement.
	var row clientRow
	var credit int64
	err := rawScan(s.db.reader(ctx), clientWithCreditSQL, []any{id}, append(row.fields(), &credit)...)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.Errorf(domain.ENOTFOUND, "client %s not found", id)
	}
	if err != nil {
		return nil, translate(err)
	}
	c := row.toDomain()
	c.CreditBalance = &credit
	return &c, nil
}

// clientWithCreditSQL reads a client and its credit balance in its currency.
var clientWithCreditSQL = "SELECT " + strings.Join(clientCols, ", ") +
	", (SELECT COALESCE(SUM(amount), 0) FROM client_credits WHERE client_id = clients.id AND currency = clients.currency)" +
	" FROM clients WHERE id = ?"

func findClient(tx *gorm.DB, id string) (*domain.Client, error) {
	var row clientRow
	if err := tx.Take(&row, "id = ?", id).Error; err != nil {
		if err = translate(err); domain.ErrorCode(err) == domain.ENOTFOUND {
			return nil, domain.Errorf(domain.ENOTFOUND, "client %s not found", id)
		}
		return nil, err
	}
	c := row.toDomain()
	return &c, nil
}

// FindClients implements domain.ClientService.
func (s *ClientService) FindClients(ctx context.Context, f domain.ClientFilter) (domain.Page[domain.Client], error) {
	q := s.db.reader(ctx).Model(&clientRow{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.AcceptancePending {
		// A version asking for acceptance, without one, that no later
		// version has replaced by today.
		today := s.db.now().Format(time.DateOnly)
		q = q.Where(`id IN (SELECT a.client_id FROM agreements a WHERE a.require_acceptance
			AND NOT EXISTS (SELECT 1 FROM agreement_acceptances x WHERE x.agreement_id = a.id)
			AND NOT EXISTS (SELECT 1 FROM agreements b WHERE b.client_id = a.client_id AND b.version > a.version AND b.effective_from <= ?))`, today)
	}
	var rows []clientRow
	if err := page(q, f.Page).Find(&rows).Error; err != nil {
		return domain.Page[domain.Client]{}, translate(err)
	}
	out := finishPage(rows, f.Page, (*clientRow).toDomain)
	list := make([]*domain.Client, len(out.Data))
	for i := range out.Data {
		list[i] = &out.Data[i]
	}
	return out, translate(setCreditBalances(s.db.reader(ctx), list...))
}

// UpdateClient implements domain.ClientService.
func (s *ClientService) UpdateClient(ctx context.Context, id string, upd domain.ClientUpdate) (*domain.Client, error) {
	var out *domain.Client
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		c, err := findClient(tx, id)
		if err != nil {
			return err
		}
		var source string
		if err := tx.Model(&clientRow{}).Select("suspension_source").Where("id = ?", id).Scan(&source).Error; err != nil {
			return err
		}
		before := c.Status
		if err := upd.Apply(c); err != nil {
			return err
		}
		c.UpdatedAt = s.db.now()
		if c.AutoCharge && c.AutoChargeSince.IsZero() {
			c.AutoChargeSince = domain.DateOf(c.UpdatedAt, c.Location())
		}
		row := clientToRow(c)
		switch {
		case c.Status == domain.ClientActive:
			row.SuspensionSource = ""
		case c.Status == domain.ClientSuspended && before != domain.ClientSuspended:
			// Suspended by hand: only a person lifts it, never the sweep.
			row.SuspensionSource = "manual"
		default:
			row.SuspensionSource = source
		}
		if err := tx.Save(&row).Error; err != nil {
			return err
		}
		out = c
		return setCreditBalances(tx, c)
	})
	return out, err
}
