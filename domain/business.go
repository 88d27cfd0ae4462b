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
	// Language is a new client's language when none is given (REMIT_LANGUAGE).
	Language string
	// Bank is where a client pays by transfer (REMIT_BUSINESS_BANK_*).
	Bank BankDetails
}

// BankDetails are the business's account for payments by bank transfer.
type BankDetails struct {
	AccountHolder string
	BankName      string
	IBAN          string
	BIC           string
	// AccountNumber and SortCode (or routing number) for accounts without an IBAN.
	AccountNumber string
	SortCode      string
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
