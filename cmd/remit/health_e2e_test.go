package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/remit/remit/domain"
)

// healthThresholds are the settings of the portfolio tests: a target of
// 80.00 EUR an hour, one waiver already counts as frequent.
func healthThresholds(c *Config) {
	c.Thresholds = domain.Thresholds{TargetHourlyRates: map[string]int64{"EUR": 8000}, LateShare: 30, HoursShareCap: 20, Exceptions: 1}
}

// portfolio is four clients with known figures for 2026-01-01..2026-03-31;
// the clock ends on 2026-03-31.
type portfolio struct {
	good, slow, cheap, cousin string
	timeKey                   string
}

// invoiceOn issues an invoice of amount for the client, dated today.
func (s *testServer) invoiceOn(client string, amount int64) string {
	s.tb.Helper()
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": client, "issue": true,
		"lines": []map[string]any{{"description": "Work", "unit_amount": amount}}}})
	return inv["id"].(string)
}

// payOn records a manual payment.
func (s *testServer) payOn(invoice string, amount int64, paidOn string) {
	s.tb.Helper()
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + invoice + "/payments", Body: map[string]any{"amount": amount, "paid_on": paidOn}})
}

// buildPortfolio creates, over HTTP:
//   - Good Co: 2,000.00 due 31 Jan paid 25 Jan, 1,000.00 due 3 Mar paid 1 Mar; 20 hours.
//   - Slow Ltd: 1,000.00 due 31 Jan paid 20 Feb with its 20.00 fee, 500.00 due
//     3 Mar unpaid; suspended by hand; 10 hours.
//   - Cheap GmbH: 1,200.00 due 31 Jan paid 30 Jan; 40 hours, 10 of them not billable.
//   - Cousin Bob (friends and family): 400.00 due 31 Jan, its 10.00 fee waived
//     on 1 Feb, 100.00 paid 10 Feb; 5 hours.
//
// The time is posted in one bulk import with a key that may only post time.
func buildPortfolio(s *testServer) portfolio {
	s.tb.Helper()
	var p portfolio
	client := func(name, relationship string, agreement map[string]any) string {
		c := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{"name": name, "email": "ap@" + strings.ToLower(strings.Fields(name)[0]) + ".example",
			"currency": "EUR", "timezone": "UTC", "relationship": relationship}})
		agreement["effective_from"] = "2025-01-01"
		s.must(201, request{Method: "POST", Path: "/v1/clients/" + c["id"].(string) + "/agreements", Body: agreement})
		return c["id"].(string)
	}
	s.setDay("2026-01-01")
	p.good = client("Good Co", "standard", map[string]any{"payment_terms": "net_30"})
	p.slow = client("Slow Ltd", "standard", map[string]any{"payment_terms": "net_30", "late_fee": map[string]any{"flat": 2000}})
	p.cheap = client("Cheap GmbH", "standard", map[string]any{"payment_terms": "net_30"})
	p.cousin = client("Cousin Bob", "friends_family", map[string]any{"payment_terms": "net_30", "late_fee": map[string]any{"flat": 1000}})
	good1, slow1, cheap1, cousin1 := s.invoiceOn(p.good, 200000), s.invoiceOn(p.slow, 100000), s.invoiceOn(p.cheap, 120000), s.invoiceOn(p.cousin, 40000)

	s.setDay("2026-02-01")
	s.payOn(good1, 200000, "2026-01-25")
	s.payOn(cheap1, 120000, "2026-01-30")
	good2, _ := s.invoiceOn(p.good, 100000), s.invoiceOn(p.slow, 50000)
	s.sweep() // day one overdue: the fees of Slow and Cousin
	fees := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + cousin1 + "/charges"})["data"].([]any)
	if len(fees) != 1 {
		s.tb.Fatalf("cousin's charges %v", fees)
	}
	s.must(200, request{Method: "POST", Path: "/v1/invoices/" + cousin1 + "/charges/" + fees[0].(map[string]any)["id"].(string) + "/waive",
		Body: map[string]any{"reason": "family"}})

	s.setDay("2026-03-31")
	s.payOn(slow1, 102000, "2026-02-20")
	s.payOn(good2, 100000, "2026-03-01")
	s.payOn(cousin1, 10000, "2026-02-10")
	s.must(200, request{Method: "PATCH", Path: "/v1/clients/" + p.slow, Body: map[string]any{"status": "suspended"}})

	_, p.timeKey = s.newKey("time tracker", "time_entries")
	var entries []map[string]any
	add := func(client string, hours int, billable bool, from int) {
		for i := range hours / 5 {
			entries = append(entries, map[string]any{"client_id": client, "date": fmt.Sprintf("2026-03-%02d", from+i), "minutes": 300,
				"description": "Work", "billable": billable, "external_id": fmt.Sprintf("%s-%d-%t", client, i, billable)})
		}
	}
	add(p.good, 20, true, 1)
	add(p.slow, 10, true, 1)
	add(p.cheap, 30, true, 1)
	add(p.cheap, 10, false, 10)
	add(p.cousin, 5, true, 1)
	s.must(201, request{Method: "POST", Path: "/v1/time_entries/bulk", Key: p.timeKey, Body: map[string]any{"entries": entries}})
	return p
}

