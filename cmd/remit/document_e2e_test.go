package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/remit/remit/api"
	"github.com/remit/remit/domain"
	"github.com/remit/remit/internal/testdb"
	"github.com/remit/remit/pdf"
)

// pdfText extracts a PDF's text with pdftotext (poppler-utils), white space
// collapsed so that assertions depend neither on columns nor on wrapping.
// Without poppler the test is skipped, saying so.
func pdfText(tb testing.TB, doc []byte) string {
	tb.Helper()
	return strings.Join(strings.Fields(poppler(tb, doc, "pdftotext", "-layout", "-enc", "UTF-8", "%s", "-")), " ")
}

// pdfRawText is the text in content order, pages separated by form feeds;
// unlike -layout it keeps the spaces of short right-aligned strings ("1 / 3").
func pdfRawText(tb testing.TB, doc []byte) string {
	tb.Helper()
	return poppler(tb, doc, "pdftotext", "-raw", "-enc", "UTF-8", "%s", "-")
}

// pdfPages asks pdfinfo for the page count.
func pdfPages(tb testing.TB, doc []byte) int {
	tb.Helper()
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(poppler(tb, doc, "pdfinfo", "%s"))
	if m == nil {
		tb.Fatal("pdfinfo printed no page count")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// poppler runs a poppler tool on doc written to a file ("%s" in args).
func poppler(tb testing.TB, doc []byte, tool string, args ...string) string {
	tb.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		tb.Skipf("SKIPPED: %s is not installed (apt-get install poppler-utils); the PDF text checks need it", tool)
	}
	file := filepath.Join(tb.TempDir(), "doc.pdf")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		tb.Fatal(err)
	}
	args = append([]string(nil), args...)
	for i, a := range args {
		if a == "%s" {
			args[i] = file
		}
	}
	out, err := exec.Command(path, args...).Output()
	if err != nil {
		tb.Fatalf("%s: %v", tool, err)
	}
	return string(out)
}

// mustContain fails for every want the text lacks.
func mustContain(tb testing.TB, text string, want ...string) {
	tb.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			tb.Errorf("PDF text lacks %q", w)
		}
	}
	if tb.Failed() {
		tb.Fatalf("PDF text:\n%s", text)
	}
}

// getPDF downloads a PDF as admin and checks the response is one.
func (s *testServer) getPDF(path string, header map[string]string) *response {
	s.tb.Helper()
	r := s.do(request{Method: "GET", Path: path, Key: testAdminKey, Header: header})
	if r.Status == http.StatusOK && (r.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.Body, []byte("%PDF-"))) {
		s.tb.Fatalf("GET %s: %s, %q...", path, r.Header.Get("Content-Type"), r.Body[:min(len(r.Body), 20)])
	}
	return r
}

