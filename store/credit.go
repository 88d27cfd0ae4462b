package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

func (r *creditRow) toDomain() domain.CreditEntry {
	e := domain.CreditEntry{ID: r.ID, ClientID: r.ClientID, Kind: r.Kind, Amount: r.Amount, Currency: r.Currency,
		CreatedAt: r.CreatedAt.UTC()}
	if r.InvoiceID != nil {
		e.InvoiceID = *r.InvoiceID
	}
	if r.PaymentID != nil {
		e.PaymentID = *r.PaymentID
	}
	return e
}

// setCreditBalances sets each client's CreditBalance: the sum of its credit
// entries in its own currency, in one query.
func setCreditBalances(tx *gorm.DB, clients ...*domain.Client) error {
	if len(clients) == 0 {
		return nil
	}
	ids := make([]string, len(clients))
	for i, c := range clients {
		ids[i] = c.ID
		c.CreditBalance = new(int64)
	}
	var sums []struct {
		ClientID string
		Currency string
		Total    int64
	}
	if err := tx.Model(&creditRow{}).Select("client_id, currency, COALESCE(SUM(amount), 0) AS total").
		Where("client_id IN ?", ids).Group("client_id, currency").Scan(&sums).Error; err != nil {
		return err
	}
	for _, c := range clients {
		for _, s := range sums {
			if s.ClientID == c.ID && s.Currency == c.Currency {
				*c.CreditBalance = s.Total
			}
		}
	}
	return nil
}

// FindCredits implements domain.ClientService.
func (s *ClientService) FindCredits(ctx context.Context, clientID string,
	p domain.PageParams) (domain.Page[domain.CreditEntry], error) {
	tx := s.db.reader(ctx)
	if _, err := findClient(tx, clientID); err != nil {
		return domain.Page[domain.CreditEntry]{}, err
	}
	var rows []creditRow
	if err := page(tx.Where("client_id = ?", clientID), p).Find(&rows).Error; err != nil {
		return domain.Page[domain.CreditEntry]{}, translate(err)
	}
	return finishPage(rows, p, (*creditRow).toDomain), nil
}
