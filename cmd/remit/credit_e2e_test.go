package main

import (
	"testing"

	"github.com/remit/remit/internal/testdb"
)

// TestClientCreditEndToEnd: GET /v1/clients/{id} shows credit_balance and
// GET /v1/clients/{id}/credit lists the credit entries newest first in
// cursor pages (issue 14, item 5).
func TestClientCreditEndToEnd(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s := MustRunMain(t, pinned("2026-03-02"), func(c *Config) { c.DatabaseURL = testdb.URL(t, dialect) })
			cli := s.mustClient("Prepaid Ltd", "EUR", "Europe/Berlin")
			client := "/v1/clients/" + cli
			if c := s.must(200, request{Method: "GET", Path: client}); c["credit_balance"] != float64(0) {
				t.Fatalf("a new client: %v", c)
			}
			lines := []map[string]any{{"description": "Work", "unit_amount": 10000}}
			inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "lines": lines}})
			pay := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + inv["id"].(string) + "/payments", Body: map[string]any{"amount": 25000}})
			s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "lines": lines}})
			if c := s.must(200, request{Method: "GET", Path: client}); num(c, "credit_balance") != 5000 {
				t.Fatalf("after 150.00 overpaid and 100.00 applied: %v", c)
			}
			list := s.must(200, request{Method: "GET", Path: "/v1/clients?limit=5"})
			if c := list["data"].([]any)[0].(map[string]any); num(c, "credit_balance") != 5000 {
				t.Fatalf("listed %v", c)
			}

			page := s.must(200, request{Method: "GET", Path: client + "/credit?limit=1"})
			data := page["data"].([]any)
			newest := data[0].(map[string]any)
			if len(data) != 1 || page["has_more"] != true || newest["kind"] != "applied" || num(newest, "amount") != -10000 ||
				newest["currency"] != "EUR" || newest["client_id"] != cli {
				t.Fatalf("first page %v", page)
			}
			page = s.must(200, request{Method: "GET", Path: client + "/credit?limit=1&starting_after=" + newest["id"].(string)})
			data = page["data"].([]any)
			oldest := data[0].(map[string]any)
			if len(data) != 1 || page["has_more"] != false || oldest["kind"] != "overpayment" || num(oldest, "amount") != 15000 ||
				oldest["payment_id"] != pay["id"] || oldest["invoice_id"] != inv["id"] {
				t.Fatalf("second page %v", page)
			}
			s.refused(404, "not_found", "", request{Method: "GET", Path: "/v1/clients/cli_nope/credit"})
			s.refused(400, "invalid", "limit", request{Method: "GET", Path: client + "/credit?limit=0"})
		})
	}
}
