package domain

import (
	"context"
	"strconv"
	"time"
)

// Limits on time entries.
const (
	// MaxMinutesPerEntry is one full day: an entry is the time of one day.
	MaxMinutesPerEntry = 24 * 60
	// MaxBulkTimeEntries is how many entries one bulk import may carry.
	MaxBulkTimeEntries = 1000
	// MaxExternalIDLen bounds the idempotency id a time tracker sends.
	MaxExternalIDLen = 200
	// MaxRefLen bounds ids that point at other resources (project_id).
	MaxRefLen = 64
)

// TimeEntry is time spent for a client on one day: what it cost us, to set
// against what the client pays.
type TimeEntry struct {
	ID          string `json:"id"`
	ClientID    string `json:"client_id"`
	ProjectID   string `json:"project_id,omitempty"`
	Date        Date   `json:"date"`
	Minutes     int    `json:"minutes"`
	Description string `json:"description"`
	Billable    bool   `json:"billable"`
	// ExternalID is the sender's id of the entry: a second import of the
	// same id by the same API key finds this entry instead of adding one.
	ExternalID string    `json:"external_id,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// TimeEntryInput is an entry as a caller sends it. Billable nil means true.
type TimeEntryInput struct {
	ClientID    string
	ProjectID   string
	Date        Date
	Minutes     int
	Description string
	Billable    *bool
	ExternalID  string
}

// IsBillable returns Billable, true when unset.
func (in TimeEntryInput) IsBillable() bool { return in.Billable == nil || *in.Billable }

// Matches reports whether e records the same time as in: a re-sent entry
// that matches is the same entry, one that does not is a conflict.
func (in TimeEntryInput) Matches(e *TimeEntry) bool {
	return e.ClientID == in.ClientID && e.ProjectID == in.ProjectID && e.Date == in.Date &&
		e.Minutes == in.Minutes && e.Description == in.Description && e.Billable == in.IsBillable()
}

// validate records the entry's problems in f under prefix ("" or
// "entries[3]."). latest is the latest date anywhere on Earth now: an entry
// may not be for a day that has not begun.
func (in TimeEntryInput) validate(f FieldErrors, prefix string, latest Date) {
	if in.ClientID == "" {
		f.Add(prefix+"client_id", "is required")
	} else if len(in.ClientID) > MaxRefLen {
		f.Add(prefix+"client_id", "must be a client id")
	}
	if len(in.ProjectID) > MaxRefLen {
		f.Add(prefix+"project_id", "must be a project id")
	}
	switch {
	case in.Date.IsZero():
		f.Add(prefix+"date", "is required (YYYY-MM-DD)")
	case in.Date.After(latest):
		f.Add(prefix+"date", "must not be in the future")
	case in.Date.Year() < 2000:
		f.Add(prefix+"date", "must be in the year 2000 or later")
	}
	if in.Minutes <= 0 || in.Minutes > MaxMinutesPerEntry {
		f.Add(prefix+"minutes", "must be an integer from 1 to %d (one day)", MaxMinutesPerEntry)
	}
	checkLines(f, prefix+"description", in.Description, MaxTextLen, false)
	checkText(f, prefix+"external_id", in.ExternalID, MaxExternalIDLen, false)
}

// ValidateTimeEntries checks a batch of 1 to MaxBulkTimeEntries entries and
// returns one EINVALID error naming every bad field (entries[3].minutes when
// bulk, minutes alone when not). An external_id may appear once per batch.
func ValidateTimeEntries(in []TimeEntryInput, bulk bool, latest Date) error {
	f := FieldErrors{}
	switch {
	case len(in) == 0:
		f.Add("entries", "at least one entry is required")
	case len(in) > MaxBulkTimeEntries:
		f.Add("entries", "at most %d entries per request; send the rest in another", MaxBulkTimeEntries)
		return f.Err()
	}
	seen := map[string]int{}
	for i, e := range in {
		prefix := ""
		if bulk {
			prefix = "entries[" + strconv.Itoa(i) + "]."
		}
		e.validate(f, prefix, latest)
		if e.ExternalID == "" {
			continue
		}
		if j, ok := seen[e.ExternalID]; ok {
			f.Add(prefix+"external_id", "repeats entries[%d].external_id", j)
		}
		seen[e.ExternalID] = i
	}
	return f.Err()
}

// TimeEntryFilter selects time entries for a list; zero fields select all.
type TimeEntryFilter struct {
	ClientID  string
	ProjectID string
	From, To  Date
	Page      PageParams
}

// TimeEntryImport is what an import did: every entry in the order sent, and
// how many of them are new.
type TimeEntryImport struct {
	Entries []TimeEntry
	Created int
}

// TimeEntryService stores time entries.
type TimeEntryService interface {
	// CreateTimeEntries stores the entries, all or none. An entry whose
	// ExternalID the same API key (keyID) sent before is not stored again:
	// the first one is returned in its place. Returns EINVALID (fields
	// named entries[i].field when bulk), ECLIENTOFFBOARDED, ECONFLICT when
	// an external_id was sent before with other values.
	CreateTimeEntries(ctx context.Context, keyID string, in []TimeEntryInput, bulk bool) (TimeEntryImport, error)
	// FindTimeEntries lists entries, newest first. Returns EINVALID.
	FindTimeEntries(ctx context.Context, f TimeEntryFilter) (Page[TimeEntry], error)
}