// healthRow is the figures of one client a test compares.
type healthRow struct {
	Rank                               int
	Name                               string
	Received, Minutes, Billable        int64
	Rate                               any
	HoursShare, RevenueShare           any
	Due, OnTime, Late, Overdue         int64
	OnTimeRate, AverageLate, WorstLate any
	Exceptions, ExceptionsAmount       int64
	Open, OldestOverdue                int64
	Suspended                          bool
	Flags                              []string
}

func rowOf(h map[string]any) healthRow {
	var flags []string
	for _, f := range h["flags"].([]any) {
		f := f.(map[string]any)
		flags = append(flags, fmt.Sprintf("%s %s/%s", f["code"], f["figure"], f["threshold"]))
	}
	return healthRow{int(num(h, "rank")), h["client_name"].(string), num(h, "revenue_received"), num(h, "minutes"), num(h, "billable_minutes"),
		h["effective_hourly_rate"], h["hours_share"], h["revenue_share"],
		num(h, "invoices_due"), num(h, "invoices_paid_on_time"), num(h, "invoices_paid_late"), num(h, "invoices_overdue"),
		h["on_time_rate"], h["average_days_late"], h["worst_days_late"],
		num(h, "exceptions"), num(h, "exceptions_amount"), num(h, "open_balance"), num(h, "oldest_overdue_days"),
		h["suspended_in_period"].(bool), flags}
}

