package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/remit/remit/internal/apiclient"
)

// TestGeneratedClient drives a live server with nothing but the client that
// oapi-codegen generates from api/openapi.yaml (internal/apiclient): it
// creates a client with an agreement and one without, issues an invoice to
// each, pays one, and walks every page of the invoice list. Each exchange
// is also checked against the document (the client's transport is
// s.client).
func TestGeneratedClient(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-02"))
	ctx := context.Background()
	api, err := apiclient.NewClientWithResponses(s.URL(),
		apiclient.WithHTTPClient(s.client),
		apiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+testAdminKey)
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) *openapi_types.Date {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return &openapi_types.Date{Time: d}
	}
	ptr := func(s string) *string { return &s }

	newClient := func(name string) apiclient.Client {
		t.Helper()
		r, err := api.CreateClientWithResponse(ctx, nil, apiclient.ClientCreate{Name: name, Email: "ap@example.com", Currency: "EUR"})
		if err != nil || r.JSON201 == nil {
			t.Fatalf("create client %s: %v %d %s", name, err, r.StatusCode(), r.Body)
		}
		return *r.JSON201
	}
	agreed, bare := newClient("Agreed Ltd"), newClient("Bare Ltd")
	if agreed.Status != apiclient.ClientStatusActive || agreed.Currency != "EUR" {
		t.Fatalf("client %+v", agreed)
	}
	ag, err := api.CreateAgreementWithResponse(ctx, agreed.Id, nil, apiclient.AgreementInput{
		EffectiveFrom: *day("2026-03-01"), PaymentTerms: ptr("net_15"), LateFee: &apiclient.LateFee{Flat: ptr64(2500)}})
	if err != nil || ag.JSON201 == nil {
		t.Fatalf("create agreement: %v %d %s", err, ag.StatusCode(), ag.Body)
	}
	if ag.JSON201.Version != 1 || ag.JSON201.LateFee == nil || *ag.JSON201.LateFee.Flat != 2500 || ag.JSON201.Interest != nil {
		t.Fatalf("agreement %+v", ag.JSON201)
	}

	issue := func(c apiclient.Client, amount int64) apiclient.Invoice {
		t.Helper()
		yes := true
		r, err := api.CreateInvoiceWithResponse(ctx, nil, apiclient.InvoiceCreate{ClientId: c.Id, Issue: &yes,
			Lines: []apiclient.LineInput{{Description: "Work", Quantity: ptr("2"), UnitAmount: amount}}})
		if err != nil || r.JSON201 == nil {
			t.Fatalf("create invoice: %v %d %s", err, r.StatusCode(), r.Body)
		}
		return *r.JSON201
	}
	withTerms := issue(agreed, 50000)
	if withTerms.Status != apiclient.InvoiceStatusOpen || withTerms.Total != 100000 || withTerms.Agreement == nil ||
		withTerms.Agreement.Id != ag.JSON201.Id || *withTerms.TermsSource != apiclient.InvoiceTermsSourceAgreement ||
		withTerms.DefaultTerms != nil || withTerms.DueDate.Format(time.DateOnly) != "2026-03-17" {
		t.Fatalf("invoice under an agreement %+v", withTerms)
	}
	byDefault := issue(bare, 30000)
	if byDefault.Agreement != nil || *byDefault.TermsSource != apiclient.InvoiceTermsSourceDefault || byDefault.DefaultTerms == nil ||
		byDefault.DefaultTerms.PaymentTerms != "net_30" || byDefault.DefaultTerms.LateFee != nil || byDefault.Number != "INV-2026-0002" {
		t.Fatalf("invoice under default terms %+v", byDefault)
	}

	paid, err := api.CreatePaymentWithResponse(ctx, withTerms.Id, nil, apiclient.CreatePaymentJSONRequestBody{Amount: 100000, PaidOn: day("2026-03-02")})
	if err != nil || paid.JSON201 == nil {
		t.Fatalf("pay: %v %d %s", err, paid.StatusCode(), paid.Body)
	}
	if paid.JSON201.Amount != 100000 || paid.JSON201.Allocation.Principal != 100000 {
		t.Fatalf("payment %+v", paid.JSON201)
	}
	got, err := api.GetInvoiceWithResponse(ctx, withTerms.Id)
	if err != nil || got.JSON200 == nil || got.JSON200.Status != apiclient.InvoiceStatusPaid || got.JSON200.BalanceDue != 0 ||
		got.JSON200.PaidOn.Format(time.DateOnly) != "2026-03-02" {
		t.Fatalf("paid invoice: %v %s", err, got.Body)
	}

	// Eleven invoices in all, listed three to a page, newest first.
	want := []string{byDefault.Id, withTerms.Id}
	for i := range 9 {
		want = append([]string{issue(bare, int64(1000+i)).Id}, want...)
	}
	var seen []string
	limit := 3
	params := &apiclient.ListInvoicesParams{Limit: &limit}
	for pages := 1; ; pages++ {
		r, err := api.ListInvoicesWithResponse(ctx, params)
		if err != nil || r.JSON200 == nil {
			t.Fatalf("page %d: %v %d %s", pages, err, r.StatusCode(), r.Body)
		}
		for _, inv := range r.JSON200.Data {
			seen = append(seen, inv.Id)
		}
		if !r.JSON200.HasMore {
			if pages != 4 {
				t.Fatalf("%d pages, want 4", pages)
			}
			break
		}
		last := r.JSON200.Data[len(r.JSON200.Data)-1].Id
		params.StartingAfter = &last
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("pages hold\n%v\nwant\n%v", seen, want)
	}

	// An error comes back typed too.
	missing, err := api.GetInvoiceWithResponse(ctx, "inv_missing")
	if err != nil || missing.JSONDefault == nil || missing.StatusCode() != 404 || missing.JSONDefault.Error.Code != apiclient.ErrorCodeNotFound {
		t.Fatalf("missing invoice: %v %d %s", err, missing.StatusCode(), missing.Body)
	}
}

func ptr64(v int64) *int64 { return &v }
