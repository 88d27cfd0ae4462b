package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

func point(date, rate string) domain.RatePoint {
	return domain.RatePoint{EffectiveFrom: domain.MustParseDate(date), Rate: rate}
}

func TestReferenceRates(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewReferenceRateService(db)

		if got, err := s.FindRates(ctx, domain.SeriesECBMRO); err != nil || len(got) != 0 {
			t.Fatalf("empty series: %v %v", got, err)
		}
		// Given out of order, stored and returned oldest first.
		put, err := s.PutRates(ctx, domain.SeriesECBMRO, []domain.RatePoint{
			point("2025-06-11", "2.15"), point("2024-09-18", "3.65"), point("2025-03-12", "2.65"),
		})
		want := []domain.RatePoint{point("2024-09-18", "3.65"), point("2025-03-12", "2.65"), point("2025-06-11", "2.15")}
		if err != nil || !reflect.DeepEqual(put, want) {
			t.Fatalf("put: %v %v", put, err)
		}
		if got, err := s.FindRates(ctx, domain.SeriesECBMRO); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("find: %v %v", got, err)
		}

		// A second PUT replaces the series; other series stay.
		if _, err := s.PutRates(ctx, domain.SeriesCBRKey, []domain.RatePoint{point("2025-10-27", "16.5"), point("2022-02-28", "20")}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutRates(ctx, domain.SeriesECBMRO, []domain.RatePoint{point("2014-06-11", "-0.1"), point("2025-06-11", "2.15")}); err != nil {
			t.Fatal(err)
		}
		table, err := s.RateTable(ctx)
		wantTable := domain.RateTable{
			domain.SeriesECBMRO: {point("2014-06-11", "-0.1"), point("2025-06-11", "2.15")},
			domain.SeriesCBRKey: {point("2022-02-28", "20"), point("2025-10-27", "16.5")},
		}
		if err != nil || !reflect.DeepEqual(table, wantTable) {
			t.Fatalf("table: %v %v", table, err)
		}
		if r, err := table.RateOn(domain.SeriesECBMRO, domain.MustParseDate("2025-01-01")); err != nil || r.RatString() != "-1/10" {
			t.Fatalf("rate on 2025-01-01: %v %v", r, err)
		}

		// Refused input changes nothing.
		_, err = s.PutRates(ctx, domain.SeriesECBMRO, []domain.RatePoint{point("2026-01-01", "2"), point("2026-02-01", "abc")})
		if de := asError(err); de == nil || de.Code != domain.EINVALID || de.Fields["rates[1].rate"] == "" {
			t.Fatalf("bad rate: %v", err)
		}
		_, err = s.PutRates(ctx, domain.SeriesECBMRO, []domain.RatePoint{point("2026-01-01", "2"), point("2026-01-01", "3")})
		if de := asError(err); de == nil || de.Fields["rates[1].effective_from"] == "" {
			t.Fatalf("duplicate date: %v", err)
		}
		if _, err := s.PutRates(ctx, "FED_FUNDS", []domain.RatePoint{point("2026-01-01", "4")}); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("unknown series: %v", err)
		}
		if _, err := s.FindRates(ctx, "FED_FUNDS"); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("unknown series: %v", err)
		}
		if again, _ := s.RateTable(ctx); !reflect.DeepEqual(again, wantTable) {
			t.Fatalf("a refused PUT changed the table: %v", again)
		}
	})
}

// asError returns err as a *domain.Error, or nil.
func asError(err error) *domain.Error {
	de, _ := err.(*domain.Error)
	return de
}