// TestClientHealthPortfolio: the ranked report and each client's health,
// figure by figure, over HTTP.
func TestClientHealthPortfolio(t *testing.T) {
	s := MustRunMain(t, healthThresholds)
	p := buildPortfolio(s)

	// Of 4,500 minutes and 5,320.00 EUR received in all:
	want := []healthRow{
		// 100.00 over 5 hours is 20.00 an hour; 6.67 % of the hours for 1.88 % of the revenue.
		{1, "Cousin Bob", 10000, 300, 300, 2000.0, "6.67", "1.88", 1, 0, 0, 1, "0", nil, nil, 1, 1000, 30000, 59, false,
			[]string{"late_payer 100/30", "below_target_rate 2000/8000", "hours_share_over_revenue_share 6.67/1.88", "frequent_exceptions 1/1", "friends_family_balance 30000/0"}},
		// 1,200.00 over 40 hours is 30.00 an hour; 53.33 % of the hours for 22.56 % of the revenue.
		{2, "Cheap GmbH", 120000, 2400, 1800, 3000.0, "53.33", "22.56", 1, 1, 0, 0, "100", nil, nil, 0, 0, 0, 0, false,
			[]string{"below_target_rate 3000/8000", "hours_share_over_revenue_share 53.33/22.56", "hours_share_over_cap 53.33/20"}},
		// 1,020.00 (with the fee) over 10 hours; paid 20 days late, 500.00 overdue 28 days, suspended.
		{3, "Slow Ltd", 102000, 600, 600, 10200.0, "13.33", "19.17", 2, 0, 1, 1, "0", "20", 20.0, 0, 0, 50000, 28, true,
			[]string{"late_payer 100/30", "suspended_in_period 1/0"}},
		{4, "Good Co", 300000, 1200, 1200, 15000.0, "26.67", "56.39", 2, 2, 0, 0, "100", nil, nil, 0, 0, 0, 0, false, nil},
	}
	report := s.must(200, request{Method: "GET", Path: "/v1/reports/clients?from=2026-01-01&to=2026-03-31"})
	if report["from"] != "2026-01-01" || report["to"] != "2026-03-31" || report["as_of"] != "2026-03-31" || report["has_more"] != false {
		t.Fatalf("report header %v", report)
	}
	data := report["data"].([]any)
	if len(data) != 4 {
		t.Fatalf("%d clients", len(data))
	}
	for i, w := range want {
		if got := rowOf(data[i].(map[string]any)); !reflect.DeepEqual(got, w) {
			t.Errorf("row %d\n got %+v\nwant %+v", i+1, got, w)
		}
	}
	flag := data[0].(map[string]any)["flags"].([]any)[4].(map[string]any)
	if flag["unit"] != "minor_units" || flag["message"] != "friends-and-family client owes 300.00 EUR" {
		t.Errorf("friend flag %v", flag)
	}

	// One client's health is its report row, with the period and thresholds.
	h := s.must(200, request{Method: "GET", Path: "/v1/clients/" + p.cheap + "/health?from=2026-01-01&to=2026-03-31"})
	if got := rowOf(h); !reflect.DeepEqual(got, want[1]) {
		t.Errorf("health\n got %+v\nwant %+v", got, want[1])
	}
	th := h["thresholds"].(map[string]any)
	if h["from"] != "2026-01-01" || h["relationship"] != "standard" || num(h, "target_hourly_rate") != 8000 ||
		th["late_share"] != 30.0 || th["target_hourly_rates"].(map[string]any)["EUR"] != 8000.0 {
		t.Errorf("health header %v", h)
	}

	// The default period is the last year to today; February alone sees
	// Slow's late payment but not the hours, all posted in March.
	def := s.must(200, request{Method: "GET", Path: "/v1/clients/" + p.good + "/health"})
	if def["from"] != "2025-04-01" || def["to"] != "2026-03-31" || num(def, "revenue_received") != 300000 {
		t.Errorf("default period %v %v %v", def["from"], def["to"], def["revenue_received"])
	}
	feb := s.must(200, request{Method: "GET", Path: "/v1/clients/" + p.slow + "/health?from=2026-02-01&to=2026-02-28"})
	if num(feb, "revenue_received") != 102000 || num(feb, "minutes") != 0 || feb["effective_hourly_rate"] != nil || num(feb, "invoices_due") != 0 {
		t.Errorf("February %v", feb)
	}

	// Top N and flagged only.
	top := s.must(200, request{Method: "GET", Path: "/v1/reports/clients?from=2026-01-01&to=2026-03-31&limit=1"})
	if d := top["data"].([]any); len(d) != 1 || top["has_more"] != true || d[0].(map[string]any)["client_name"] != "Cousin Bob" {
		t.Errorf("limit 1: %v", top)
	}
	if d := s.must(200, request{Method: "GET", Path: "/v1/reports/clients?from=2026-01-01&to=2026-03-31&flagged=true"})["data"].([]any); len(d) != 3 {
		t.Errorf("flagged: %d clients", len(d))
	}

	// CSV, by format or by Accept.
	for _, r := range []request{
		{Method: "GET", Path: "/v1/reports/clients?from=2026-01-01&to=2026-03-31&format=csv", Key: testAdminKey},
		{Method: "GET", Path: "/v1/reports/clients?from=2026-01-01&to=2026-03-31", Key: testAdminKey, Header: map[string]string{"Accept": "text/csv"}},
	} {
		resp := s.do(r)
		if resp.Status != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("csv: %d %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		rows, err := csv.NewReader(strings.NewReader(string(resp.Body))).ReadAll()
		if err != nil || len(rows) != 5 {
			t.Fatalf("csv %v: %s", err, resp.Body)
		}
		header := strings.Join(rows[0][:12], ",")
		if header != "rank,client_id,client_name,currency,relationship,status,revenue_received,minutes,billable_minutes,hours,effective_hourly_rate,target_hourly_rate" {
			t.Errorf("header %s", header)
		}
		cousin := map[string]string{}
		for i, col := range rows[0] {
			cousin[col] = rows[1][i]
		}
		if cousin["client_name"] != "Cousin Bob" || cousin["revenue_received"] != "10000" || cousin["hours"] != "5" || cousin["on_time_rate"] != "0" ||
			cousin["average_days_late"] != "" || cousin["oldest_overdue_days"] != "59" ||
			cousin["flags"] != "late_payer;below_target_rate;hours_share_over_revenue_share;frequent_exceptions;friends_family_balance" {
			t.Errorf("csv row %v", cousin)
		}
	}

	for _, c := range []struct{ path, code string }{
		{"/v1/reports/clients?from=2026-03-01&to=2026-02-01", "invalid"},
		{"/v1/reports/clients?from=2026-02-30", "invalid"},
		{"/v1/reports/clients?format=xml", "invalid"},
		{"/v1/reports/clients?limit=0", "invalid"},
		{"/v1/clients/cli_missing/health", "not_found"},
	} {
		if r := s.do(request{Method: "GET", Path: c.path, Key: testAdminKey}); r.ErrorCode() != c.code {
			t.Errorf("%s: %d %s", c.path, r.Status, r.Body)
		}
	}
}

// TestTimeEntriesEndToEnd: a key with only the time_entries scope posts and
// lists time and does nothing else; imports are idempotent and all or none.
func TestTimeEntriesEndToEnd(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-31"))
	cli := s.mustClient("Acme", "EUR", "UTC")
	_, timeKey := s.newKey("time tracker", "time_entries")
	_, readKey := s.newKey("dashboard", "read")
	_, writeKey := s.newKey("crm", "write")

	one := s.must(201, request{Method: "POST", Path: "/v1/time_entries", Key: timeKey, Body: map[string]any{
		"client_id": cli, "project_id": "prj_1", "date": "2026-03-31", "minutes": 90, "description": "Kick-off"}})
	if !strings.HasPrefix(one["id"].(string), "tme_") || one["billable"] != true || one["project_id"] != "prj_1" || num(one, "minutes") != 90 {
		t.Fatalf("entry %v", one)
	}
	s.must(201, request{Method: "POST", Path: "/v1/time_entries", Key: writeKey, Body: map[string]any{"client_id": cli, "date": "2026-03-30", "minutes": 15}})

	batch := map[string]any{"entries": []map[string]any{
		{"client_id": cli, "date": "2026-03-01", "minutes": 60, "external_id": "t-1"},
		{"client_id": cli, "date": "2026-03-02", "minutes": 120, "billable": false, "external_id": "t-2"},
		{"client_id": cli, "date": "2026-03-03", "minutes": 1440, "external_id": "t-3"},
	}}
	first := s.must(201, request{Method: "POST", Path: "/v1/time_entries/bulk", Key: timeKey, Body: batch})
	again := s.must(200, request{Method: "POST", Path: "/v1/time_entries/bulk", Key: timeKey, Body: batch})
	if num(first, "created") != 3 || num(again, "created") != 0 || num(again, "existing") != 3 || !reflect.DeepEqual(first["data"], again["data"]) {
		t.Fatalf("re-sent batch\nfirst %v\nagain %v", first, again)
	}
	batch["entries"].([]map[string]any)[1]["minutes"] = 121
	if r := s.do(request{Method: "POST", Path: "/v1/time_entries/bulk", Key: timeKey, Body: batch}); r.Status != 409 || !strings.Contains(string(r.Body), "entries[1].external_id") {
		t.Fatalf("changed entry: %d %s", r.Status, r.Body)
	}

	list := s.must(200, request{Method: "GET", Path: "/v1/time_entries?client_id=" + cli + "&from=2026-03-02&to=2026-03-30&limit=2", Key: timeKey})
	if d := list["data"].([]any); len(d) != 2 || list["has_more"] != true || d[0].(map[string]any)["date"] != "2026-03-03" {
		t.Fatalf("list %v", list)
	}
	s.must(200, request{Method: "GET", Path: "/v1/time_entries", Key: readKey})

	// The time key may do nothing else; the read key may not post time.
	for _, r := range []request{
		{Method: "GET", Path: "/v1/clients", Key: timeKey},
		{Method: "GET", Path: "/v1/clients/" + cli, Key: timeKey},
		{Method: "POST", Path: "/v1/clients", Key: timeKey, Body: map[string]any{"name": "X", "email": "x@example.com", "currency": "EUR"}},
		{Method: "POST", Path: "/v1/invoices", Key: timeKey, Body: map[string]any{"client_id": cli, "lines": []map[string]any{{"description": "W", "unit_amount": 1}}}},
		{Method: "GET", Path: "/v1/invoices", Key: timeKey},
		{Method: "GET", Path: "/v1/clients/" + cli + "/health", Key: timeKey},
		{Method: "GET", Path: "/v1/reports/clients", Key: timeKey},
		{Method: "GET", Path: "/v1/api_keys", Key: timeKey},
		{Method: "POST", Path: "/v1/billing/run", Key: timeKey},
		{Method: "POST", Path: "/v1/time_entries", Key: readKey, Body: map[string]any{"client_id": cli, "date": "2026-03-01", "minutes": 1}},
		{Method: "POST", Path: "/v1/time_entries/bulk", Key: readKey, Body: batch},
	} {
		if resp := s.do(r); resp.Status != 403 || resp.ErrorCode() != "forbidden" {
			t.Errorf("%s %s with a %s key: %d %s", r.Method, r.Path, map[bool]string{true: "time", false: "read"}[r.Key == timeKey], resp.Status, resp.Body)
		}
	}
	if r := s.do(request{Method: "POST", Path: "/v1/time_entries", Body: map[string]any{}}); r.Status != 401 {
		t.Errorf("no key: %d", r.Status)
	}

	// Bad input is refused, names the field, and writes nothing.
	entry := func(change map[string]any) map[string]any {
		e := map[string]any{"client_id": cli, "date": "2026-03-10", "minutes": 60}
		for k, v := range change {
			if v == nil {
				delete(e, k)
			} else {
				e[k] = v
			}
		}
		return e
	}
	many := make([]map[string]any, 1001)
	for i := range many {
		many[i] = entry(nil)
	}
	before := s.snapshot()
	for _, c := range []struct {
		name, path string
		body       any
		field      string
	}{
		{"minutes 0", "/v1/time_entries", entry(map[string]any{"minutes": 0}), "minutes"},
		{"minutes 2000", "/v1/time_entries", entry(map[string]any{"minutes": 2000}), "minutes"},
		{"minutes missing", "/v1/time_entries", entry(map[string]any{"minutes": nil}), "minutes"},
		{"minutes not a number", "/v1/time_entries", entry(map[string]any{"minutes": "60"}), "minutes"},
		{"a date that does not exist", "/v1/time_entries", entry(map[string]any{"date": "2026-02-30"}), "date"},
		{"a date in the future", "/v1/time_entries", entry(map[string]any{"date": "2026-04-02"}), "date"},
		{"unknown client", "/v1/time_entries", entry(map[string]any{"client_id": "cli_nobody"}), "client_id"},
		{"unknown field", "/v1/time_entries", entry(map[string]any{"hours": 1}), "hours"},
		{"a bulk of 1,001", "/v1/time_entries/bulk", map[string]any{"entries": many}, "entries"},
		{"an empty bulk", "/v1/time_entries/bulk", map[string]any{"entries": []any{}}, "entries"},
		{"entries[2] invalid", "/v1/time_entries/bulk", map[string]any{"entries": []any{entry(nil), entry(nil), entry(map[string]any{"minutes": -5}), entry(nil)}}, "entries[2].minutes"},
		{"entries[1] of an unknown client", "/v1/time_entries/bulk", map[string]any{"entries": []any{entry(nil), entry(map[string]any{"client_id": "cli_nobody"})}}, "entries[1].client_id"},
		{"entries[3] with a bad date", "/v1/time_entries/bulk", map[string]any{"entries": []any{entry(nil), entry(nil), entry(nil), entry(map[string]any{"date": "31.03.2026"})}}, "entries[3].date"},
		{"a repeated external_id", "/v1/time_entries/bulk", map[string]any{"entries": []any{entry(map[string]any{"external_id": "x"}), entry(map[string]any{"external_id": "x"})}}, "entries[1].external_id"},
	} {
		r := s.do(request{Method: "POST", Path: c.path, Key: timeKey, Body: c.body})
		var body struct {
			Error struct{ Fields map[string]string } `json:"error"`
		}
		_ = json.Unmarshal(r.Body, &body)
		if r.Status != 400 || r.ErrorCode() != "invalid" || body.Error.Fields[c.field] == "" {
			t.Errorf("%s: %d %s, want 400 naming %s", c.name, r.Status, r.Body, c.field)
		}
	}
	if after := s.snapshot(); !reflect.DeepEqual(after, before) {
		t.Errorf("refused requests wrote to the database")
	}
}

// TestHealthSettings: the four settings parse, default, and refuse bad values by name.
func TestHealthSettings(t *testing.T) {
	c := DefaultConfig()
	if len(c.Thresholds.TargetHourlyRates) != 0 || c.Thresholds.LateShare != 30 || c.Thresholds.HoursShareCap != 20 || c.Thresholds.Exceptions != 3 {
		t.Fatalf("defaults %+v", c.Thresholds)
	}
	env := map[string]string{"REMIT_TARGET_HOURLY_RATE": "7000,EUR:9000", "REMIT_FLAG_LATE_SHARE": "50", "REMIT_FLAG_HOURS_SHARE_CAP": "0", "REMIT_FLAG_EXCEPTIONS": "5"}
	c, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil || c.Thresholds.TargetFor("EUR") != 9000 || c.Thresholds.TargetFor("GBP") != 7000 || c.Thresholds.LateShare != 50 ||
		c.Thresholds.HoursShareCap != 0 || c.Thresholds.Exceptions != 5 {
		t.Fatalf("%+v %v", c.Thresholds, err)
	}
	for name, val := range map[string]string{"REMIT_TARGET_HOURLY_RATE": "90.50", "REMIT_FLAG_LATE_SHARE": "101", "REMIT_FLAG_HOURS_SHARE_CAP": "-1", "REMIT_FLAG_EXCEPTIONS": "many"} {
		if _, err := LoadConfig(func(k string) string { return map[string]string{name: val}[k] }); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v", name, val, err)
		}
	}
}
