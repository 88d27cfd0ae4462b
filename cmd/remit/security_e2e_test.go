package main

import (
	"strings"
	"testing"
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