func TestInvoicePDFEndToEnd(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"), func(c *Config) {
		c.Business = domain.Business{Name: "Northwind Studio", Address: "12 Harbour Street\nBristol", Email: "billing@northwind.example", NoticeDays: 30}
	})
	cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
		"name": "ООО Ромашка", "email": "ap@romashka.example", "contact_name": "Ирина Петрова", "account_manager": "Sam Carter",
		"address": "ул. Ленина, 5\nМосква", "timezone": "Europe/Moscow", "currency": "EUR"}})["id"].(string)
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500},
		"interest": map[string]any{"annual_rate": "12", "day_count": "act/365"}}})
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
		"lines": []map[string]any{{"description": "Website redesign", "quantity": "2", "unit_amount": 50000, "tax_rate": "0"}}}})
	id := inv["id"].(string)

	first := s.getPDF("/v1/invoices/"+id+"/pdf", nil)
	if first.Status != 200 {
		t.Fatalf("invoice PDF: %d %s", first.Status, first.Body)
	}
	if got := first.Header.Get("Content-Disposition"); got != `inline; filename="INV-2026-0001.pdf"` {
		t.Fatalf("Content-Disposition %q", got)
	}
	etag := first.Header.Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(etag) {
		t.Fatalf("ETag %q", etag)
	}

	// The terms are the agreement version stored on the invoice, in the words of domain.DescribeTerms.
	var ag domain.Agreement
	raw, _ := json.Marshal(inv["agreement"])
	if err := json.Unmarshal(raw, &ag); err != nil {
		t.Fatal(err)
	}
	terms := domain.DescribeTerms(ag, "EUR", domain.MustParseDate("2026-01-31"))
	if len(terms) < 4 {
		t.Fatalf("terms %q", terms)
	}
	text := pdfText(t, first.Body)
	mustContain(t, text, append([]string{"Northwind Studio", "ООО Ромашка", "Attn: Ирина Петрова", "Account manager Sam Carter",
		"INV-2026-0001", "Issue date 1 January 2026", "Due date 31 January 2026", "Website redesign", "500.00", "1,000.00",
		"Total 1,000.00 EUR", "Balance due 1,000.00 EUR", "Payment is due within 30 days of the issue date (by 31 January 2026).",
		"A late fee of 25.00 EUR applies from 1 February 2026."}, terms...)...)
	mustContain(t, pdfRawText(t, first.Body), "1 / 1")
	if strings.Contains(text, "PAID") || strings.Contains(text, "Pay online") {
		t.Fatalf("an open invoice without Stripe has a mark or a checkout link:\n%s", text)
	}

	// A repeat download is the same bytes from the cache; If-None-Match gives 304.
	second := s.getPDF("/v1/invoices/"+id+"/pdf", nil)
	if !bytes.Equal(first.Body, second.Body) || second.Header.Get("ETag") != etag {
		t.Fatal("a second download of an unchanged invoice differs")
	}
	if n := s.Server.PDF.Len(); n != 1 {
		t.Fatalf("the PDF cache holds %d documents after two downloads of one invoice, want 1", n)
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag} {
		if r := s.getPDF("/v1/invoices/"+id+"/pdf", map[string]string{"If-None-Match": inm}); r.Status != 304 || len(r.Body) != 0 || r.Header.Get("ETag") != etag {
			t.Fatalf("If-None-Match %s: %d, %d bytes", inm, r.Status, len(r.Body))
		}
	}
	if r := s.getPDF("/v1/invoices/"+id+"/pdf", map[string]string{"If-None-Match": `"stale"`}); r.Status != 200 {
		t.Fatalf("stale If-None-Match: %d", r.Status)
	}

	// Paid in full: the mark, the payment, a new ETag.
	s.SetNow(time.Date(2026, 1, 20, 12, 0, 0, 0, time.UTC))
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{"amount": 100000, "paid_on": "2026-01-20", "reference": "SEPA-42"}})
	paid := s.getPDF("/v1/invoices/"+id+"/pdf", nil)
	if paid.Status != 200 || paid.Header.Get("ETag") == etag {
		t.Fatalf("paid invoice PDF: %d, ETag %s", paid.Status, paid.Header.Get("ETag"))
	}
	mustContain(t, pdfText(t, paid.Body), "PAID", "Payments received", "20 January 2026 bank transfer SEPA-42 1,000.00",
		"Amount paid −1,000.00 EUR", "Balance due 0.00 EUR")

	// A draft says so; a missing invoice is 404; a read-only key may download.
	draft := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli,
		"lines": []map[string]any{{"description": "Hosting", "unit_amount": 30000}}}})
	dr := s.getPDF("/v1/invoices/"+draft["id"].(string)+"/pdf", nil)
	if dr.Status != 200 || dr.Header.Get("Content-Disposition") != `inline; filename="draft-`+draft["id"].(string)+`.pdf"` {
		t.Fatalf("draft PDF: %d %q", dr.Status, dr.Header.Get("Content-Disposition"))
	}
	mustContain(t, pdfText(t, dr.Body), "DRAFT", "Hosting", "Payment is due within 30 days of the issue date.")
	if r := s.do(request{Method: "GET", Path: "/v1/invoices/inv_nope/pdf", Key: testAdminKey}); r.Status != 404 || r.ErrorCode() != "not_found" {
		t.Fatalf("missing invoice: %d %s", r.Status, r.Body)
	}
	_, reader := s.newKey("reader", "read")
	if r := s.do(request{Method: "GET", Path: "/v1/invoices/" + id + "/pdf", Key: reader}); r.Status != 200 {
		t.Fatalf("read scope: %d", r.Status)
	}
	if r := s.do(request{Method: "GET", Path: "/v1/invoices/" + id + "/pdf"}); r.Status != 401 {
		t.Fatalf("no key: %d", r.Status)
	}

	// The e-mail attachment of an invoice event is the same PDF.
	name, b, ok, err := s.Server.Attachment(context.Background(), domain.EventInvoicePaid, cli, id, "evt_x")
	if err != nil || !ok || name != "INV-2026-0001.pdf" || !bytes.Equal(b, paid.Body) {
		t.Fatalf("attachment: %q %d bytes %v %v", name, len(b), ok, err)
	}
	if _, _, ok, err := s.Server.Attachment(context.Background(), domain.EventClientReinstated, cli, "", "evt_x"); ok || err != nil {
		t.Fatalf("client.reinstated has an attachment: %v %v", ok, err)
	}
}

