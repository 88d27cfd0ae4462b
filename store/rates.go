package store

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// referenceRateRow is the reference_rates table.
type referenceRateRow struct {
	Series        string `gorm:"primaryKey"`
	EffectiveFrom string `gorm:"primaryKey"`
	Rate          string
	UpdatedAt     time.Time `gorm:"autoUpdateTime:false"`
}

func (referenceRateRow) TableName() string { return "reference_rates" }

func (r *referenceRateRow) toDomain() domain.RatePoint {
	return domain.RatePoint{EffectiveFrom: dateOf(&r.EffectiveFrom), Rate: r.Rate}
}

// ReferenceRateService implements domain.ReferenceRateService.
type ReferenceRateService struct{ db *DB }

// NewReferenceRateService returns the reference rate service on db.
func NewReferenceRateService(db *DB) *ReferenceRateService { return &ReferenceRateService{db: db} }

// PutRates implements domain.ReferenceRateService.
func (s *ReferenceRateService) PutRates(ctx context.Context, series string, points []domain.RatePoint) ([]domain.RatePoint, error) {
	if err := domain.CheckSeries(series); err != nil {
		return nil, err
	}
	if err := domain.ValidateRatePoints(points); err != nil {
		return nil, err
	}
	now := s.db.now()
	rows := make([]referenceRateRow, len(points))
	for i, p := range points {
		rows[i] = referenceRateRow{Series: series, EffectiveFrom: p.EffectiveFrom.String(), Rate: p.Rate, UpdatedAt: now}
	}
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("series = ?", series).Delete(&referenceRateRow{}).Error; err != nil {
			return err
		}
		// Batches keep each INSERT under SQLite's limit of bound parameters.
		return tx.CreateInBatches(rows, 500).Error
	})
	if err != nil {
		return nil, err
	}
	out := slices.Clone(points)
	sortPoints(out)
	return out, nil
}

// FindRates implements domain.ReferenceRateService.
func (s *ReferenceRateService) FindRates(ctx context.Context, series string) ([]domain.RatePoint, error) {
	if err := domain.CheckSeries(series); err != nil {
		return nil, err
	}
	var rows []referenceRateRow
	if err := s.db.reader(ctx).Where("series = ?", series).Order("effective_from").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]domain.RatePoint, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].toDomain())
	}
	return out, nil
}

// RateTable implements domain.ReferenceRateService.
func (s *ReferenceRateService) RateTable(ctx context.Context) (domain.RateTable, error) {
	var rows []referenceRateRow
	if err := s.db.reader(ctx).Order("series, effective_from").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	t := domain.RateTable{}
	for i := range rows {
		t[rows[i].Series] = append(t[rows[i].Series], rows[i].toDomain())
	}
	return t, nil
}

// sortPoints orders points by date, oldest first.
func sortPoints(points []domain.RatePoint) {
	slices.SortFunc(points, func(a, b domain.RatePoint) int {
		switch {
		case a.EffectiveFrom.Before(b.EffectiveFrom):
			return -1
		case a.EffectiveFrom.After(b.EffectiveFrom):
			return 1
		}
		return 0
	})
}
