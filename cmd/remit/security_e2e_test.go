package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/remit/remit/internal/testdb"
)

// TestOwnerCannotBeLockedOut: the last live admin key cannot be revoked, and
// REMIT_ADMIN_KEY at start always brings its key back to life.
func TestOwnerCannotBeLockedOut(t *testing.T) {
	s := MustRunMain(t)
	keys := s.must(200, request{Method: "GET", Path: "/v1/api_keys"})["data"].([]any)
	envID := keys[0].(map[string]any)["id"].(string)
	r := s.do(request{Method: "DELETE", Path: "/v1/api_keys/" + envID, Key: testAdminKey})
	if r.Status != 409 || r.ErrorCode() != "last_admin_key" {
		t.Fatalf("an admin key revoking itself, the last one: %d %s", r.Status, r.Body)
	}
	s.must(200, request{Method: "GET", Path: "/v1/api_keys"})

	// With a second admin key, the environment's key can be revoked...
	secondID, second := s.newKey("second admin", "admin")
	s.must(200, request{Method: "DELETE", Path: "/v1/api_keys/" + envID, Key: second})
	if r := s.do(request{Method: "GET", Path: "/v1/api_keys", Key: testAdminKey}); r.Status != 401 {
		t.Fatalf("revoked key: %d", r.Status)
	}
	if r := s.do(request{Method: "DELETE", Path: "/v1/api_keys/" + secondID, Key: second}); r.Status != 409 || r.ErrorCode() != "last_admin_key" {
		t.Fatalf("revoking the last admin key: %d %s", r.Status, r.Body)
	}
	// ... and a restart with REMIT_ADMIN_KEY makes it live again, saying so.
	s = s.restart()
	s.must(200, request{Method: "GET", Path: "/v1/api_keys"})
	if logs := s.logs(); !strings.Contains(logs, "re-activated the admin key from REMIT_ADMIN_KEY") || !strings.Contains(logs, envID) {
		t.Fatalf("the start log does not say the key was re-activated:\n%s", logs)
	}
	s = s.restart()
	if logs := s.logs(); !strings.Contains(logs, "the admin key from REMIT_ADMIN_KEY is live") {
		t.Fatalf("the start log does not say the key is live:\n%s", logs)
	}
}

// TestIdempotencyFingerprintIsCanonicalJSON: a retry that re-serialises
// the same JSON (other key order, other whitespace, other escapes) replays;
// another value, even a number that only a float would confuse, is refused.
func TestIdempotencyFingerprintIsCanonicalJSON(t *testing.T) {
	s := MustRunMain(t)
	hdr := map[string]string{"Idempotency-Key": "create-acme-canonical"}
	first := s.do(request{Method: "POST", Path: "/v1/clients", Key: testAdminKey, Header: hdr,
		Body: `{"name":"Acme","email":"ap@acme.example","currency":"EUR","communication":{"channel":"email","response_time_hours":4}}`})
	again := s.do(request{Method: "POST", Path: "/v1/clients", Key: testAdminKey, Header: hdr,
		Body: "{\n  \"currency\": \"EUR\",\n  \"communication\": {\"response_time_hours\": 4, \"channel\": \"email\"},\n  \"email\": \"ap@acme.example\", \"name\": \"\\u0041cme\"\n}\n"})
	if first.Status != 201 || again.Status != 201 || string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("re-serialised retry: %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
	}
	other := s.do(request{Method: "POST", Path: "/v1/clients", Key: testAdminKey, Header: hdr,
		Body: `{"name":"Acme","email":"ap@acme.example","currency":"EUR","communication":{"channel":"email","response_time_hours":5}}`})
	if other.Status != 422 || other.ErrorCode() != "idempotency_mismatch" {
		t.Fatalf("another value: %d %s", other.Status, other.Body)
	}

	// Two amounts a float64 cannot tell apart are two requests.
	cli := s.mustClient("Big", "EUR", "UTC")
	hdr = map[string]string{"Idempotency-Key": "invoice-big"}
	body := func(amount string) string {
		return `{"client_id":"` + cli + `","lines":[{"description":"W","unit_amount":` + amount + `}]}`
	}
	s.do(request{Method: "POST", Path: "/v1/invoices", Key: testAdminKey, Header: hdr, Body: body("9007199254740993")})
	if r := s.do(request{Method: "POST", Path: "/v1/invoices", Key: testAdminKey, Header: hdr, Body: body("9007199254740992")}); r.Status != 422 || r.ErrorCode() != "idempotency_mismatch" {
		t.Fatalf("another amount: %d %s", r.Status, r.Body)
	}
}

