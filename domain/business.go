package domain

import (
	"sync"
	"time"
)

// Business is the seller: the name and address printed on documents and the
// settings its rules take (time zone, notice period, targets).
type Business struct {
	Name    string
	Address string
	Email   string
	// TaxID is the business's tax identifier (VAT number), on every invoice.
	TaxID    string
	Timezone string
	// NoticeDays is how long before it takes effect a tougher agreement must be announced.
	NoticeDays int
}

// Location returns the business time zone, UTC if unset.
func (b Business) Location() *time.Location {
	if loc, err := LoadZone(b.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// zones caches loaded time zones: time.LoadLocation parses tzdata on every call.
var zones sync.Map // name -> *time.Location

// LoadZone returns the IANA time zone named, refusing "Local" (which would
// depend on the machine) and "" (which time.LoadLocation takes for UTC).
func LoadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	if name == "" || name == "Local" {
		return nil, Errorf(EINVALID, "time zone %q is not an IANA zone name", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, Errorf(EINVALID, "unknown time zone %q", name)
	}
	zones.Store(name, loc)
	return loc, nil
}
