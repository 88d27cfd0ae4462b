package domain_test

import (
	"encoding/json"
	"testing"

	"github.com/remit/remit/domain"
)

// TestInvoiceJSONTellsTermsApart: a draft has no terms yet, an invoice
// issued under DefaultAgreement shows them as default_terms with agreement
// null, and one issued under a version shows that version.
func TestInvoiceJSONTellsTermsApart(t *testing.T) {
	def := domain.DefaultAgreement()
	version := domain.Agreement{ID: "agr_1", ClientID: "cli_1", Version: 2, EffectiveFrom: domain.NewDate(2026, 1, 1), PaymentTerms: "net_15",
		ReminderOffsets: []int{}, Allocation: domain.AllocationChargesFirst}
	for _, tc := range []struct {
		name      string
		agreement *domain.Agreement
		want      string // agreement, terms_source, default_terms
	}{
		{"draft", nil, `null null null`},
		{"default terms", &def, `null "default" {"payment_terms":"net_30","grace_days":0,"late_fee":null,"interest":null,` +
			`"fixed_compensation":0,"reminder_offsets":[-3,0,7,14,30],"suspension":null,"allocation":"charges_first","milestones":null}`},
		{"an agreement version", &version, `{"id":"agr_1","client_id":"cli_1","version":2,"effective_from":"2026-01-01",` +
			`"payment_terms":"net_15","grace_days":0,"late_fee":null,"interest":null,"fixed_compensation":0,"reminder_offsets":[],` +
			`"suspension":null,"allocation":"charges_first","milestones":null,"require_acceptance":false,"enforce_only_if_accepted":false,"acceptance":null,"created_at":"0001-01-01T00:00:00Z"} "agreement" null`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(domain.Invoice{ID: "inv_1", Status: domain.InvoiceStatusOpen, Agreement: tc.agreement})
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if got := string(m["agreement"]) + " " + string(m["terms_source"]) + " " + string(m["default_terms"]); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			if string(m["id"]) != `"inv_1"` || string(m["status"]) != `"open"` {
				t.Fatalf("the rest of the invoice is lost: %s", b)
			}
		})
	}
}