// TestDuplicateScopesRefused: a key's scopes are a set.
func TestDuplicateScopesRefused(t *testing.T) {
	s := MustRunMain(t)
	s.mustRefuseAll(t, []refusal{
		{"twice", "POST", "/v1/api_keys", map[string]any{"name": "k", "scopes": []string{"read", "read"}}, 400, "invalid", "scopes"},
	})
}

// TestConcurrentOffboarding: twenty concurrent offboardings of one client
// all get the first one's plan, on both databases.
func TestConcurrentOffboarding(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s := MustRunMain(t, pinned("2026-03-02"), func(c *Config) { c.DatabaseURL = testdb.URL(t, dialect) })
			cli := s.mustClient("Done With", "EUR", "UTC")
			s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true, "issue_date": "2026-02-01",
				"lines": []map[string]any{{"description": "Audit", "unit_amount": 50000}}}})
			s.must(201, request{Method: "POST", Path: "/v1/projects", Body: map[string]any{"client_id": cli, "name": "Relaunch",
				"milestones": []map[string]any{{"name": "Design", "amount": 200000, "planned_date": "2026-03-20"}, {"name": "Build", "amount": 300000, "planned_date": "2026-04-30"}}}})
			const n = 20
			out := make([]*response, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					out[i] = s.do(request{Method: "POST", Path: "/v1/clients/" + cli + "/offboard", Key: testAdminKey,
						Body: map[string]any{"reason": "other", "note": "moving on"}})
				})
			}
			wg.Wait()
			for i, r := range out {
				if r.Status != 200 || string(r.Body) != string(out[0].Body) {
					t.Fatalf("call %d: %d %s\nfirst: %d %s", i, r.Status, r.Body, out[0].Status, out[0].Body)
				}
			}
			if n := s.count("offboardings", "client_id = ?", cli); n != 1 {
				t.Fatalf("%d offboardings", n)
			}
		})
	}
}

