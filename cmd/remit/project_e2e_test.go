package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// projectStripeSecret signs the Stripe events of the project tests.
const projectStripeSecret = "whsec_test_projects_0123456789"

// settle waits until the background delivery of outgoing events has
// nothing left to do, so that a snapshot sees only what requests write.
func (s *testServer) settle() {
	s.tb.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var busy int
		err := s.DB.SQL().QueryRow(`SELECT (SELECT COUNT(*) FROM outbox WHERE processed_at IS NULL) +
			(SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending')`).Scan(&busy)
		if err != nil {
			s.tb.Fatal(err)
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("%d outgoing events still waiting after 10 s", busy)
		}
	}
}

// refusedSaying is refused, and the error message must contain each of want.
func (s *testServer) refusedSaying(status int, code string, r request, want ...string) {
	s.tb.Helper()
	if r.Key == "" {
		r.Key = testAdminKey
	}
	if s.Config.DeliveryInterval > 0 {
		s.settle()
	}
	before := s.snapshot()
	resp := s.do(r)
	if resp.Status != status || resp.ErrorCode() != code {
		s.tb.Fatalf("%s %s: %d %s, want %d %s: %s", r.Method, r.Path, resp.Status, resp.ErrorCode(), status, code, resp.Body)
	}
	msg, _ := resp.JSON(s.tb)["error"].(map[string]any)["message"].(string)
	for _, w := range want {
		if !strings.Contains(msg, w) {
			s.tb.Fatalf("%s %s: message %q does not say %q", r.Method, r.Path, msg, w)
		}
	}
	if after := s.snapshot(); !reflect.DeepEqual(before, after) {
		s.tb.Fatalf("%s %s was refused but changed the database", r.Method, r.Path)
	}
}