func TestInvoicePDFManyLines(t *testing.T) {
	s := MustRunMain(t, pinned("2026-01-01"))
	cli := s.mustClient("Many Lines Ltd", "EUR", "UTC")
	var lines []map[string]any
	for i := range 120 {
		lines = append(lines, map[string]any{"description": fmt.Sprintf("Support ticket %d", i+1), "unit_amount": 1000 + i})
	}
	id := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "lines": lines}})["id"].(string)
	r := s.getPDF("/v1/invoices/"+id+"/pdf", nil)
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	n := pdfPages(t, r.Body)
	if n < 3 {
		t.Fatalf("120 lines on %d pages, want 3 or more", n)
	}
	mustContain(t, pdfText(t, r.Body), "Support ticket 1 ", "Support ticket 120",
		"Total 1,271.40 EUR") // 120 x 10.00 + (0 + ... + 119) cents = 1,200.00 + 71.40
	for i, page := range strings.Split(strings.TrimSuffix(pdfRawText(t, r.Body), "\f"), "\f") {
		if want := fmt.Sprintf("%d / %d", i+1, n); !strings.Contains(page, want) {
			t.Errorf("page %d lacks %q", i+1, want)
		}
	}
}

// TestStatementEndToEnd: 1,000.00 EUR net 30 from 2026-01-01 at 12 % act/365.
// A 10.00 payment on 2026-03-01 posts February's interest first (9.21) and
// pays it, the rest (0.79) goes to principal. On 2026-03-10 March has
// accrued 1 day on 1,000.00 and 9 days on 999.21: 0.3288 + 2.9566 = 3.29.
// It runs on SQLite and PostgreSQL: the statement is read in one read-only
// transaction on each.
func TestStatementEndToEnd(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) { statementEndToEnd(t, dialect) })
	}
}