// TestTextIsText: NUL, control characters and invalid UTF-8 in any text
// field, path or query parameter are refused with 400 naming it, on both
// databases (PostgreSQL refuses NUL in text, which used to be a 500), and
// nothing is written; multi-line fields keep their tabs and line breaks.
func TestTextIsText(t *testing.T) {
	for _, dialect := range testdb.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s := MustRunMain(t, pinned("2026-03-02"), func(c *Config) { c.DatabaseURL = testdb.URL(t, dialect) })
			cli := s.mustClient("Text Ltd", "EUR", "UTC")
			inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli, "issue": true,
				"lines": []map[string]any{{"description": "Audit", "unit_amount": 50000}}}})["id"].(string)
			pay := s.must(201, request{Method: "POST", Path: "/v1/invoices/" + inv + "/payments", Body: map[string]any{"amount": 100, "paid_on": "2026-03-02"}})["id"].(string)
			client := func(field, value string) map[string]any {
				c := map[string]any{"name": "N", "email": "n@example.com", "currency": "EUR"}
				c[field] = value
				return c
			}
			invoice := func(description, memo, clientID string) map[string]any {
				return map[string]any{"client_id": clientID, "memo": memo, "lines": []map[string]any{{"description": description, "unit_amount": 100}}}
			}
			entry := func(field, value string) map[string]any {
				e := map[string]any{"client_id": cli, "date": "2026-03-01", "minutes": 60, "description": "Work"}
				e[field] = value
				return e
			}
			s.mustRefuseAll(t, []refusal{
				{"client name NUL", "POST", "/v1/clients", client("name", "A\x00B"), 400, "invalid", "name"},
				{"client name tab", "POST", "/v1/clients", client("name", "A\tB"), 400, "invalid", "name"},
				{"client name escape", "POST", "/v1/clients", client("name", "\x1b[31mRed"), 400, "invalid", "name"},
				{"client name C1", "POST", "/v1/clients", client("name", "A\u0085B"), 400, "invalid", "name"},
				{"contact name", "POST", "/v1/clients", client("contact_name", "Ann\x01"), 400, "invalid", "contact_name"},
				{"account manager newline", "POST", "/v1/clients", client("account_manager", "Bob\nEve"), 400, "invalid", "account_manager"},
				{"email NUL", "POST", "/v1/clients", client("email", "a\x00@example.com"), 400, "invalid", "email"},
				{"address NUL", "POST", "/v1/clients", client("address", "Main St\x00"), 400, "invalid", "address"},
				{"client name invalid UTF-8", "POST", "/v1/clients", []byte("{\"name\":\"A\xff\",\"email\":\"n@example.com\",\"currency\":\"EUR\"}"), 400, "invalid", "name"},
				{"patch contact", "PATCH", "/v1/clients/" + cli, map[string]any{"contact_name": "\x00"}, 400, "invalid", "contact_name"},
				{"line description", "POST", "/v1/invoices", invoice("Work\x00", "", cli), 400, "invalid", "lines[0].description"},
				{"memo", "POST", "/v1/invoices", invoice("Work", "\x07", cli), 400, "invalid", "memo"},
				{"invoice client id", "POST", "/v1/invoices", invoice("Work", "", cli+"\x00"), 400, "invalid", "client_id"},
				{"payment reference", "POST", "/v1/invoices/" + inv + "/payments", map[string]any{"amount": 100, "reference": "REF\x00"}, 400, "invalid", "reference"},
				{"payment method", "POST", "/v1/invoices/" + inv + "/payments", map[string]any{"amount": 100, "method": "card\x00"}, 400, "invalid", "method"},
				{"refund reason", "POST", "/v1/payments/" + pay + "/refunds", map[string]any{"amount": 50, "reason": "oops\x00"}, 400, "invalid", "reason"},
				{"time description", "POST", "/v1/time_entries", entry("description", "Call\x00"), 400, "invalid", "description"},
				{"time client id", "POST", "/v1/time_entries", entry("client_id", "\x00"), 400, "invalid", "client_id"},
				{"time external id", "POST", "/v1/time_entries", entry("external_id", "x\ny"), 400, "invalid", "external_id"},
				{"bulk description", "POST", "/v1/time_entries/bulk", map[string]any{"entries": []any{entry("description", "\x00")}}, 400, "invalid", "entries[0].description"},
				{"project name", "POST", "/v1/projects", map[string]any{"client_id": cli, "name": "P\x00",
					"milestones": []map[string]any{{"name": "M", "amount": 100, "planned_date": "2026-04-01"}}}, 400, "invalid", "name"},
				{"milestone name", "POST", "/v1/projects", map[string]any{"client_id": cli, "name": "P",
					"milestones": []map[string]any{{"name": "M\x00", "amount": 100, "planned_date": "2026-04-01"}}}, 400, "invalid", "milestones[0].name"},
				{"offboard note", "POST", "/v1/clients/" + cli + "/offboard", map[string]any{"reason": "other", "note": "\x00"}, 400, "invalid", "note"},
				{"offboard reason", "POST", "/v1/clients/" + cli + "/offboard", map[string]any{"reason": "other\x00"}, 400, "invalid", "reason"},
				{"agreement terms", "POST", "/v1/clients/" + cli + "/agreements", map[string]any{"effective_from": "2026-01-01", "payment_terms": "net_15\x00"}, 400, "invalid", "payment_terms"},
				{"key name", "POST", "/v1/api_keys", map[string]any{"name": "k\x00", "scopes": []string{"read"}}, 400, "invalid", "name"},
				{"webhook description", "POST", "/v1/webhook_endpoints", map[string]any{"url": "https://hooks.example.com/x", "description": "\x00", "enabled_events": []string{"*"}}, 400, "invalid", "description"},
				{"path id", "GET", "/v1/clients/cli%00", nil, 400, "invalid", "id"},
				{"path id invalid UTF-8", "GET", "/v1/invoices/inv%FF", nil, 400, "invalid", "id"},
				{"query", "GET", "/v1/invoices?client_id=%00", nil, 400, "invalid", "client_id"},
				{"rate series", "PUT", "/v1/reference_rates/ecb%00", map[string]any{"rates": []any{}}, 400, "invalid", "series"},
			})
			r := s.do(request{Method: "POST", Path: "/v1/clients", Key: testAdminKey, Body: client("name", "X"), Header: map[string]string{"Idempotency-Key": "k\xff"}})
			if r.Status != 400 || r.ErrorCode() != "invalid" {
				t.Fatalf("Idempotency-Key not UTF-8: %d %s", r.Status, r.Body)
			}

			// Multi-line fields keep tabs and line breaks; one-line fields take any letters.
			c := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{"name": "Łódź Ünïcode 東京", "email": "u@example.com",
				"currency": "EUR", "address": "1 Main St\r\n\tSuite 2\nSpringfield"}})
			if c["address"] != "1 Main St\r\n\tSuite 2\nSpringfield" || c["name"] != "Łódź Ünïcode 東京" {
				t.Fatalf("client %v", c)
			}
			in := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: invoice("Design\n\t- logo\n\t- colours", "Thanks!\nSee you", cli)})
			if in["memo"] != "Thanks!\nSee you" {
				t.Fatalf("invoice %v", in)
			}
		})
	}
}

