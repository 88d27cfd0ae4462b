package store_test

import (
	"context"
	"testing"

	"github.com/remit/remit/domain"
	"github.com/remit/remit/store"
)

// TestAcceptance: a version enforced only once accepted holds its fees and
// interest back from the ledger (quotes and payments alike) until the
// client accepts it; then what is due is posted by the next write.
func TestAcceptance(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newLateFixture(t, db, domain.Agreement{EffectiveFrom: domain.MustParseDate("2026-01-01"), PaymentTerms: domain.TermsNet30,
			LateFee: &domain.LateFee{Flat: 2500}, Interest: &domain.InterestTerms{AnnualRate: "12"},
			RequireAcceptance: true, EnforceOnlyIfAccepted: true})
		inv := f.issue("2026-01-01", 100000)
		f.at("2026-03-01")
		f.pay(inv.ID, 10000, "2026-02-15", "p1")
		q, err := f.invoices.Quote(ctx, inv.ID, domain.MustParseDate("2026-03-01"))
		if err != nil || q.Payoff != 90000 {
			t.Fatalf("payoff before acceptance: %+v, %v", q, err)
		}
		clients := store.NewClientService(db)
		pending, err := clients.FindClients(ctx, domain.ClientFilter{AcceptancePending: true, Page: domain.PageParams{Limit: 10}})
		if err != nil || len(pending.Data) != 1 || pending.Data[0].ID != f.clientID {
			t.Fatalf("pending: %+v, %v", pending, err)
		}

		ags := store.NewAgreementService(db, domain.Business{NoticeDays: 30})
		list, err := ags.FindAgreements(ctx, f.clientID)
		if err != nil || len(list) != 1 || list[0].Acceptance != nil {
			t.Fatalf("versions: %+v, %v", list, err)
		}
		text := domain.AcceptanceText(list[0], "EUR")
		if _, err := ags.AcceptAgreement(ctx, "cli_other", list[0].ID, domain.Acceptance{Name: "X"}); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("another client's version: %v", err)
		}
		got, err := ags.AcceptAgreement(ctx, f.clientID, list[0].ID, domain.Acceptance{Name: "Jana Novak", IPAddress: "192.0.2.1",
			UserAgent: "test", TermsSHA256: domain.LinkTokenHash(text), TermsText: text})
		if err != nil || got.Acceptance == nil || got.Acceptance.Name != "Jana Novak" || !got.Acceptance.AcceptedAt.Equal(f.now) {
			t.Fatalf("accept: %+v, %v", got, err)
		}
		if _, err := ags.AcceptAgreement(ctx, f.clientID, list[0].ID, domain.Acceptance{Name: "Again"}); domain.ErrorCode(err) != domain.ECONFLICT {
			t.Fatalf("accepting twice: %v", err)
		}
		inForce, err := ags.AgreementInForce(ctx, f.clientID, domain.MustParseDate("2026-03-01"))
		if err != nil || inForce.Acceptance == nil || inForce.Acceptance.TermsText != text || inForce.Acceptance.IPAddress != "192.0.2.1" {
			t.Fatalf("in force: %+v, %v", inForce, err)
		}
		pending, err = clients.FindClients(ctx, domain.ClientFilter{AcceptancePending: true, Page: domain.PageParams{Limit: 10}})
		if err != nil || len(pending.Data) != 0 {
			t.Fatalf("pending after acceptance: %+v, %v", pending, err)
		}

		// Accepted, the terms apply from the start: the payment of 100.00 on
		// Feb 15 pays the late fee of 25.00 first (charges first), leaving
		// 925.00 of principal; interest at 12 % on 1,000.00 for Feb 1-15
		// (4.9315) and on 925.00 for Feb 16-28 (3.9534): 8.88 posted on
		// March 1st, + March 1st's 0.30.
		q, err = f.invoices.Quote(ctx, inv.ID, domain.MustParseDate("2026-03-01"))
		if err != nil || q.Payoff != 92500+888+30 || q.PrincipalOutstanding != 92500 {
			t.Fatalf("payoff after acceptance: %+v, %v", q, err)
		}
		f.pay(inv.ID, 100, "2026-03-01", "p2")
		charges, err := f.invoices.FindCharges(ctx, inv.ID)
		if err != nil || len(charges) != 2 {
			t.Fatalf("charges after acceptance: %+v, %v", charges, err)
		}
	})
}
