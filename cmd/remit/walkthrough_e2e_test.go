package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWalkthroughScript runs docs/walkthrough.sh, the README's walkthrough,
// against the real server on a fresh SQLite database and today's real date
// (no REMIT_NOW), with stripe-mock for its Stripe section when installed.
// Any step that answers other than the script expects fails the test. It is
// skipped only when bash, curl or jq is missing and CI is not set; under CI
// a missing tool is a failure.
func TestWalkthroughScript(t *testing.T) {
	ci := os.Getenv("CI") != ""
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if ci {
				t.Fatalf("%s is not installed; CI must run the walkthrough (.ci/run installs it)", tool)
			}
			t.Skipf("SKIPPED: %s is not installed (apt-get install %s); the walkthrough needs it", tool, tool)
		}
	}
	// The Stripe section signs its webhook with openssl and talks to stripe-mock.
	_, noOpenSSL := exec.LookPath("openssl")
	stripeBase := ""
	switch {
	case stripeMockBinary() != "" && noOpenSSL == nil:
		stripeBase = startStripeMock(t)
	case ci:
		t.Fatal("stripe-mock or openssl is missing; CI must run the walkthrough's Stripe section (make tools, .ci/run)")
	default:
		t.Log("stripe-mock or openssl is missing: the walkthrough runs without its Stripe section")
	}
	s := MustRunMain(t, func(c *Config) {
		c.Now = time.Time{}                         // today's real date
		c.DeliveryInterval = 200 * time.Millisecond // the notice letter step waits for a delivery
		c.ShutdownTimeout = 15 * time.Second
		if stripeBase != "" {
			c.StripeSecretKey, c.StripeWebhookSecret, c.StripeAPIBase = testStripeKey, testWebhookSecret, stripeBase
			c.StripeSuccessURL, c.StripeCancelURL = "https://example.com/paid", "https://example.com/cancelled"
		}
	})

	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "docs/walkthrough.sh")
	cmd.Dir = root
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8",
		"REMIT_URL=" + s.URL(), "REMIT_ADMIN_KEY=" + testAdminKey}
	if stripeBase != "" {
		cmd.Env = append(cmd.Env, "STRIPE_WEBHOOK_SECRET="+testWebhookSecret)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docs/walkthrough.sh failed (%v):\n%s", err, out)
	}
	if !strings.Contains(string(out), "walkthrough: every step answered as expected") {
		t.Fatalf("docs/walkthrough.sh did not finish:\n%s", out)
	}
	if stripeBase != "" && strings.Contains(string(out), "skipped: set STRIPE_WEBHOOK_SECRET") {
		t.Fatalf("the Stripe section was skipped:\n%s", out)
	}
	t.Logf("%d checks passed", strings.Count(string(out), "  ok: "))
}
