package main

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/remit/remit/api"
)

var romashka = map[string]any{
	"name": "ООО Ромашка", "email": "ap@romashka.example", "contact_name": "Ирина Петрова",
	"account_manager": "Sam", "timezone": "Europe/Moscow", "currency": "RUB",
	"communication":   map[string]any{"channel": "telegram", "response_time_hours": 4},
	"turnaround_days": 5, "relationship": "standard",
}

func TestClientsEndToEnd(t *testing.T) {
	s := MustRunMain(t)
	_, writer := s.newKey("crm", "write")

	c := s.must(201, request{Method: "POST", Path: "/v1/clients", Key: writer, Body: romashka})
	id := c["id"].(string)
	if !strings.HasPrefix(id, "cli_") || c["status"] != "active" || c["name"] != "ООО Ромашка" || c["currency"] != "RUB" {
		t.Fatalf("created %v", c)
	}
	comm := c["communication"].(map[string]any)
	if comm["channel"] != "telegram" || comm["response_time_hours"] != 4.0 || c["turnaround_days"] != 5.0 {
		t.Fatalf("communication %v", c)
	}

	got := s.must(200, request{Method: "GET", Path: "/v1/clients/" + id, Key: writer})
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("GET differs from POST:\n%v\n%v", got, c)
	}

	upd := s.must(200, request{Method: "PATCH", Path: "/v1/clients/" + id, Key: writer,
		Body: map[string]any{"contact_name": "Олег", "communication": map[string]any{"response_time_hours": 8}}})
	if upd["contact_name"] != "Олег" || upd["communication"].(map[string]any)["response_time_hours"] != 8.0 ||
		upd["communication"].(map[string]any)["channel"] != "telegram" || upd["name"] != "ООО Ромашка" {
		t.Fatalf("patched %v", upd)
	}

	for i := range 3 {
		body := map[string]any{"name": fmt.Sprintf("Client %d", i), "email": fmt.Sprintf("c%d@example.com", i), "currency": "EUR"}
		s.must(201, request{Method: "POST", Path: "/v1/clients", Key: writer, Body: body})
	}
	page := s.must(200, request{Method: "GET", Path: "/v1/clients?limit=2", Key: writer})
	data := page["data"].([]any)
	if len(data) != 2 || page["has_more"] != true || data[0].(map[string]any)["name"] != "Client 2" {
		t.Fatalf("first page %v", page)
	}
	last := data[1].(map[string]any)["id"].(string)
	page = s.must(200, request{Method: "GET", Path: "/v1/clients?limit=2&starting_after=" + last, Key: writer})
	data = page["data"].([]any)
	if len(data) != 2 || page["has_more"] != false || data[1].(map[string]any)["id"] != id {
		t.Fatalf("second page %v", page)
	}
	if c := s.must(201, request{Method: "POST", Path: "/v1/clients", Key: writer, Body: map[string]any{"name": "Defaults", "email": "d@example.com", "currency": "EUR"}}); c["timezone"] != "UTC" || c["relationship"] != "standard" {
		t.Fatalf("defaults %v", c)
	}

	// The data survives a restart on the same file.
	s = s.restart()
	again := s.must(200, request{Method: "GET", Path: "/v1/clients/" + id, Key: writer})
	if !reflect.DeepEqual(again, upd) {
		t.Fatalf("after restart:\n%v\nwant\n%v", again, upd)
	}
}

func TestAPIKeysEndToEnd(t *testing.T) {
	s := MustRunMain(t)
	readID, reader := s.newKey("dashboard", "read")
	list := s.must(200, request{Method: "GET", Path: "/v1/api_keys"})
	for _, k := range list["data"].([]any) {
		if _, ok := k.(map[string]any)["secret"]; ok {
			t.Fatal("a listed key shows its secret")
		}
	}
	s.must(200, request{Method: "GET", Path: "/v1/clients", Key: reader})
	if r := s.do(request{Method: "GET", Path: "/v1/api_keys", Key: reader}); r.Status != 403 || r.ErrorCode() != "forbidden" {
		t.Fatalf("reader listing keys: %d %s", r.Status, r.Body)
	}
	revoked := s.must(200, request{Method: "DELETE", Path: "/v1/api_keys/" + readID})
	if revoked["revoked_at"] == nil {
		t.Fatalf("revoke: %v", revoked)
	}
	if r := s.do(request{Method: "GET", Path: "/v1/clients", Key: reader}); r.Status != 401 || r.ErrorCode() != "unauthorized" {
		t.Fatalf("revoked key: %d %s", r.Status, r.Body)
	}
	if r := s.do(request{Method: "DELETE", Path: "/v1/api_keys/key_nope", Key: testAdminKey}); r.Status != 404 {
		t.Fatalf("revoke missing: %d", r.Status)
	}
}