func statementEndToEnd(t *testing.T, dialect string) {
	s := MustRunMain(t, pinned("2026-01-01"), func(c *Config) { c.DatabaseURL = testdb.URL(t, dialect) })
	cli := s.mustClient("Acme GmbH", "EUR", "UTC")
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "payment_terms": "net_30", "interest": map[string]any{"annual_rate": "12", "day_count": "act/365"}}})
	id := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
		"lines": []map[string]any{{"description": "Website", "unit_amount": 100000}}}})["id"].(string)
	// A paid invoice is not on the statement.
	other := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
		"lines": []map[string]any{{"description": "Logo", "unit_amount": 5000}}}})["id"].(string)
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + other + "/payments", Body: map[string]any{"amount": 5000, "paid_on": "2026-01-01"}})

	s.SetNow(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s.must(201, request{Method: "POST", Path: "/v1/invoices/" + id + "/payments", Body: map[string]any{"amount": 1000, "paid_on": "2026-03-01", "reference": "part"}})
	s.SetNow(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))

	st := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli + "/statement?as_of=2026-03-10"})
	if st["currency"] != "EUR" || st["as_of"] != "2026-03-10" || num(st, "total_due") != 100250 || st["client"].(map[string]any)["id"] != cli {
		t.Fatalf("statement %v", st)
	}
	invoices := st["invoices"].([]any)
	if len(invoices) != 1 {
		t.Fatalf("%d invoices on the statement, want 1", len(invoices))
	}
	line := invoices[0].(map[string]any)
	got := map[string]any{}
	for _, k := range []string{"id", "number", "issue_date", "due_date", "days_overdue", "total", "charges_total", "amount_paid",
		"balance_due", "interest_accrued_unposted", "charges_unposted", "amount_due"} {
		got[k] = line[k]
	}
	want := map[string]any{"id": id, "number": "INV-2026-0001", "issue_date": "2026-01-01", "due_date": "2026-01-31", "days_overdue": 38.0,
		"total": 100000.0, "charges_total": 921.0, "amount_paid": 1000.0, "balance_due": 99921.0,
		"interest_accrued_unposted": 329.0, "charges_unposted": 0.0, "amount_due": 100250.0}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("statement line\n got %v\nwant %v", got, want)
	}
	if basis := line["legal_basis"].(string); !strings.Contains(basis, "version 1, in force from 1 January 2026") {
		t.Fatalf("legal basis %q", basis)
	}
	var periods []string
	for _, p := range line["interest_periods"].([]any) {
		m := p.(map[string]any)
		periods = append(periods, fmt.Sprintf("%s %s %v %v %s %s %v %v", m["from"], m["to"], m["days"], m["base"], m["rate"], m["day_count"], m["amount"], m["posted"]))
	}
	wantPeriods := []string{
		"2026-02-01 2026-02-28 28 100000 12 act/365 921 true",
		"2026-03-01 2026-03-01 1 100000 12 act/365 33 false",
		"2026-03-02 2026-03-10 9 99921 12 act/365 296 false",
	}
	if !reflect.DeepEqual(periods, wantPeriods) {
		t.Fatalf("interest periods\n got %q\nwant %q", periods, wantPeriods)
	}
	if n := len(line["charges"].([]any)); n != 1 {
		t.Fatalf("%d charges", n)
	}
	if n := len(line["payments"].([]any)); n != 1 {
		t.Fatalf("%d payments", n)
	}

	// Today in the client's zone is the default date.
	if def := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli + "/statement"}); def["as_of"] != "2026-03-10" || num(def, "total_due") != 100250 {
		t.Fatalf("default as_of: %v %v", def["as_of"], def["total_due"])
	}
	// Dated ahead, March has run 1 day on 1,000.00 and 19 on 999.21: 0.3288 + 6.2417 = 6.57.
	if later := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli + "/statement?as_of=2026-03-20"}); num(later, "total_due") != 99921+657 {
		t.Fatalf("as of 2026-03-20: %v", later["total_due"])
	}

	r := s.getPDF("/v1/clients/"+cli+"/statement.pdf?as_of=2026-03-10", nil)
	if r.Status != 200 || r.Header.Get("Content-Disposition") != `inline; filename="statement-`+cli+`-2026-03-10.pdf"` || r.Header.Get("ETag") == "" {
		t.Fatalf("statement PDF: %d %q %s", r.Status, r.Header.Get("Content-Disposition"), r.Body)
	}
	mustContain(t, pdfText(t, r.Body), "STATEMENT", "Statement of account and demand for payment", "Acme GmbH",
		"1,002.50 EUR is due as of 10 March 2026", "Total due on 10 March 2026 1,002.50 EUR",
		"INV-2026-0001 1 January 2026 31 January 2026 38 1,000.00 10.00 12.50 1,002.50",
		"1 February 2026 28 February 2026 28 1,000.00 12 % 9.21", "1 March 2026 1 March 2026 1 1,000.00 12 % 0.33",
		"2 March 2026 10 March 2026 9 999.21 12 % 2.96", "Interest 12.50 EUR",
		"Interest: February 2026, 28 days at 12 % a year (act/365) on 1,000.00 EUR 9.21", "Interest: accrued to 10 March 2026, not yet posted 3.29",
		"1 March 2026 bank transfer part 10.00", "Legal basis: the late-payment terms of our agreement (version 1")
	if r2 := s.getPDF("/v1/clients/"+cli+"/statement.pdf?as_of=2026-03-10", map[string]string{"If-None-Match": r.Header.Get("ETag")}); r2.Status != 304 {
		t.Fatalf("statement If-None-Match: %d", r2.Status)
	}

	bad := []struct{ path, code, field string }{
		{"/v1/clients/" + cli + "/statement?as_of=2026-3-10", "invalid", "as_of"},
		{"/v1/clients/" + cli + "/statement?as_of=2026-03-09", "invalid", "as_of"},
		{"/v1/clients/" + cli + "/statement?as_of=2027-12-31", "invalid", "as_of"},
		{"/v1/clients/" + cli + "/statement.pdf?as_of=yesterday", "invalid", "as_of"},
		{"/v1/clients/" + cli + "/statement?currency=euro", "invalid", "currency"},
		{"/v1/clients/cli_nope/statement", "not_found", ""},
	}
	for _, b := range bad {
		r := s.do(request{Method: "GET", Path: b.path, Key: testAdminKey})
		want := map[string]int{"invalid": 400, "not_found": 404}[b.code]
		if r.Status != want || r.ErrorCode() != b.code {
			t.Fatalf("%s: %d %s", b.path, r.Status, r.Body)
		}
		if b.field != "" {
			if _, ok := r.JSON(t)["error"].(map[string]any)["fields"].(map[string]any)[b.field]; !ok {
				t.Fatalf("%s: error does not name %s: %s", b.path, b.field, r.Body)
			}
		}
	}
	// Another currency has nothing open.
	if usd := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli + "/statement?currency=USD"}); len(usd["invoices"].([]any)) != 0 || num(usd, "total_due") != 0 {
		t.Fatalf("USD statement %v", usd)
	}
}

