package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored (testdata/axe/README.md).
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// chromium returns the path of Debian's Chromium. Without it the test is
// skipped, except under CI=true, where it fails: .ci/run installs it.
func chromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("chromium is not installed; .ci/run installs it (apt-get install -y chromium)")
	}
	tb.Skip("SKIPPED: chromium is not installed (apt-get install -y chromium); the browser tests need it")
	return ""
}

// newBrowser starts a headless Chromium for the test and returns its context.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	// Not t.TempDir: Chromium may still be writing its profile when the
	// test's own cleanup runs; this one is removed after the browser is gone.
	userDir, err := os.MkdirTemp("", "remit-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(userDir),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it
		cancelTimeout()
		cancel()
		cancelAlloc()
		for range 10 {
			if os.RemoveAll(userDir) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// withOwnPublicURL serves the hosted pages at the test server's own
// address, so the browser follows the links the API gives.
func withOwnPublicURL(tb testing.TB) func(*Config) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return func(c *Config) {
		withHostedPages(c)
		c.Addr, c.PublicURL = addr, "http://"+addr
	}
}

// axeViolations runs axe-core on the page and returns its serious and
// critical violations.
func axeViolations(ctx context.Context) ([]string, error) {
	if err := chromedp.Run(ctx, chromedp.Evaluate(axeSource, nil)); err != nil {
		return nil, fmt.Errorf("inject axe-core: %w", err)
	}
	var res struct {
		Violations []struct {
			ID     string `json:"id"`
			Impact string `json:"impact"`
			Help   string `json:"help"`
			Nodes  []struct {
				Target []any `json:"target"`
			} `json:"nodes"`
		} `json:"violations"`
		Passes int `json:"passes"`
	}
	err := chromedp.Run(ctx, chromedp.Evaluate(`axe.run(document, {resultTypes: ["violations"]}).then(r => ({violations: r.violations, passes: r.passes.length}))`, &res,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	if res.Passes < 10 {
		return nil, fmt.Errorf("axe-core checked only %d rules: did it run?", res.Passes)
	}
	var out []string
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			targets, _ := json.Marshal(v.Nodes)
			out = append(out, fmt.Sprintf("%s (%s): %s %s", v.ID, v.Impact, v.Help, targets))
		}
	}
	return out, nil
}

// checkPage runs axe-core and checks the page fits a 375 px phone, then
// takes a full-page screenshot at desktop and phone widths into dir.
func checkPage(t *testing.T, ctx context.Context, name, dir string) {
	t.Helper()
	violations, err := axeViolations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range violations {
		t.Errorf("%s: axe-core: %s", name, v)
	}
	for _, w := range []struct {
		label         string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 900, false}, {"phone", 375, 812, true}} {
		var png []byte
		var scroll int64
		err := chromedp.Run(ctx,
			chromedp.EmulateViewport(w.width, w.height, emulateMobile(w.mobile)),
			chromedp.Evaluate(`document.documentElement.scrollWidth`, &scroll),
			chromedp.FullScreenshot(&png, 100))
		if err != nil {
			t.Fatalf("%s at %s: %v", name, w.label, err)
		}
		if scroll > w.width {
			t.Errorf("%s at %d px: the page is %d px wide (scrolls sideways)", name, w.width, scroll)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+w.label+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserClientPages opens the hosted invoice page in a real browser
// from the link the API gives, checks the amount due today, downloads the
// PDF, presses Pay (Stripe Checkout by stripe-mock) and follows the
// redirect, comes back as Stripe would, accepts the terms on the account
// page and sees the acceptance in the API; axe-core checks each page and
// each is shot at desktop and phone width (REMIT_SCREENSHOTS=dir keeps
// the PNGs; docs/hosted-invoice.png is one of them).
func TestBrowserClientPages(t *testing.T) {
	ctx := newBrowser(t)
	proxy := newStripeProxy(t, startStripeMock(t))
	s := MustRunMain(t, pinned("2026-03-01"), withStripe(proxy.URL), withOwnPublicURL(t))
	shots := os.Getenv("REMIT_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	cli := s.must(201, request{Method: "POST", Path: "/v1/clients", Body: map[string]any{
		"name": "Acme GmbH", "email": "ap@acme.example", "contact_name": "Jana Novak", "currency": "EUR", "timezone": "Europe/Berlin",
		"address": "Hauptstraße 1\n10115 Berlin"}})
	s.must(201, request{Method: "POST", Path: "/v1/clients/" + cli["id"].(string) + "/agreements", Body: map[string]any{
		"effective_from": "2026-01-01", "payment_terms": "net_30", "late_fee": map[string]any{"flat": 2500},
		"interest": map[string]any{"annual_rate": "12"}, "require_acceptance": true}})
	inv := s.must(201, request{Method: "POST", Path: "/v1/invoices", Body: map[string]any{"client_id": cli["id"], "issue": true,
		"issue_date": "2026-01-01", "lines": []map[string]any{
			{"description": "Website redesign: discovery, wireframes and visual design", "quantity": "1", "unit_amount": 80000},
			{"description": "Content migration", "quantity": "8", "unit_amount": 2500}}}})
	s.must(200, request{Method: "POST", Path: "/v1/billing/run"})
	link := inv["hosted_invoice_url"].(string)

	// The invoice page, from the API's link.
	var due, title string
	if err := chromedp.Run(ctx, chromedp.Navigate(link), chromedp.Text("#amount-due-today", &due), chromedp.Title(&title)); err != nil {
		t.Fatal(err)
	}
	quote := s.must(200, request{Method: "GET", Path: "/v1/invoices/" + inv["id"].(string) + "/accrual"})
	if due != "€1,034.54" || num(quote, "payoff") != 103454 || title != "Invoice INV-2026-0001 · Studio Remit" {
		t.Fatalf("amount due today %q (quote %v), title %q", due, quote["payoff"], title)
	}
	checkPage(t, ctx, "hosted-invoice", shots)

	// Download the PDF with the page's link.
	downloads := t.TempDir()
	done := make(chan string, 1)
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*browser.EventDownloadProgress); ok && e.State == browser.DownloadProgressStateCompleted {
			select {
			case done <- e.GUID:
			default:
			}
		}
	})
	err := chromedp.Run(ctx,
		browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllowAndName).WithDownloadPath(downloads).WithEventsEnabled(true),
		chromedp.Click("#pdf", chromedp.ByQuery))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case guid := <-done:
		b, err := os.ReadFile(filepath.Join(downloads, guid))
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, pdfText(t, b), "INV-2026-0001", "Website redesign", "Acme GmbH")
	case <-time.After(30 * time.Second):
		t.Fatal("the PDF did not download")
	}

	// Pay: the form posts to Remit, which sends the browser to Stripe
	// Checkout (offline here: the navigation to Stripe's host is what counts).
	var requested []string
	navigated := make(chan string, 4)
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Type == network.ResourceTypeDocument {
			requested = append(requested, e.Request.URL)
			if strings.HasPrefix(e.Request.URL, "https://") {
				select {
				case navigated <- e.Request.URL:
				default:
				}
			}
		}
	})
	// The button charges what the page says is due today (1,034.54 with
	// the interest accrued to today, not the ledger's balance).
	var button, dueNow, balance string
	if err := chromedp.Run(ctx, network.Enable(), chromedp.Navigate(link), chromedp.Text("#pay", &button),
		chromedp.Text("#amount-due-today", &dueNow), chromedp.Text("dl.facts:last-of-type dd:last-of-type", &balance)); err != nil {
		t.Fatal(err)
	}
	if button != "Pay "+dueNow+" by card" || dueNow != "€1,034.54" || balance != "€1,034.21" {
		t.Fatalf("Pay button %q, amount due today %q, balance %q", button, dueNow, balance)
	}
	if err := chromedp.Run(ctx, chromedp.Click("#pay", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	var sent []stripeRequest
	select {
	case u := <-navigated:
		if !strings.HasPrefix(u, "https://checkout.stripe.com/") {
			t.Fatalf("Pay went to %s", u)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Pay did not go to Stripe Checkout; requests %v", requested)
	}
	// (The first session is the one the downloaded PDF links to.)
	sent = proxy.sent("POST", "/v1/checkout/sessions")
	last := sent[len(sent)-1].Form
	if last.Get("success_url") != link+"?checkout=success" || last.Get("line_items[0][price_data][unit_amount]") != "103454" {
		t.Fatalf("checkout sessions %+v", sent)
	}
	// Stripe sends the payer back: processing until the webhook says paid.
	var state string
	if err := chromedp.Run(ctx, chromedp.Navigate(last.Get("success_url")), chromedp.Text(".state", &state)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(state, "Your payment is processing") {
		t.Fatalf("state after Checkout: %q", state)
	}

	// The account page: accept the terms.
	portal := cli["portal_url"].(string)
	var recorded string
	err = chromedp.Run(ctx, chromedp.Navigate(portal), chromedp.WaitVisible(`input[name="name"]`, chromedp.ByQuery))
	if err != nil {
		t.Fatal(err)
	}
	checkPage(t, ctx, "hosted-account", shots)
	err = chromedp.Run(ctx,
		chromedp.SendKeys(`input[name="name"]`, "Jana Novak", chromedp.ByQuery),
		chromedp.Click(`input[name="agree"]`, chromedp.ByQuery),
		chromedp.Click(`form.accept button`, chromedp.ByQuery),
		chromedp.WaitVisible(`.accepted`, chromedp.ByQuery),
		chromedp.Text(`.accepted`, &recorded))
	if err != nil {
		t.Fatal(err)
	}
	if recorded != "Accepted by Jana Novak on 1 March 2026 at 13:00 CET." {
		t.Fatalf("after accepting: %q", recorded)
	}
	list := s.must(200, request{Method: "GET", Path: "/v1/clients/" + cli["id"].(string) + "/agreements"})["data"].([]any)
	acc, _ := list[0].(map[string]any)["acceptance"].(map[string]any)
	if acc == nil || acc["name"] != "Jana Novak" || acc["ip_address"] != "127.0.0.1" || !strings.Contains(acc["user_agent"].(string), "Chrome") {
		t.Fatalf("acceptance in the API: %v", list[0])
	}
	checkPage(t, ctx, "hosted-account-accepted", shots)
}

// emulateMobile sets the viewport's mobile flag.
func emulateMobile(mobile bool) chromedp.EmulateViewportOption {
	return func(p *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
		p.Mobile = mobile
	}
}