func TestFirstStartPrintsAnAdminKey(t *testing.T) {
	s := MustRunMain(t, func(c *Config) { c.AdminKey = "" })
	if !strings.HasPrefix(s.AdminKey, "rk_") {
		t.Fatalf("no admin key created: %q", s.AdminKey)
	}
	s.must(200, request{Method: "GET", Path: "/v1/api_keys", Key: s.AdminKey})
	first := s.AdminKey
	s = s.restart()
	if s.AdminKey != "" {
		t.Fatal("a second start created another admin key")
	}
	s.must(200, request{Method: "GET", Path: "/v1/api_keys", Key: first})

	// Setting REMIT_ADMIN_KEY later adds that key; the printed one stays
	// valid beside it, as the README's quick start says.
	cfg := s.Config
	s.stop()
	cfg.AdminKey = testAdminKey
	s = startMain(t, cfg)
	s.must(200, request{Method: "GET", Path: "/v1/api_keys", Key: first})
	s.must(200, request{Method: "GET", Path: "/v1/api_keys", Key: testAdminKey})
}

func TestBadInput(t *testing.T) {
	s := MustRunMain(t, func(c *Config) { c.BodyLimit = 1 << 20 })
	_, writer := s.newKey("writer", "write")
	_, reader := s.newKey("reader", "read")
	revokedID, revoked := s.newKey("old", "write")
	s.must(200, request{Method: "DELETE", Path: "/v1/api_keys/" + revokedID})
	existing := s.must(201, request{Method: "POST", Path: "/v1/clients", Key: writer, Body: romashka})
	path := "/v1/clients/" + existing["id"].(string)

	good := `{"name":"Acme","email":"ap@acme.example","currency":"EUR"}`
	big := `{"name":"` + strings.Repeat("a", 2<<20) + `","email":"a@b.example","currency":"EUR"}`
	cases := []struct {
		name, method, path, key string
		body                    any
		status                  int
		code, field             string
	}{
		{"malformed JSON", "POST", "/v1/clients", writer, `{"name":`, 400, "invalid", ""},
		{"wrong type", "POST", "/v1/clients", writer, `{"name":42,"email":"a@b.example","currency":"EUR"}`, 400, "invalid", "name"},
		{"wrong nested type", "POST", "/v1/clients", writer, `{"name":"A","email":"a@b.example","currency":"EUR","communication":{"response_time_hours":"soon"}}`, 400, "invalid", "communication.response_time_hours"},
		{"unknown field", "POST", "/v1/clients", writer, `{"name":"A","email":"a@b.example","currency":"EUR","curency":"USD"}`, 400, "invalid", "curency"},
		{"duplicate field", "POST", "/v1/clients", writer, `{"name":"A","name":"B","email":"a@b.example","currency":"EUR"}`, 400, "invalid", ""},
		{"trailing data", "POST", "/v1/clients", writer, good + `{}`, 400, "invalid", ""},
		{"array body", "POST", "/v1/clients", writer, `[]`, 400, "invalid", ""},
		{"null body", "PATCH", path, writer, `null`, 400, "invalid", ""},
		{"2 MiB body", "POST", "/v1/clients", writer, big, 413, "too_large", ""},
		{"empty body", "POST", "/v1/clients", writer, "", 400, "invalid", ""},
		{"no key", "POST", "/v1/clients", "", good, 401, "unauthorized", ""},
		{"wrong key", "POST", "/v1/clients", "rk_wrong", good, 401, "unauthorized", ""},
		{"revoked key", "POST", "/v1/clients", revoked, good, 401, "unauthorized", ""},
		{"read-only key on a write", "POST", "/v1/clients", reader, good, 403, "forbidden", ""},
		{"read-only key on a patch", "PATCH", path, reader, `{"name":"X"}`, 403, "forbidden", ""},
		{"write key on admin route", "POST", "/v1/api_keys", writer, `{"name":"x","scopes":["admin"]}`, 403, "forbidden", ""},
		{"bad time zone", "POST", "/v1/clients", writer, `{"name":"A","email":"a@b.example","currency":"EUR","timezone":"Mars/Olympus"}`, 400, "invalid", "timezone"},
		{"bad currency", "POST", "/v1/clients", writer, `{"name":"A","email":"a@b.example","currency":"EURO"}`, 400, "invalid", "currency"},
		{"lower-case currency", "POST", "/v1/clients", writer, `{"name":"A","email":"a@b.example","currency":"eur"}`, 400, "invalid", "currency"},
		{"bad email", "POST", "/v1/clients", writer, `{"name":"A","email":"not an email","currency":"EUR"}`, 400, "invalid", "email"},
		{"over-long name", "POST", "/v1/clients", writer, `{"name":"` + strings.Repeat("я", 201) + `","email":"a@b.example","currency":"EUR"}`, 400, "invalid", "name"},
		{"missing name", "POST", "/v1/clients", writer, `{"email":"a@b.example","currency":"EUR"}`, 400, "invalid", "name"},
		{"bad relationship", "POST", "/v1/clients", writer, `{"name":"A","email":"a@b.example","currency":"EUR","relationship":"cousin"}`, 400, "invalid", "relationship"},
		{"negative turnaround", "POST", "/v1/clients", writer, `{"name":"A","email":"a@b.example","currency":"EUR","turnaround_days":-1}`, 400, "invalid", "turnaround_days"},
		{"patch to offboarded", "PATCH", path, writer, `{"status":"offboarded"}`, 400, "invalid", "status"},
		{"patch bad timezone", "PATCH", path, writer, `{"timezone":"Nowhere"}`, 400, "invalid", "timezone"},
		{"patch missing client", "PATCH", "/v1/clients/cli_nope", writer, `{"name":"X"}`, 404, "not_found", ""},
		{"page limit 100000", "GET", "/v1/clients?limit=100000", writer, nil, 400, "invalid", "limit"},
		{"page limit zero", "GET", "/v1/clients?limit=0", writer, nil, 400, "invalid", "limit"},
		{"bad status filter", "GET", "/v1/clients?status=gone", writer, nil, 400, "invalid", "status"},
		{"bad scope", "POST", "/v1/api_keys", testAdminKey, `{"name":"x","scopes":["root"]}`, 400, "invalid", "scopes"},
		{"no such route", "GET", "/v1/nothing", writer, nil, 404, "not_found", ""},
		{"method not allowed", "DELETE", "/v1/clients", writer, nil, 405, "method_not_allowed", ""},
		{"form body", "POST", "/v1/clients", writer, good, 400, "invalid", "Content-Type"},
	}
	before := s.snapshot()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := request{Method: tc.method, Path: tc.path, Key: tc.key, Body: tc.body}
			if tc.name == "form body" {
				r.Header = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			}
			resp := s.do(r)
			if resp.Status != tc.status || resp.ErrorCode() != tc.code {
				t.Fatalf("got %d %q, want %d %q: %s", resp.Status, resp.ErrorCode(), tc.status, tc.code, resp.Body)
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Fatal("no X-Request-Id")
			}
			if tc.field != "" {
				fields, _ := resp.JSON(t)["error"].(map[string]any)["fields"].(map[string]any)
				if _, ok := fields[tc.field]; !ok {
					t.Fatalf("error does not name field %q: %s", tc.field, resp.Body)
				}
			}
		})
	}
	if after := s.snapshot(); !reflect.DeepEqual(before, after) {
		t.Fatalf("refused requests changed the database:\nbefore %v\nafter  %v", before, after)
	}
}