// stripePaid posts a signed payment_intent.succeeded for the invoice, as
// Stripe would after the client paid by card at created.
func (s *testServer) stripePaid(intentID, invoiceID string, amount int64, created time.Time) map[string]any {
	s.tb.Helper()
	body, err := json.Marshal(map[string]any{
		"id": "evt_" + intentID, "object": "event", "type": "payment_intent.succeeded", "created": created.Unix(),
		"data": map[string]any{"object": map[string]any{"id": intentID, "object": "payment_intent", "amount": amount, "amount_received": amount,
			"currency": "eur", "status": "succeeded", "metadata": map[string]string{"remit_invoice_id": invoiceID}}},
	})
	if err != nil {
		s.tb.Fatal(err)
	}
	// Stripe signs with the real time; the tolerance is checked against it.
	ts := fmt.Sprint(time.Now().Unix())
	mac := hmac.New(sha256.New, []byte(projectStripeSecret))
	mac.Write([]byte(ts + "." + string(body)))
	resp := s.do(request{Method: "POST", Path: "/v1/stripe/webhook", Body: body,
		Header: map[string]string{"Stripe-Signature": "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))}})
	if resp.Status != 200 {
		s.tb.Fatalf("stripe webhook: %d %s", resp.Status, resp.Body)
	}
	return resp.JSON(s.tb)
}

// milestone returns milestone i of a project JSON.
func milestone(p map[string]any, i int) map[string]any {
	return p["milestones"].([]any)[i].(map[string]any)
}

// invoiceOf returns the invoice summary of a milestone JSON.
func invoiceOf(m map[string]any) map[string]any {
	inv, _ := m["invoice"].(map[string]any)
	return inv
}

// totals reads a project's total, invoiced, paid and remaining.
func totals(p map[string]any) [4]int64 {
	return [4]int64{num(p, "total"), num(p, "invoiced"), num(p, "paid"), num(p, "remaining")}
}

// TestProjectMilestonesEndToEnd runs a three-stage project with a deposit
// over HTTP: the gate refuses each stage until the ones before it are paid
// (the deposit by a manual payment, Design by a Stripe webhook), a paid
// milestone is announced on the outgoing webhooks with the stage it
// unlocks, and the stage the client holds up is invoiced by the sweep once.
func TestProjectMilestonesEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var hooks []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		checkWebhookDelivery(t, r, b)
		mu.Lock()
		defer mu.Unlock()
		hooks = append(hooks, string(b))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	received := func(n int) []map[string]any {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			mu.Lock()
			got := len(hooks)
			mu.Unlock()
			if got >= n {
				break
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if len(hooks) != n {
			t.Fatalf("%d webhooks received, want %d: %v", len(hooks), n, hooks)
		}
		out := make([]map[string]any, n)
		for i, h := range hooks {
			if err := json.Unmarshal([]byte(h), &out[i]); err != nil {
				t.Fatal(err)
			}
		}
		// Deliveries run in parallel; event ids are in the order of the events.
		sort.Slice(out, func(i, j int) bool { return out[i]["id"].(string) < out[j]["id"].(string) })
		return out
	}

	s := MustRunMain(t, pinned("2026-03-02"), allowPrivateWebhooks, func(c *Config) {
		c.DeliveryInterval = 100 * time.Millisecond
		c.StripeSecretKey, c.StripeWebhookSecret = "sk_test_projects", projectStripeSecret
	})
	s.must(201, request{Method: "POST", Path: "/v1/webhook_endpoints", Body: map[string]any{"url": recv.URL + "/projects",
		"enabled_events": []string{"milestone.paid", "milestone.unlocked"}}})
	cli := s.mustClient("Atelier Nord", "EUR", "Europe/Berlin")
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "payment_terms": "net_14",
		"milestones": map[string]any{"gate_next_on_payment": true, "client_delay_days": 10}}})

	p := s.must(201, request{Method: "POST", Path: "/v1/projects", Body: map[string]any{"client_id": cli, "name": "Website relaunch",
		"milestones": []map[string]any{
			{"name": "Deposit", "amount": 150000, "deposit": true},
			{"name": "Design", "amount": 300000, "planned_date": "2026-03-20"},
			{"name": "Build", "amount": 600000, "planned_date": "2026-04-30"},
			{"name": "Launch", "amount": 150000, "planned_date": "2026-05-29"},
		}}})
	id := p["id"].(string)
	dep, design, build, launch := milestone(p, 0), milestone(p, 1), milestone(p, 2), milestone(p, 3)
	depInv := invoiceOf(dep)
	if p["status"] != "active" || p["currency"] != "EUR" || totals(p) != [4]int64{1200000, 150000, 0, 1200000} ||
		dep["status"] != "invoiced" || dep["invoiced_for"] != "deposit" || dep["planned_date"] != "2026-03-02" ||
		depInv["number"] != "INV-2026-0001" || depInv["issue_date"] != "2026-03-02" || depInv["due_date"] != "2026-03-02" || num(depInv, "total") != 150000 ||
		design["status"] != "pending" || design["invoice"] != nil || design["position"] != 1.0 || launch["planned_date"] != "2026-05-29" {
		t.Fatalf("created %v", p)
	}
	path := func(m map[string]any, step string) string { return "/v1/milestones/" + m["id"].(string) + "/" + step }

	// Nothing starts before the deposit is paid; nothing starts out of order; nothing is delivered before it starts.
	s.refusedSaying(409, "previous_milestone_unpaid", request{Method: "POST", Path: path(design, "start")},
		`milestone 0 "Deposit"`, "INV-2026-0001", "1,500.00 EUR due")
	s.refusedSaying(409, "milestone_out_of_order", request{Method: "POST", Path: path(build, "start")}, `milestone 1 "Design"`)
	s.refusedSaying(409, "milestone_not_started", request{Method: "POST", Path: path(design, "deliver")})

	// The deposit, paid by hand: milestone.paid and milestone.unlocked go out.
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + depInv["id"].(string) + "/payments", Body: map[string]any{"amount": 150000, "paid_on": "2026-03-02"}})
	p = s.must(200, request{Method: "GET", Path: "/v1/projects/" + id})
	if milestone(p, 0)["status"] != "paid" || milestone(p, 0)["paid_on"] != "2026-03-02" || totals(p) != [4]int64{1200000, 150000, 150000, 1050000} {
		t.Fatalf("after the deposit %v", p)
	}
	got := received(2)
	paid, unlocked := got[0]["data"].(map[string]any), got[1]["data"].(map[string]any)
	if got[0]["type"] != "milestone.paid" || paid["milestone_id"] != dep["id"] || paid["project_id"] != id || paid["invoice_number"] != "INV-2026-0001" ||
		got[1]["type"] != "milestone.unlocked" || unlocked["milestone_id"] != design["id"] || unlocked["name"] != "Design" || unlocked["planned_date"] != "2026-03-20" {
		t.Fatalf("webhooks %v", got)
	}

	m := s.must(200, request{Method: "POST", Path: path(design, "start")})
	if m["status"] != "in_progress" || m["started_on"] != "2026-03-02" {
		t.Fatalf("design started %v", m)
	}
	s.setDay("2026-03-20")
	m = s.must(200, request{Method: "POST", Path: path(design, "deliver")})
	designInv := invoiceOf(m)
	if m["status"] != "invoiced" || m["delivered_on"] != "2026-03-20" || m["invoiced_for"] != "delivery" ||
		designInv["number"] != "INV-2026-0002" || designInv["due_date"] != "2026-04-03" || num(designInv, "balance_due") != 300000 {
		t.Fatalf("design delivered %v", m)
	}
	s.refusedSaying(409, "previous_milestone_unpaid", request{Method: "POST", Path: path(build, "start")},
		`milestone 1 "Design"`, "INV-2026-0002", "3,000.00 EUR due")

	// Design, paid by card through Stripe on 24 March.
	s.setDay("2026-03-25")
	if r := s.stripePaid("pi_design", designInv["id"].(string), 300000, time.Date(2026, 3, 24, 11, 0, 0, 0, time.UTC)); r["outcome"] != "payment recorded" {
		t.Fatalf("stripe %v", r)
	}
	p = s.must(200, request{Method: "GET", Path: "/v1/projects/" + id})
	if milestone(p, 1)["status"] != "paid" || milestone(p, 1)["paid_on"] != "2026-03-24" || totals(p) != [4]int64{1200000, 450000, 450000, 750000} {
		t.Fatalf("after the Stripe payment %v", p)
	}
	got = received(4)
	if got[2]["type"] != "milestone.paid" || got[2]["data"].(map[string]any)["milestone_id"] != design["id"] ||
		got[3]["type"] != "milestone.unlocked" || got[3]["data"].(map[string]any)["milestone_id"] != build["id"] {
		t.Fatalf("webhooks %v", got[2:])
	}
	s.must(200, request{Method: "POST", Path: path(build, "start")})

	// The client holds Build up: planned 2026-04-30 + 10 days, invoiced from 2026-05-11.
	m = s.must(200, request{Method: "POST", Path: path(build, "client_delay"), Body: map[string]any{"note": "waiting for the client's hosting credentials"}})
	if cd := m["client_delay"].(map[string]any); cd["recorded_on"] != "2026-03-25" || cd["invoice_on"] != "2026-05-11" || cd["note"] != "waiting for the client's hosting credentials" {
		t.Fatalf("client delay %v", m)
	}
	s.setDay("2026-05-10")
	s.sweep()
	if b := milestone(s.must(200, request{Method: "GET", Path: "/v1/projects/" + id}), 2); b["status"] != "in_progress" || b["invoice"] != nil {
		t.Fatalf("invoiced too early %v", b)
	}
	for _, day := range []string{"2026-05-11", "2026-05-11", "2026-05-12"} {
		s.setDay(day)
		s.sweep()
	}
	p = s.must(200, request{Method: "GET", Path: "/v1/projects/" + id})
	b := milestone(p, 2)
	buildInv := invoiceOf(b)
	if b["status"] != "invoiced" || b["invoiced_for"] != "client_delay" || b["invoiced_on"] != "2026-05-11" || b["delivered_on"] != nil ||
		buildInv["number"] != "INV-2026-0003" || buildInv["issue_date"] != "2026-05-11" || buildInv["due_date"] != "2026-05-25" || num(buildInv, "total") != 600000 ||
		totals(p) != [4]int64{1200000, 1050000, 450000, 750000} {
		t.Fatalf("after the sweeps %v", p)
	}
	if list := s.must(200, request{Method: "GET", Path: "/v1/invoices?client_id=" + cli}); len(list["data"].([]any)) != 3 {
		t.Fatalf("%d invoices, want 3: the client-delay invoice must be issued once", len(list["data"].([]any)))
	}
	var said []string
	for _, e := range s.must(200, request{Method: "GET", Path: "/v1/invoices/" + buildInv["id"].(string) + "/events"})["data"].([]any) {
		if ev := e.(map[string]any); ev["type"] == "milestone.client_delay_invoiced" {
			said = append(said, ev["data"].(map[string]any)["message"].(string))
		}
	}
	if len(said) != 1 || said[0] != "invoiced under the client-delay rule: not delivered 10 days after the planned date 2026-04-30 because the client holds it up" {
		t.Fatalf("client-delay events %q", said)
	}
	s.refusedSaying(409, "previous_milestone_unpaid", request{Method: "POST", Path: path(launch, "start")}, `milestone 2 "Build"`, "INV-2026-0003")

	// Changes: an invoiced milestone neither moves nor goes; after it, anything.
	ids := func(list ...map[string]any) []map[string]any {
		out := make([]map[string]any, len(list))
		for i, m := range list {
			out[i] = map[string]any{"id": m["id"]}
		}
		return out
	}
	s.refusedSaying(409, "milestone_invoiced", request{Method: "PATCH", Path: "/v1/projects/" + id, Body: map[string]any{"milestones": ids(dep, design, launch, build)}}, `"Build"`)
	s.refusedSaying(409, "milestone_invoiced", request{Method: "PATCH", Path: "/v1/projects/" + id, Body: map[string]any{"milestones": []map[string]any{
		{"id": dep["id"]}, {"id": design["id"]}, {"id": build["id"], "cancel": true}, {"id": launch["id"]}}}}, `"Build"`, "INV-2026-0003")
	p = s.must(200, request{Method: "PATCH", Path: "/v1/projects/" + id, Body: map[string]any{"name": "Website relaunch 2026", "milestones": append(ids(dep, design, build, launch),
		map[string]any{"name": "Care plan", "amount": 50000, "planned_date": "2026-06-30"})}})
	if p["name"] != "Website relaunch 2026" || len(p["milestones"].([]any)) != 5 || milestone(p, 4)["name"] != "Care plan" || milestone(p, 4)["position"] != 4.0 ||
		totals(p) != [4]int64{1250000, 1050000, 450000, 800000} {
		t.Fatalf("after the change %v", p)
	}

	// Delivering Build now records the delivery; its invoice stays the one.
	m = s.must(200, request{Method: "POST", Path: path(build, "deliver")})
	if m["status"] != "invoiced" || m["delivered_on"] != "2026-05-12" || invoiceOf(m)["id"] != buildInv["id"] {
		t.Fatalf("build delivered %v", m)
	}

	// Cancelling the project cancels what has not started; the open invoice stays.
	p = s.must(200, request{Method: "POST", Path: "/v1/projects/" + id + "/cancel"})
	if p["status"] != "cancelled" || milestone(p, 3)["status"] != "cancelled" || milestone(p, 4)["status"] != "cancelled" || milestone(p, 3)["cancelled_on"] != "2026-05-12" ||
		milestone(p, 2)["status"] != "invoiced" || totals(p) != [4]int64{1050000, 1050000, 450000, 600000} {
		t.Fatalf("cancelled %v", p)
	}
	if inv := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + buildInv["id"].(string)}); inv["status"] != "open" || num(inv, "balance_due") != 600000 {
		t.Fatalf("build invoice after the cancel %v", inv)
	}
	s.refusedSaying(409, "project_cancelled", request{Method: "POST", Path: path(launch, "start")})
	s.refusedSaying(409, "project_cancelled", request{Method: "POST", Path: "/v1/projects/" + id + "/cancel"})
}

