package main

import (
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
