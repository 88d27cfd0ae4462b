package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// timeEntryRow is the time_entries table; external_key is unique.
type timeEntryRow struct {
	ID          string
	ClientID    string
	ProjectID   *string
	Date        string
	Minutes     int
	Description string
	Billable    bool
	APIKeyID    string `gorm:"column:api_key_id"`
	ExternalID  *string
	ExternalKey *string
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
}

func (timeEntryRow) TableName() string { return "time_entries" }

func (r *timeEntryRow) toDomain() domain.TimeEntry {
	e := domain.TimeEntry{ID: r.ID, ClientID: r.ClientID, Date: dateOf(&r.Date), Minutes: r.Minutes,
		Description: r.Description, Billable: r.Billable, CreatedAt: r.CreatedAt.UTC()}
	if r.ProjectID != nil {
		e.ProjectID = *r.ProjectID
	}
	if r.ExternalID != nil {
		e.ExternalID = *r.ExternalID
	}
	return e
}

// TimeEntryService implements domain.TimeEntryService.
type TimeEntryService struct{ db *DB }

// NewTimeEntryService returns the time entry service on db.
func NewTimeEntryService(db *DB) *TimeEntryService { return &TimeEntryService{db: db} }

// externalKey is the unique key of an entry the sender named: its id is
// unique within the API key that sent it.
func externalKey(keyID, externalID string) string { return keyID + ":" + externalID }

// CreateTimeEntries implements domain.TimeEntryService.
func (s *TimeEntryService) CreateTimeEntries(ctx context.Context, keyID string, in []domain.TimeEntryInput, bulk bool) (domain.TimeEntryImport, error) {
	// The latest calendar on Earth (UTC+14): a tracker anywhere may post today.
	if err := domain.ValidateTimeEntries(in, bulk, domain.DateOf(s.db.now(), latestZone)); err != nil {
		return domain.TimeEntryImport{}, err
	}
	var out domain.TimeEntryImport
	err := s.db.tx(ctx, func(tx *gorm.DB) error { return s.create(tx, keyID, in, bulk, &out) })
	if domain.ErrorCode(err) == domain.ECONFLICT {
		// A concurrent import of the same external ids committed first;
		// this attempt now finds them and returns them.
		err = s.db.tx(ctx, func(tx *gorm.DB) error { return s.create(tx, keyID, in, bulk, &out) })
	}
	return out, err
}

// create stores the entries that are new in tx and fills out with every entry.
func (s *TimeEntryService) create(tx *gorm.DB, keyID string, in []domain.TimeEntryInput, bulk bool, out *domain.TimeEntryImport) error {
	field := func(i int, name string) string {
		if bulk {
			return fmt.Sprintf("entries[%d].%s", i, name)
		}
		return name
	}
	var clientIDs []string
	seen := map[string]bool{}
	for _, e := range in {
		if !seen[e.ClientID] {
			seen[e.ClientID] = true
			clientIDs = append(clientIDs, e.ClientID)
		}
	}
	var clients []clientRow
	if err := tx.Select("id, status").Where("id IN ?", clientIDs).Find(&clients).Error; err != nil {
		return err
	}
	status := map[string]string{}
	for _, c := range clients {
		status[c.ID] = c.Status
	}
	f := domain.FieldErrors{}
	for i, e := range in {
		switch status[e.ClientID] {
		case "":
			f.Add(field(i, "client_id"), "no client %s", e.ClientID)
		case domain.ClientOffboarded:
			return &domain.Error{Code: domain.ECLIENTOFFBOARDED, Kind: domain.ECONFLICT,
				Message: fmt.Sprintf("%s: client %s is offboarded and read-only", field(i, "client_id"), e.ClientID),
				Fields:  map[string]string{field(i, "client_id"): "client is offboarded"}}
		}
	}
	if err := f.Err(); err != nil {
		return err
	}

	existing := map[string]*timeEntryRow{}
	var keys []string
	for _, e := range in {
		if e.ExternalID != "" {
			keys = append(keys, externalKey(keyID, e.ExternalID))
		}
	}
	if len(keys) > 0 {
		var rows []timeEntryRow
		if err := tx.Where("external_key IN ?", keys).Find(&rows).Error; err != nil {
			return err
		}
		for i := range rows {
			existing[*rows[i].ExternalKey] = &rows[i]
		}
	}

	now := s.db.now()
	*out = domain.TimeEntryImport{Entries: make([]domain.TimeEntry, len(in))}
	var fresh []timeEntryRow
	for i, e := range in {
		if e.ExternalID != "" {
			if row, ok := existing[externalKey(keyID, e.ExternalID)]; ok {
				had := row.toDomain()
				if !e.Matches(&had) {
					name := field(i, "external_id")
					return &domain.Error{Code: domain.ECONFLICT,
						Message: fmt.Sprintf("%s: %q was imported before as %s with other values; send a new external_id for a new entry", name, e.ExternalID, had.ID),
						Fields:  map[string]string{name: "was imported before with other values"}}
				}
				out.Entries[i] = had
				continue
			}
		}
		row := timeEntryRow{ID: s.db.newID("tme"), ClientID: e.ClientID, Date: e.Date.String(), Minutes: e.Minutes,
			Description: e.Description, Billable: e.IsBillable(), APIKeyID: keyID, CreatedAt: now}
		if e.ProjectID != "" {
			row.ProjectID = &e.ProjectID
		}
		if e.ExternalID != "" {
			ext, key := e.ExternalID, externalKey(keyID, e.ExternalID)
			row.ExternalID, row.ExternalKey = &ext, &key
		}
		fresh = append(fresh, row)
		out.Entries[i] = row.toDomain()
		out.Created++
	}
	if len(fresh) == 0 {
		return nil
	}
	return tx.CreateInBatches(fresh, 200).Error
}

// FindTimeEntries implements domain.TimeEntryService.
func (s *TimeEntryService) FindTimeEntries(ctx context.Context, f domain.TimeEntryFilter) (domain.Page[domain.TimeEntry], error) {
	q := s.db.reader(ctx).Model(&timeEntryRow{})
	if f.ClientID != "" {
		q = q.Where("client_id = ?", f.ClientID)
	}
	if f.ProjectID != "" {
		q = q.Where("project_id = ?", f.ProjectID)
	}
	if !f.From.IsZero() {
		q = q.Where("date >= ?", f.From.String())
	}
	if !f.To.IsZero() {
		q = q.Where("date <= ?", f.To.String())
	}
	var rows []timeEntryRow
	if err := page(q, f.Page).Find(&rows).Error; err != nil {
		return domain.Page[domain.TimeEntry]{}, translate(err)
	}
	return finishPage(rows, f.Page, (*timeEntryRow).toDomain), nil
}
