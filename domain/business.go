package domain

import "time"

// Business is the seller: the name and address printed on documents and the
// settings its rules take (time zone, notice period, targets).
type Business struct {
	Name     string
	Address  string
	Email    string
	Timezone string
	// NoticeDays is how long before it takes effect a tougher agreement must be announced.
	NoticeDays int
}

// Location returns the business time zone, UTC if unset.
func (b Business) Location() *time.Location {
	if loc, err := time.LoadLocation(b.Timezone); err == nil {
		return loc
	}
	return time.UTC
}
