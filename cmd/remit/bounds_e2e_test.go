package main

import (
	"testing"
)

// TestDateBounds: every date the API takes lies between 10 years before
// today and 1 year after (a milestone's planned date up to 5 years after);
// anything else is a 400 naming the field, and nothing is written
// (ENFORCEMENT.md section 2, issue 14 item 4).
func TestDateBounds(t *testing.T) {
	s := MustRunMain(t, pinned("2026-12-03"), withStripe("http://127.0.0.1:9"))
	cli := s.mustClient("Bounds Ltd", "EUR", "Europe/Berlin")
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{"effective_from": "2016-12-03"}})
	lines := []map[string]any{{"description": "Work", "unit_amount": 10000}}
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "issue_date": "2016-12-03", "lines": lines}})
	invPath := "/v1/invoices/" + inv["id"].(string)
	pay := s.must(201, request{Method: "POST", Path: invPath + "/payments", Body: map[string]any{"amount": 100, "paid_on": "2016-12-03"}})
	draft := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "lines": lines}})
	stage := func(planned string) map[string]any {
		return map[string]any{"name": "Design", "amount": 1000, "planned_date": planned}
	}
	p := s.must(201, request{Method: "POST", Path: "/v1/projects", Body: map[string]any{"client_id": cli, "name": "Site",
		"milestones": []any{stage("2031-12-03")}}})
	prj := "/v1/projects/" + p["id"].(string)
	entry := func(date string) map[string]any {
		return map[string]any{"client_id": cli, "date": date, "minutes": 60, "description": "Work"}
	}
	// Reference rate rows are history: they are not bounded.
	s.must(200, request{Method: "PUT", Path: "/v1/reference_rates/ECB_MRO", Body: map[string]any{"rates": []any{
		map[string]any{"effective_from": "1999-01-01", "rate": "3.00"}}}})

	cases := []refusal{
		{"issue_date far ahead", "POST", "/v1/invoices", map[string]any{"client_id": cli, "issue": true, "issue_date": "9999-12-31", "lines": lines}, 400, "invalid", "issue_date"},
		{"issue_date long ago", "POST", "/v1/invoices", map[string]any{"client_id": cli, "issue_date": "0001-01-01", "lines": lines}, 400, "invalid", "issue_date"},
		{"issue_date a day too early", "POST", "/v1/invoices", map[string]any{"client_id": cli, "issue_date": "2016-12-02", "lines": lines}, 400, "invalid", "issue_date"},
		{"due_date far ahead", "POST", "/v1/invoices", map[string]any{"client_id": cli, "issue_date": "2026-12-01", "due_date": "9999-12-31", "lines": lines}, 400, "invalid", "due_date"},
		{"due_date a day too late", "POST", "/v1/invoices", map[string]any{"client_id": cli, "due_date": "2027-12-04", "lines": lines}, 400, "invalid", "due_date"},
		{"patch issue_date", "PATCH", "/v1/invoices/" + draft["id"].(string), map[string]any{"issue_date": "0001-01-01"}, 400, "invalid", "issue_date"},
		{"patch due_date", "PATCH", "/v1/invoices/" + draft["id"].(string), map[string]any{"due_date": "9999-12-31"}, 400, "invalid", "due_date"},
		{"paid_on far ahead", "POST", invPath + "/payments", map[string]any{"amount": 100, "paid_on": "9999-12-31"}, 400, "invalid", "paid_on"},
		{"paid_on a day too late", "POST", invPath + "/payments", map[string]any{"amount": 100, "paid_on": "2027-12-04"}, 400, "invalid", "paid_on"},
		{"paid_on long ago", "POST", invPath + "/payments", map[string]any{"amount": 100, "paid_on": "0001-01-01"}, 400, "invalid", "paid_on"},
		{"refunded_on", "POST", "/v1/payments/" + pay["id"].(string) + "/refunds", map[string]any{"amount": 10, "refunded_on": "0001-01-01"}, 400, "invalid", "refunded_on"},
		{"refunded_on far ahead", "POST", "/v1/payments/" + pay["id"].(string) + "/refunds", map[string]any{"amount": 10, "refunded_on": "9999-12-31"}, 400, "invalid", "refunded_on"},
		{"effective_from long ago", "POST", "/v1/clients/" + cli + "/agreements", map[string]any{"effective_from": "0001-01-01",
			"late_fee": map[string]any{"flat": 100, "repeat_every_days": 1}}, 400, "invalid", "effective_from"},
		{"effective_from far ahead", "POST", "/v1/clients/" + cli + "/agreements", map[string]any{"effective_from": "9999-12-31"}, 400, "invalid", "effective_from"},
		{"planned_date far ahead", "POST", "/v1/projects", map[string]any{"client_id": cli, "name": "Later", "milestones": []any{stage("2026-12-10"), stage("2031-12-04")}}, 400, "invalid", "milestones[1].planned_date"},
		{"planned_date long ago", "POST", "/v1/projects", map[string]any{"client_id": cli, "name": "Earlier", "milestones": []any{stage("0001-01-01")}}, 400, "invalid", "milestones[0].planned_date"},
		{"patch planned_date", "PATCH", prj, map[string]any{"milestones": []any{map[string]any{"id": milestone(p, 0)["id"], "planned_date": "9999-12-31"}}}, 400, "invalid", "milestones[0].planned_date"},
		{"time entry date", "POST", "/v1/time_entries", entry("0001-01-01"), 400, "invalid", "date"},
		{"bulk time entry date", "POST", "/v1/time_entries/bulk", map[string]any{"entries": []any{entry("2026-12-01"), entry("9999-12-31")}}, 400, "invalid", "entries[1].date"},
		{"accrual as_of", "GET", invPath + "/accrual?as_of=9999-12-31", nil, 400, "invalid", "as_of"},
		{"accrual as_of long ago", "GET", invPath + "/accrual?as_of=0001-01-01", nil, 400, "invalid", "as_of"},
		{"statement as_of", "GET", "/v1/clients/" + cli + "/statement?as_of=9999-12-31", nil, 400, "invalid", "as_of"},
		{"statement pdf as_of", "GET", "/v1/clients/" + cli + "/statement.pdf?as_of=0001-01-01", nil, 400, "invalid", "as_of"},
		{"invoice list filter", "GET", "/v1/invoices?issued_from=0001-01-01", nil, 400, "invalid", "issued_from"},
		{"invoice list due filter", "GET", "/v1/invoices?due_to=9999-12-31", nil, 400, "invalid", "due_to"},
		{"time entry list", "GET", "/v1/time_entries?to=9999-12-31", nil, 400, "invalid", "to"},
		{"client health", "GET", "/v1/clients/" + cli + "/health?from=0001-01-01", nil, 400, "invalid", "from"},
		{"client report", "GET", "/v1/reports/clients?to=9999-12-31", nil, 400, "invalid", "to"},
		{"stripe reconcile since", "POST", "/v1/stripe/reconcile", map[string]any{"since": "0001-01-01T00:00:00Z"}, 400, "invalid", "since"},
	}
	s.mustRefuseAll(t, cases)

	// The edges are inside.
	s.must(200, request{Method: "GET", Path: invPath + "/accrual?as_of=2027-12-03"})
	s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli + "/statement?as_of=2027-12-03"})
	s.must(201, request{Method: "POST", Path: "/v1/time_entries", Body: entry("2016-12-03")})
	// The window moves with the server's clock.
	s.setDay("2027-06-01")
	s.must(200, request{Method: "GET", Path: invPath + "/accrual?as_of=2028-06-01"})
	s.refused(400, "invalid", "paid_on", request{Method: "POST", Path: invPath + "/payments", Body: map[string]any{"amount": 100, "paid_on": "2017-05-31"}})
}