// TestAPIKeySecretStoredNowhere: the secret of a key created with an
// Idempotency-Key is in its first response only: not in the database file,
// its WAL, a backup or the logs, and a replay answers with the key's
// metadata and the secret redacted.
func TestAPIKeySecretStoredNowhere(t *testing.T) {
	s := MustRunMain(t)
	create := request{Method: "POST", Path: "/v1/api_keys", Key: testAdminKey, Header: map[string]string{"Idempotency-Key": "new-dashboard-key"},
		Body: map[string]any{"name": "dashboard", "scopes": []string{"read"}}}
	first := s.do(create)
	secret, _ := first.JSON(t)["secret"].(string)
	if first.Status != 201 || !strings.HasPrefix(secret, "rk_") {
		t.Fatalf("create: %d %s", first.Status, first.Body)
	}
	replay := s.do(create)
	got := replay.JSON(t)
	if replay.Status != 201 || replay.Header.Get("Idempotent-Replayed") != "true" || got["id"] != first.JSON(t)["id"] ||
		got["secret_redacted"] != true || got["prefix"] != secret[:7] {
		t.Fatalf("replay: %d %s", replay.Status, replay.Body)
	}
	if _, ok := got["secret"]; ok || strings.Contains(string(replay.Body), secret) {
		t.Fatalf("the replay shows the secret: %s", replay.Body)
	}
	s.must(200, request{Method: "GET", Path: "/v1/clients", Key: secret})

	t.Setenv("DATABASE_URL", s.Config.DatabaseURL)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := run(context.Background(), []string{"backup", backup}); err != nil {
		t.Fatalf("remit backup: %v", err)
	}
	for _, file := range []string{s.Config.DatabaseURL, s.Config.DatabaseURL + "-wal", backup, s.logPath} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 && !strings.HasSuffix(file, "-wal") {
			t.Fatalf("%s is empty", file)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret in clear", file)
		}
	}
}