// TestProjectBadInput sends bad and refused requests: each gets its status,
// code and field, and none writes anything.
func TestProjectBadInput(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-02"))
	cli := s.mustClient("Atelier Nord", "EUR", "Europe/Berlin")
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "milestones": map[string]any{"gate_next_on_payment": true, "client_delay_days": 10}}})
	stage := func(name string, amount any, planned string) map[string]any {
		return map[string]any{"name": name, "amount": amount, "planned_date": planned}
	}
	project := func(ms ...map[string]any) map[string]any {
		return map[string]any{"client_id": cli, "name": "Website", "milestones": ms}
	}
	p := s.must(201, request{Method: "POST", Path: "/v1/projects", Body: project(
		map[string]any{"name": "Deposit", "amount": 100000, "deposit": true}, stage("Design", 200000, "2026-03-20"), stage("Build", 300000, "2026-04-30"))})
	dep, design, build := milestone(p, 0), milestone(p, 1), milestone(p, 2)
	gone := s.must(201, request{Method: "POST", Path: "/v1/projects", Body: project(stage("Audit", 50000, "2026-04-01"))})
	s.must(200, request{Method: "POST", Path: "/v1/projects/" + gone["id"].(string) + "/cancel"})
	mst := func(m map[string]any, step string) string { return "/v1/milestones/" + m["id"].(string) + "/" + step }
	prj := "/v1/projects/" + p["id"].(string)

	cases := []refusal{
		{"zero amount", "POST", "/v1/projects", project(stage("Design", 0, "2026-03-20")), 400, "invalid", "milestones[0].amount"},
		{"negative amount", "POST", "/v1/projects", project(stage("Design", 100, "2026-03-20"), stage("Build", -100, "2026-04-20")), 400, "invalid", "milestones[1].amount"},
		{"fractional amount", "POST", "/v1/projects", project(stage("Design", 100.5, "2026-03-20")), 400, "invalid", "milestones[0].amount"},
		{"planned dates out of order", "POST", "/v1/projects", project(stage("Design", 100, "2026-04-20"), stage("Build", 100, "2026-04-19")), 400, "invalid", "milestones[1].planned_date"},
		{"impossible planned date", "POST", "/v1/projects", project(stage("Design", 100, "2026-02-30")), 400, "invalid", "milestones[0].planned_date"},
		{"no planned date", "POST", "/v1/projects", project(map[string]any{"name": "Design", "amount": 100}), 400, "invalid", "milestones[0].planned_date"},
		{"deposit not first", "POST", "/v1/projects", project(stage("Design", 100, "2026-03-20"), map[string]any{"name": "Deposit", "amount": 100, "deposit": true}), 400, "invalid", "milestones[1].deposit"},
		{"no milestones", "POST", "/v1/projects", project(), 400, "invalid", "milestones"},
		{"no name", "POST", "/v1/projects", map[string]any{"client_id": cli, "milestones": []any{stage("Design", 100, "2026-03-20")}}, 400, "invalid", "name"},
		{"unknown client", "POST", "/v1/projects", map[string]any{"client_id": "cli_nope", "name": "X", "milestones": []any{stage("Design", 100, "2026-03-20")}}, 400, "invalid", "client_id"},
		{"unknown field", "POST", "/v1/projects", project(map[string]any{"name": "Design", "amount": 100, "planned_date": "2026-03-20", "tax_rate": "20"}), 400, "invalid", "milestones[0].tax_rate"},
		{"deliver before start", "POST", mst(design, "deliver"), nil, 409, "milestone_not_started", ""},
		{"start before the deposit is paid", "POST", mst(design, "start"), nil, 409, "previous_milestone_unpaid", ""},
		{"start out of order", "POST", mst(build, "start"), nil, 409, "milestone_out_of_order", ""},
		{"start a deposit", "POST", mst(dep, "start"), nil, 409, "conflict", ""},
		{"start on a cancelled project", "POST", mst(milestone(gone, 0), "start"), nil, 409, "project_cancelled", ""},
		{"start with a body", "POST", mst(design, "start"), map[string]any{"force": true}, 400, "invalid", "force"},
		{"client delay before start", "POST", mst(design, "client_delay"), map[string]any{"note": "waiting"}, 409, "milestone_not_started", ""},
		{"client delay without a note", "POST", mst(design, "client_delay"), map[string]any{"note": ""}, 400, "invalid", "note"},
		{"unknown milestone", "POST", "/v1/milestones/mst_nope/start", nil, 404, "not_found", ""},
		{"unknown project", "GET", "/v1/projects/prj_nope", nil, 404, "not_found", ""},
		{"patch: leave a milestone out", "PATCH", prj, map[string]any{"milestones": []any{map[string]any{"id": dep["id"]}, map[string]any{"id": design["id"]}}}, 400, "invalid", "milestones"},
		{"patch: new milestone without amount", "PATCH", prj, map[string]any{"milestones": []any{map[string]any{"id": dep["id"]}, map[string]any{"id": design["id"]}, map[string]any{"id": build["id"]},
			map[string]any{"name": "Extra", "planned_date": "2026-06-01"}}}, 400, "invalid", "milestones[3].amount"},
		{"patch: new milestone planned too early", "PATCH", prj, map[string]any{"milestones": []any{map[string]any{"id": dep["id"]}, map[string]any{"id": design["id"]}, map[string]any{"id": build["id"]},
			stage("Extra", 100, "2026-04-01")}}, 400, "invalid", "milestones[3].planned_date"},
		{"patch: deposit later", "PATCH", prj, map[string]any{"milestones": []any{map[string]any{"id": dep["id"]}, map[string]any{"id": design["id"]}, map[string]any{"id": build["id"]},
			map[string]any{"name": "Deposit 2", "amount": 100, "deposit": true}}}, 400, "invalid", "milestones[3].deposit"},
		{"patch: cancel the invoiced deposit", "PATCH", prj, map[string]any{"milestones": []any{map[string]any{"id": dep["id"], "cancel": true}, map[string]any{"id": design["id"]}, map[string]any{"id": build["id"]}}}, 409, "milestone_invoiced", ""},
		{"patch: move before the invoiced deposit", "PATCH", prj, map[string]any{"milestones": []any{map[string]any{"id": design["id"]}, map[string]any{"id": dep["id"]}, map[string]any{"id": build["id"]}}}, 409, "milestone_invoiced", ""},
		{"patch: a cancelled project", "PATCH", "/v1/projects/" + gone["id"].(string), map[string]any{"milestones": []any{map[string]any{"id": milestone(gone, 0)["id"]}, stage("More", 100, "2026-05-01")}}, 409, "project_cancelled", ""},
	}
	s.mustRefuseAll(t, cases)
	// A reader may look but not change.
	_, reader := s.newKey("dashboard", "read")
	if r := s.do(request{Method: "GET", Path: prj, Key: reader}); r.Status != 200 {
		t.Fatalf("read with a read key: %d %s", r.Status, r.Body)
	}
	s.refused(403, "forbidden", "", request{Method: "POST", Path: mst(design, "start"), Key: reader})
}
