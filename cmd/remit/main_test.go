package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/remit/remit/internal/testdb"
)

// testAdminKey is the REMIT_ADMIN_KEY of every end-to-end test.
const testAdminKey = "rk_test_admin_key_0123456789abcdef"

// testServer is a running Main and an HTTP client for it.
type testServer struct {
	*Main
	tb     testing.TB
	client *http.Client
	// logPath is the file the service writes its JSON log lines to.
	logPath string
}

// allowPrivateWebhooks lets webhooks reach the tests' local receivers
// (REMIT_WEBHOOK_ALLOW_PRIVATE=true).
func allowPrivateWebhooks(c *Config) { c.WebhookAllowPrivate = true }

// MustRunMain starts the whole service on a random port with a fresh SQLite
// file (or the URL a modifier sets), and stops it when the test ends.
func MustRunMain(tb testing.TB, modify ...func(*Config)) *testServer {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DatabaseURL = testdb.SQLiteURL(tb)
	cfg.AdminKey = testAdminKey
	cfg.RateLimit = 0
	cfg.SweepInterval = 0
	cfg.DeliveryInterval = 0 // a test that wants delivery sets it; snapshots must not race the worker
	cfg.ShutdownTimeout = 5 * time.Second
	for _, m := range modify {
		m(&cfg)
	}
	return startMain(tb, cfg)
}

func startMain(tb testing.TB, cfg Config) *testServer {
	tb.Helper()
	logs, err := os.CreateTemp(tb.TempDir(), "log")
	if err != nil {
		tb.Fatal(err)
	}
	m := NewMain(cfg, logs)
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	// Every exchange through s.client is checked against api/openapi.yaml.
	client := contractClient(tb, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute})
	s := &testServer{Main: m, tb: tb, client: client, logPath: logs.Name()}
	tb.Cleanup(func() { s.stop() })
	return s
}

// stop closes the service once.
func (s *testServer) stop() {
	if s.httpServer == nil {
		return
	}
	// Connections the client dialled but never used count as busy for 5 s
	// in http.Server.Shutdown; close them first.
	s.client.CloseIdleConnections()
	if err := s.Close(); err != nil {
		s.tb.Errorf("close: %v", err)
	}
	s.httpServer, s.DB = nil, nil
}

// logs returns what the service has logged so far.
func (s *testServer) logs() string {
	s.tb.Helper()
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		s.tb.Fatal(err)
	}
	return string(b)
}

// restart stops the service and starts it again on the same database.
func (s *testServer) restart() *testServer {
	s.tb.Helper()
	cfg := s.Config
	s.stop()
	return startMain(s.tb, cfg)
}

// response is what a request got back.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map (or fails the test).
func (r *response) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("response is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// ErrorCode returns error.code of an error body, or "".
func (r *response) ErrorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// request is one HTTP call: key "" sends no Authorization header; body may be
// a string or []byte (sent as is) or any value (sent as JSON).
type request struct {
	Method, Path, Key string
	Body              any
	Header            map[string]string
}

func (s *testServer) do(r request) *response {
	s.tb.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.tb.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	req, err := http.NewRequest(r.Method, s.URL()+r.Path, body)
	if err != nil {
		s.tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Key != "" {
		req.Header.Set("Authorization", "Bearer "+r.Key)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.tb.Fatal(err)
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// must sends r as admin (unless r.Key is set) and fails unless the status is want.
func (s *testServer) must(want int, r request) map[string]any {
	s.tb.Helper()
	if r.Key == "" {
		r.Key = testAdminKey
	}
	resp := s.do(r)
	if resp.Status != want {
		s.tb.Fatalf("%s %s: status %d, want %d: %s", r.Method, r.Path, resp.Status, want, resp.Body)
	}
	if len(resp.Body) == 0 {
		return nil
	}
	return resp.JSON(s.tb)
}

// newKey creates an API key with the scopes and returns its secret.
func (s *testServer) newKey(name string, scopes ...string) (id, secret string) {
	s.tb.Helper()
	k := s.must(201, request{Method: "POST", Path: "/v1/api_keys", Body: map[string]any{"name": name, "scopes": scopes}})
	return k["id"].(string), k["secret"].(string)
}

// snapshot returns every row of every table (goose's own excepted) as text,
// to prove that a refused request wrote nothing.
func (s *testServer) snapshot() map[string][]string {
	s.tb.Helper()
	db := s.DB.SQL()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if s.DB.Dialect() == "postgres" {
		q = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
	}
	rows, err := db.Query(q)
	if err != nil {
		s.tb.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			s.tb.Fatal(err)
		}
		if !strings.HasPrefix(t, "goose") {
			tables = append(tables, t)
		}
	}
	rows.Close()
	out := map[string][]string{}
	for _, t := range tables {
		rows, err := db.Query("SELECT * FROM " + t + " ORDER BY 1")
		if err != nil {
			s.tb.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				s.tb.Fatal(err)
			}
			out[t] = append(out[t], fmt.Sprintf("%v", vals))
		}
		rows.Close()
	}
	return out
}

// refusal is a request (sent with the admin key) that must be refused with
// status and code, naming field in the error when field is set.
type refusal struct {
	name, method, path string
	body               any
	status             int
	code, field        string
}

// mustRefuseAll sends each case as a subtest and then checks that none of
// them changed the database.
func (s *testServer) mustRefuseAll(t *testing.T, cases []refusal) {
	t.Helper()
	before := s.snapshot()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(request{Method: tc.method, Path: tc.path, Key: testAdminKey, Body: tc.body})
			if r.Status != tc.status || r.ErrorCode() != tc.code {
				t.Fatalf("got %d %q, want %d %q: %s", r.Status, r.ErrorCode(), tc.status, tc.code, r.Body)
			}
			if tc.field != "" {
				fields, _ := r.JSON(t)["error"].(map[string]any)["fields"].(map[string]any)
				if _, ok := fields[tc.field]; !ok {
					t.Fatalf("error does not name %q: %s", tc.field, r.Body)
				}
			}
		})
	}
	if after := s.snapshot(); !reflect.DeepEqual(before, after) {
		for k := range after {
			if !reflect.DeepEqual(before[k], after[k]) {
				t.Errorf("table %s changed:\n%v\n%v", k, before[k], after[k])
			}
		}
		t.Fatal("refused requests changed the database")
	}
}