func TestNoticePDFEndToEnd(t *testing.T) {
	s := MustRunMain(t, pinned("2026-03-01"))
	cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
		"name": "Slow Payer Ltd", "email": "ap@slow.example", "contact_name": "Jane Doe", "currency": "EUR", "timezone": "UTC"}})["id"].(string)
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{"effective_from": "2026-03-01", "payment_terms": "net_30"}})
	s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "lines": []map[string]any{{"description": "Work", "unit_amount": 100000}}}})
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli + "/agreements", Body: map[string]any{
		"effective_from": "2026-03-31", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500}}})
	// The first version sends its terms (no change to compare); the
	// second is the change notice.
	var first, evt string
	if err := s.DB.SQL().QueryRow("SELECT MIN(id), MAX(id) FROM events WHERE type = 'agreement.notice' AND client_id = ?", cli).Scan(&first, &evt); err != nil || first == evt {
		t.Fatal("want two agreement notices", err)
	}
	firstText := pdfText(t, s.getPDF("/v1/clients/"+cli+"/notices/"+first+".pdf", nil).Body)
	mustContain(t, firstText, "Your payment terms", "These are the payment terms of our agreement, in force from 1 March 2026.",
		"Payment is due within 30 days of the issue date.")
	for _, wrong := range []string{"No longer", "What changes", "will change"} {
		if strings.Contains(firstText, wrong) {
			t.Errorf("the first agreement's letter says %q:\n%s", wrong, firstText)
		}
	}

	r := s.getPDF("/v1/clients/"+cli+"/notices/"+evt+".pdf", nil)
	if r.Status != 200 || r.Header.Get("Content-Disposition") != `inline; filename="policy-change-2026-03-01.pdf"` {
		t.Fatalf("notice PDF: %d %q %s", r.Status, r.Header.Get("Content-Disposition"), r.Body)
	}
	mustContain(t, pdfText(t, r.Body), "NOTICE", "Slow Payer Ltd", "Dear Jane Doe,", "Notice of a change to your payment terms",
		"Effective from 31 March 2026", "will change from 31 March 2026", "What changes", "A late fee of 25.00 EUR applies.",
		"These changes take effect on 31 March 2026.")

	name, b, ok, err := s.Server.Attachment(context.Background(), domain.EventAgreementNotice, cli, "", evt)
	if err != nil || !ok || name != "policy-change-2026-03-01.pdf" || !bytes.Equal(b, r.Body) {
		t.Fatalf("notice attachment: %q %d bytes %v %v", name, len(b), ok, err)
	}

	// Suspension after 14 days overdue, warned 7 days before: due 2026-03-31,
	// warning on 2026-04-07, suspension on 2026-04-14.
	late := s.mustClient("Late Payer GmbH", "EUR", "UTC")
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + late + "/agreements", Body: map[string]any{
		"effective_from": "2026-03-01", "payment_terms": "net_30", "suspension": map[string]any{"after_days": 14, "warning_days": 7}}})
	s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": late, "issue": true,
		"lines": []map[string]any{{"description": "Hosting", "unit_amount": 120000}}}})
	eventOf := func(typ string) string {
		var id string
		if err := s.DB.SQL().QueryRow("SELECT id FROM events WHERE type = ? AND client_id = ?", typ, late).Scan(&id); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		return id
	}
	s.SetNow(time.Date(2026, 4, 7, 12, 0, 0, 0, time.UTC))
	s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
	warning := s.getPDF("/v1/clients/"+late+"/notices/"+eventOf(domain.EventClientSuspensionWarning)+".pdf", nil)
	if warning.Status != 200 || warning.Header.Get("Content-Disposition") != `inline; filename="suspension-warning-2026-04-07.pdf"` {
		t.Fatalf("warning PDF: %d %q %s", warning.Status, warning.Header.Get("Content-Disposition"), warning.Body)
	}
	mustContain(t, pdfText(t, warning.Body), "WARNING", "Warning: your service will be suspended", "Suspension on 14 April 2026",
		"1,200.00 EUR outstanding", "we will suspend our services to you on 14 April 2026", "Overdue invoices",
		"INV-2026-0002 1 March 2026 31 March 2026 7 1,200.00", "Total due 1,200.00 EUR")
	s.SetNow(time.Date(2026, 4, 14, 12, 0, 0, 0, time.UTC))
	s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
	suspended := s.getPDF("/v1/clients/"+late+"/notices/"+eventOf(domain.EventClientSuspended)+".pdf", nil)
	if suspended.Status != 200 {
		t.Fatalf("suspension PDF: %d %s", suspended.Status, suspended.Body)
	}
	mustContain(t, pdfText(t, suspended.Body), "Notice of suspension of service", "Suspended from 14 April 2026",
		"we have suspended our services to you as of 14 April 2026", "INV-2026-0002 1 March 2026 31 March 2026 14 1,200.00")

	other := s.mustClient("Someone Else", "EUR", "UTC")
	var created string
	if err := s.DB.SQL().QueryRow("SELECT id FROM events WHERE type = 'agreement.created' AND client_id = ? LIMIT 1", cli).Scan(&created); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"/v1/clients/" + other + "/notices/" + evt + ".pdf",   // another client's
		"/v1/clients/" + cli + "/notices/" + created + ".pdf", // not a notice
		"/v1/clients/" + cli + "/notices/evt_nope.pdf",
		"/v1/clients/" + cli + "/notices/" + evt, // no .pdf
	} {
		if r := s.do(request{Method: "GET", Path: path, Key: testAdminKey}); r.Status != 404 || r.ErrorCode() != "not_found" {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
	}
}

