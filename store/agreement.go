package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/remit/remit/domain"
)

// agreementRow is the agreements table; Terms is the JSON of domain.Agreement.
type agreementRow struct {
	ID            string
	ClientID      string
	Version       int
	EffectiveFrom string
	Terms         string
	// RequireAcceptance repeats the terms' require_acceptance, for
	// GET /v1/clients?acceptance=pending.
	RequireAcceptance bool
	CreatedAt         time.Time
}

func (agreementRow) TableName() string { return "agreements" }

// acceptanceRow is the agreement_acceptances table.
type acceptanceRow struct {
	AgreementID string `gorm:"primaryKey"`
	ClientID    string
	AcceptedAt  time.Time
	Name        string
	IPAddress   string
	UserAgent   string
	TermsSHA256 string `gorm:"column:terms_sha256"`
	TermsText   string
}

func (acceptanceRow) TableName() string { return "agreement_acceptances" }

func (r *acceptanceRow) toDomain() *domain.Acceptance {
	return &domain.Acceptance{AcceptedAt: r.AcceptedAt.UTC(), Name: r.Name, IPAddress: r.IPAddress, UserAgent: r.UserAgent,
		TermsSHA256: r.TermsSHA256, TermsText: r.TermsText}
}

// withAcceptances returns copies of the versions (which may be shared
// values of the terms cache) with their acceptances.
func withAcceptances(tx *gorm.DB, ags []domain.Agreement) ([]domain.Agreement, error) {
	var ids []string
	for _, a := range ags {
		if a.RequireAcceptance && a.ID != "" {
			ids = append(ids, a.ID)
		}
	}
	if len(ids) == 0 {
		return ags, nil
	}
	var rows []acceptanceRow
	if err := tx.Where("agreement_id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := slices.Clone(ags)
	for i := range rows {
		for j := range out {
			if out[j].ID == rows[i].AgreementID {
				out[j].Acceptance = rows[i].toDomain()
			}
		}
	}
	return out, nil
}

// accepted reports which of the versions were accepted.
func acceptedVersions(tx *gorm.DB, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var got []string
	if err := tx.Model(&acceptanceRow{}).Where("agreement_id IN ?", ids).Pluck("agreement_id", &got).Error; err != nil {
		return nil, err
	}
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}

// enforced returns the terms the ledger applies to an invoice issued under
// ag: ag, or ag without fees and interest while it awaits an acceptance
// it is enforced only with.
func enforced(tx *gorm.DB, ag domain.Agreement) (domain.Agreement, error) {
	if !ag.EnforceOnlyIfAccepted {
		return ag, nil
	}
	ok, err := acceptedVersions(tx, []string{ag.ID})
	if err != nil {
		return ag, err
	}
	return ag.HeldBack(ok[ag.ID]), nil
}

func (r *agreementRow) toDomain() (domain.Agreement, error) {
	var a domain.Agreement
	if err := json.Unmarshal([]byte(r.Terms), &a); err != nil {
		return a, err
	}
	a.ID, a.ClientID, a.Version, a.CreatedAt = r.ID, r.ClientID, r.Version, r.CreatedAt.UTC()
	return a, nil
}

// AgreementService implements domain.AgreementService.
type AgreementService struct {
	db       *DB
	business domain.Business
}

// NewAgreementService returns the agreement service; business supplies the
// notice period.
func NewAgreementService(db *DB, business domain.Business) *AgreementService {
	return &AgreementService{db: db, business: business}
}

// CreateAgreement implements domain.AgreementService.
func (s *AgreementService) CreateAgreement(ctx context.Context, clientID string, a domain.Agreement) (*domain.Agreement, error) {
	var out domain.Agreement
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		c, err := findClient(tx, clientID)
		if err != nil {
			return err
		}
		if c.Status == domain.ClientOffboarded {
			return domain.Conflictf(domain.ECLIENTOFFBOARDED, "client %s is offboarded and read-only", c.ID)
		}
		if a.EffectiveFrom.IsZero() {
			return &domain.Error{Code: domain.EINVALID, Message: "effective_from: is required (YYYY-MM-DD)",
				Fields: map[string]string{"effective_from": "is required (YYYY-MM-DD)"}}
		}
		a = a.WithDefaults()
		if err := a.Validate(c.Currency); err != nil {
			return err
		}
		prev, err := agreementInForce(tx, clientID, a.EffectiveFrom)
		if err != nil {
			return err
		}
		raises := domain.RaisesBurden(prev, a)
		if raises {
			var issued int64
			if err := tx.Model(&invoiceRow{}).Where("client_id = ? AND status <> ?", clientID, domain.InvoiceStatusDraft).Count(&issued).Error; err != nil {
				return err
			}
			today := domain.DateOf(s.db.now(), c.Location())
			earliest := today.AddDays(s.business.NoticeDays)
			if issued > 0 && a.EffectiveFrom.Before(earliest) {
				return domain.Unprocessablef(domain.ENOTICEPERIOD,
					"this version adds or raises fees, interest, compensation or suspension for a client with issued invoices: it must take effect on or after %s (%d days' notice)",
					earliest, s.business.NoticeDays)
			}
		}
		var last int
		if err := tx.Model(&agreementRow{}).Where("client_id = ?", clientID).Select("COALESCE(MAX(version), 0)").Scan(&last).Error; err != nil {
			return err
		}
		a.ID, a.ClientID, a.Version, a.CreatedAt = s.db.newID("agr"), clientID, last+1, s.db.now()
		terms, err := json.Marshal(a)
		if err != nil {
			return err
		}
		row := agreementRow{ID: a.ID, ClientID: clientID, Version: a.Version, EffectiveFrom: a.EffectiveFrom.String(), Terms: string(terms),
			RequireAcceptance: a.RequireAcceptance, CreatedAt: a.CreatedAt}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := s.db.emit(ctx, tx, "agreement.created", clientID, "", a, false); err != nil {
			return err
		}
		// The first version is told as the terms themselves (first: true,
		// no previous terms the client never agreed to); a later one as a
		// change, when it raises the burden.
		if first := last == 0; raises || first {
			notice := map[string]any{
				"agreement":      a,
				"effective_from": a.EffectiveFrom,
				"terms":          domain.DescribeTerms(a, c.Currency, domain.Date{}),
			}
			if first {
				notice["first"] = true
			} else {
				notice["previous"] = prev
			}
			if err := s.db.emit(ctx, tx, "agreement.notice", clientID, "", notice, true); err != nil {
				return err
			}
		}
		out = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// FindAgreements implements domain.AgreementService.
func (s *AgreementService) FindAgreements(ctx context.Context, clientID string) ([]domain.Agreement, error) {
	tx := s.db.reader(ctx)
	if _, err := findClient(tx, clientID); err != nil {
		return nil, err
	}
	var rows []agreementRow
	if err := tx.Where("client_id = ?", clientID).Order("version ASC").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.Agreement, 0, len(rows))
	for i := range rows {
		a, err := rows[i].toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	out, err := withAcceptances(tx, out)
	return out, translate(err)
}

// AgreementInForce implements domain.AgreementService.
func (s *AgreementService) AgreementInForce(ctx context.Context, clientID string, day domain.Date) (domain.Agreement, error) {
	tx := s.db.reader(ctx)
	if _, err := findClient(tx, clientID); err != nil {
		return domain.Agreement{}, err
	}
	ag, err := agreementInForce(tx, clientID, day)
	if err != nil {
		return ag, err
	}
	list, err := withAcceptances(tx, []domain.Agreement{ag})
	if err != nil {
		return ag, translate(err)
	}
	return list[0], nil
}

// AcceptAgreement implements domain.AgreementService.
func (s *AgreementService) AcceptAgreement(ctx context.Context, clientID, agreementID string, acc domain.Acceptance) (*domain.Agreement, error) {
	var out domain.Agreement
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		var r agreementRow
		if err := tx.Where("id = ? AND client_id = ?", agreementID, clientID).Take(&r).Error; err != nil {
			return err
		}
		ag, err := r.toDomain()
		if err != nil {
			return err
		}
		if !ag.RequireAcceptance {
			return domain.Conflictf(domain.ECONFLICT, "agreement %s asks for no acceptance", agreementID)
		}
		acc.AcceptedAt = s.db.now()
		row := acceptanceRow{AgreementID: ag.ID, ClientID: clientID, AcceptedAt: acc.AcceptedAt, Name: acc.Name, IPAddress: acc.IPAddress,
			UserAgent: acc.UserAgent, TermsSHA256: acc.TermsSHA256, TermsText: acc.TermsText}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.Conflictf(domain.ECONFLICT, "agreement %s is accepted already", agreementID)
		}
		ag.Acceptance = row.toDomain()
		if ag.EnforceOnlyIfAccepted {
			// What was held back is due now: the next sweep looks at the
			// client's open invoices today.
			today := domain.DateOf(acc.AcceptedAt, time.UTC).AddDays(-1).String()
			if err := tx.Model(&invoiceRow{}).Where("client_id = ? AND status = ? AND (next_action_on IS NULL OR next_action_on > ?)",
				clientID, domain.InvoiceStatusOpen, today).Update("next_action_on", today).Error; err != nil {
				return err
			}
		}
		out = ag
		return s.db.emit(ctx, tx, domain.EventAgreementAccepted, clientID, "", ag, true)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// agreementInForce returns the latest version effective on or before day, or
// the default agreement. The value is shared: read only.
func agreementInForce(tx *gorm.DB, clientID string, day domain.Date) (domain.Agreement, error) {
	ag, _, err := agreementTerms(tx, clientID, day)
	return ag, err
}

// agreementTerms is agreementInForce that also returns the JSON an invoice
// issued under the version stores.
func agreementTerms(tx *gorm.DB, clientID string, day domain.Date) (domain.Agreement, string, error) {
	var r agreementRow
	err := rawScan(tx, `SELECT id, client_id, version, effective_from, terms, created_at FROM agreements
		WHERE client_id = ? AND effective_from <= ? ORDER BY effective_from DESC, version DESC LIMIT 1`,
		[]any{clientID, day.String()}, &r.ID, &r.ClientID, &r.Version, &r.EffectiveFrom, &r.Terms, &r.CreatedAt)
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		r = agreementRow{} // the default agreement, cached under ""
	case err != nil:
		return domain.Agreement{}, "", err
	}
	return parsedTerms.version(&r)
}

// termsCache memoizes the decoding of agreement JSON. Versions never change
// once written and every invoice carries the JSON of the version it was
// issued under, so the same few texts are decoded again and again by
// payments, the sweep and every read of an invoice. Values are shared and
// must be treated as read only.
type termsCache struct {
	mu     sync.RWMutex
	byJSON map[string]domain.Agreement
	// byID holds each version (the default agreement under "") with the
	// JSON an invoice issued under it stores.
	byID map[string]issuedTerms
}

type issuedTerms struct {
	ag   domain.Agreement
	json string
}

// termsCacheSize bounds each map; a full map is emptied and refilled.
const termsCacheSize = 4096

// parsedTerms is the process's cache: a memo of pure functions of
// immutable texts, so one per process serves every database.
var parsedTerms = &termsCache{byJSON: map[string]domain.Agreement{}, byID: map[string]issuedTerms{}}

// parse decodes the JSON of an agreement.
func (c *termsCache) parse(text string) (domain.Agreement, error) {
	c.mu.RLock()
	a, ok := c.byJSON[text]
	c.mu.RUnlock()
	if ok {
		return a, nil
	}
	if err := json.Unmarshal([]byte(text), &a); err != nil {
		return domain.Agreement{}, err
	}
	c.mu.Lock()
	if len(c.byJSON) >= termsCacheSize {
		clear(c.byJSON)
	}
	c.byJSON[text] = a
	c.mu.Unlock()
	return a, nil
}

// version returns the agreement of a row (the default agreement for a zero
// row) and the JSON an invoice stores of it.
func (c *termsCache) version(r *agreementRow) (domain.Agreement, string, error) {
	c.mu.RLock()
	t, ok := c.byID[r.ID]
	c.mu.RUnlock()
	if ok {
		return t.ag, t.json, nil
	}
	ag := domain.DefaultAgreement()
	if r.ID != "" {
		var err error
		if ag, err = r.toDomain(); err != nil {
			return ag, "", err
		}
	}
	b, err := json.Marshal(ag)
	if err != nil {
		return ag, "", err
	}
	t = issuedTerms{ag: ag, json: string(b)}
	c.mu.Lock()
	if len(c.byID) >= termsCacheSize {
		clear(c.byID)
	}
	c.byID[r.ID] = t
	c.mu.Unlock()
	return t.ag, t.json, nil
}