func TestIdempotencyEndToEnd(t *testing.T) {
	s := MustRunMain(t)
	_, writer := s.newKey("crm", "write")
	hdr := map[string]string{"Idempotency-Key": "create-acme-1"}
	body := `{"name":"Acme","email":"ap@acme.example","currency":"EUR"}`
	first := s.do(request{Method: "POST", Path: "/v1/clients", Key: writer, Body: body, Header: hdr})
	second := s.do(request{Method: "POST", Path: "/v1/clients", Key: writer, Body: body, Header: hdr})
	if first.Status != 201 || second.Status != 201 || string(first.Body) != string(second.Body) || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.Status, first.Body, second.Status, second.Body)
	}
	other := s.do(request{Method: "POST", Path: "/v1/clients", Key: writer, Body: `{"name":"Other","email":"ap@acme.example","currency":"EUR"}`, Header: hdr})
	if other.Status != 422 || other.ErrorCode() != "idempotency_mismatch" {
		t.Fatalf("same key, other body: %d %s", other.Status, other.Body)
	}

	// 20 concurrent requests with one key: one runs, all get its response.
	hdr = map[string]string{"Idempotency-Key": "create-beta-1"}
	body = `{"name":"Beta","email":"ap@beta.example","currency":"EUR"}`
	var wg sync.WaitGroup
	bodies := make([]string, 20)
	statuses := make([]int, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.do(request{Method: "POST", Path: "/v1/clients", Key: writer, Body: body, Header: hdr})
			bodies[i], statuses[i] = string(r.Body), r.Status
		}()
	}
	wg.Wait()
	for i := range 20 {
		if statuses[i] != 201 || bodies[i] != bodies[0] {
			t.Fatalf("request %d: %d %s (first %s)", i, statuses[i], bodies[i], bodies[0])
		}
	}
	list := s.must(200, request{Method: "GET", Path: "/v1/clients", Key: writer})
	names := map[string]int{}
	for _, c := range list["data"].([]any) {
		names[c.(map[string]any)["name"].(string)]++
	}
	if names["Acme"] != 1 || names["Beta"] != 1 || len(names) != 2 {
		t.Fatalf("clients created: %v", names)
	}
}