// BenchmarkInvoicePDFEndpoint downloads one invoice PDF over loopback: from
// the cache as the service runs, and with a server whose renderer keeps
// nothing, so every request renders.
func BenchmarkInvoicePDFEndpoint(b *testing.B) {
	s := MustRunMain(b, pinned("2026-01-01"))
	cli := s.mustClient("Bench GmbH", "EUR", "UTC")
	var lines []map[string]any
	for i := range 10 {
		lines = append(lines, map[string]any{"description": fmt.Sprintf("Design sprint %d", i+1), "quantity": "2.5", "unit_amount": 4000})
	}
	id := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "lines": lines}})["id"].(string)

	deps := s.Server.Deps
	deps.PDF = pdf.NewRenderer(0)
	uncachedSrv := httptest.NewServer(api.NewServer(s.Server.Config, deps))
	b.Cleanup(uncachedSrv.Close)

	for _, bc := range []struct{ name, url string }{{"cached", s.URL()}, {"uncached", uncachedSrv.URL}} {
		b.Run(bc.name, func(b *testing.B) {
			client := &http.Client{}
			get := func() int {
				req, _ := http.NewRequest("GET", bc.url+"/v1/invoices/"+id+"/pdf", nil)
				req.Header.Set("Authorization", "Bearer "+testAdminKey)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var buf bytes.Buffer
				_, _ = buf.ReadFrom(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d: %s", resp.StatusCode, buf.Bytes())
				}
				return buf.Len()
			}
			get()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				get()
			}
		})
	}
}

// TestInvoicePDFPrintsTheMemo: the memo a caller gives an invoice is on its PDF.
func TestInvoicePDFPrintsTheMemo(t *testing.T) {
	s := MustRunMain(t)
	cli := s.mustClient("Acme GmbH", "EUR", "Europe/Berlin")
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
		"memo": "PO 4471: quote it on your remittance", "lines": []map[string]any{{"description": "Design", "unit_amount": 150000}}}})
	r := s.getPDF("/v1/invoices/"+inv["id"].(string)+"/pdf", nil)
	if r.Status != 200 {
		t.Fatalf("invoice PDF: %d %s", r.Status, r.Body)
	}
	mustContain(t, pdfText(t, r.Body), "Memo PO 4471: quote it on your remittance", "Total 1,500.00 EUR")
}