func TestRateLimitPerKey(t *testing.T) {
	s := MustRunMain(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.001, 3 })
	_, a := s.newKey("a", "read")
	_, b := s.newKey("b", "read")
	for range 3 {
		s.must(200, request{Method: "GET", Path: "/v1/clients", Key: a})
	}
	r := s.do(request{Method: "GET", Path: "/v1/clients", Key: a})
	if r.Status != http.StatusTooManyRequests || r.ErrorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("4th request: %d %s", r.Status, r.Body)
	}
	s.must(200, request{Method: "GET", Path: "/v1/clients", Key: b})
}

func TestHealthAndOpenAPI(t *testing.T) {
	s := MustRunMain(t)
	if r := s.do(request{Method: "GET", Path: "/healthz"}); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	r := s.do(request{Method: "GET", Path: "/openapi.json"})
	doc := r.JSON(t)
	if r.Status != 200 || !strings.HasPrefix(doc["openapi"].(string), "3.") {
		t.Fatalf("openapi: %d %.200s", r.Status, r.Body)
	}
	y := s.do(request{Method: "GET", Path: "/openapi.yaml"})
	if y.Status != 200 || y.Header.Get("Content-Type") != "application/yaml" || !bytes.Equal(y.Body, api.OpenAPIYAML) {
		t.Fatalf("openapi.yaml: %d %q %.200s", y.Status, y.Header.Get("Content-Type"), y.Body)
	}
}

func TestConfigNamesTheBadVariable(t *testing.T) {
	cases := map[string]string{
		"REMIT_TIMEZONE":       "Mars/Base",
		"REMIT_NOW":            "yesterday",
		"REMIT_RATE_LIMIT":     "fast",
		"REMIT_BODY_LIMIT":     "-5",
		"REMIT_SWEEP_INTERVAL": "often",
		"REMIT_ADMIN_KEY":      "short",
		"SMTP_URL":             "http://mail",
		"STRIPE_API_BASE":      "localhost",
		"REMIT_LOG_LEVEL":      "loud",
		"REMIT_NOTICE_DAYS":    "999",
	}
	for name, val := range cases {
		_, err := LoadConfig(func(k string) string {
			if k == name {
				return val
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v does not name the variable", name, val, err)
		}
	}
	c, err := LoadConfig(func(k string) string {
		return map[string]string{"REMIT_NOW": "2026-03-01", "DATABASE_URL": "postgres://x"}[k]
	})
	if err != nil || c.Now.Format("2006-01-02") != "2026-03-01" || c.DatabaseURL != "postgres://x" || c.Addr != ":8080" || c.Business.NoticeDays != 30 {
		t.Fatalf("config %+v %v", c, err)
	}
}
