package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// Stripe settings of the end-to-end tests.
const (
	testStripeKey     = "sk_test_123"
	testWebhookSecret = "whsec_test_remit_0123456789"
)

// stripeMockBinary finds stripe-mock on PATH or in $(go env GOPATH)/bin,
// where `make test` installs it; "" when it is not installed.
func stripeMockBinary() string {
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "stripe-mock")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// lockedBuffer collects a process's output from its two pipes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startStripeMock runs a real stripe-mock process on a free port for the
// test, waits until it answers, and returns its base URL. Without the binary
// the test is skipped with a message saying how to install it.
func startStripeMock(tb testing.TB) string {
	tb.Helper()
	bin := stripeMockBinary()
	if bin == "" {
		tb.Skip("SKIPPED: stripe-mock is not installed; `make test` installs it with `go install github.com/stripe/stripe-mock@v0.203.0`")
	}
	var out lockedBuffer
	for attempt := 0; attempt < 3; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		cmd := exec.Command(bin, "-http-port", strconv.Itoa(port))
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			tb.Fatalf("start stripe-mock: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		if waitForStripeMock(base, exited, 20*time.Second) {
			tb.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			return base
		}
		_ = cmd.Process.Kill()
		<-exited
	}
	tb.Fatalf("stripe-mock did not start:\n%s", out.String())
	return ""
}

// waitForStripeMock polls until stripe-mock answers an authenticated request.
func waitForStripeMock(base string, exited <-chan struct{}, limit time.Duration) bool {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		req, _ := http.NewRequest("GET", base+"/v1/customers?limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+testStripeKey)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// stripeRequest is one request Remit sent to Stripe.
type stripeRequest struct {
	Method, Path   string
	Form           url.Values
	IdempotencyKey string
}

// stripeProxy stands between Remit and stripe-mock: it records every request
// and forwards it, unless an override answers that method and path itself.
type stripeProxy struct {
	URL      string
	mu       sync.Mutex
	requests []stripeRequest
	override map[string][]byte
	status   map[string]int // the HTTP status of an override; 200 when absent
	held     map[string]*heldRequest
}

// heldRequest makes the proxy keep the next request to a method and path
// until the test releases it.
type heldRequest struct {
	arrived, release chan struct{}
}

// hold makes the proxy keep the next request to method and path: arrived is
// closed when it comes, and the proxy forwards it once release is called.
func (p *stripeProxy) hold(method, path string) (arrived <-chan struct{}, release func()) {
	h := &heldRequest{arrived: make(chan struct{}), release: make(chan struct{})}
	p.mu.Lock()
	p.held[method+" "+path] = h
	p.mu.Unlock()
	var once sync.Once
	return h.arrived, func() { once.Do(func() { close(h.release) }) }
}

// answer makes the proxy answer method and path with body (JSON) itself.
func (p *stripeProxy) answer(method, path string, body []byte) {
	p.answerStatus(method, path, http.StatusOK, body)
}

// answerStatus is answer with an HTTP status (a Stripe error: 402 for a declined card).
func (p *stripeProxy) answerStatus(method, path string, status int, body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.override[method+" "+path] = body
	p.status[method+" "+path] = status
}

func newStripeProxy(tb testing.TB, mockURL string) *stripeProxy {
	target, err := url.Parse(mockURL)
	if err != nil {
		tb.Fatal(err)
	}
	p := &stripeProxy{override: map[string][]byte{}, status: map[string]int{}, held: map[string]*heldRequest{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		if r.Method == http.MethodGet {
			form = r.URL.Query()
		}
		p.mu.Lock()
		p.requests = append(p.requests, stripeRequest{Method: r.Method, Path: r.URL.Path, Form: form, IdempotencyKey: r.Header.Get("Idempotency-Key")})
		answer, ok := p.override[r.Method+" "+r.URL.Path]
		status := p.status[r.Method+" "+r.URL.Path]
		h := p.held[r.Method+" "+r.URL.Path]
		delete(p.held, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		if h != nil {
			close(h.arrived)
			<-h.release
		}
		if ok {
			w.Header().Set("Content-Type", "application/json")
			if status != 0 {
				w.WriteHeader(status)
			}
			_, _ = w.Write(answer)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// sent returns the recorded requests to method and path.
func (p *stripeProxy) sent(method, path string) []stripeRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []stripeRequest
	for _, r := range p.requests {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// withStripe configures Stripe against apiBase.
func withStripe(apiBase string) func(*Config) {
	return func(c *Config) {
		c.StripeSecretKey, c.StripeWebhookSecret, c.StripeAPIBase = testStripeKey, testWebhookSecret, apiBase
		c.StripeSuccessURL, c.StripeCancelURL = "https://remit.example/paid", "https://remit.example/cancelled"
	}
}

// stripeEvent returns the JSON of a Stripe event wrapping object.
func stripeEvent(id, typ string, created time.Time, object map[string]any) []byte {
	return stripeEventVersion(id, typ, stripe.APIVersion, created, object)
}

func stripeEventVersion(id, typ, version string, created time.Time, object map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"id": id, "object": "event", "api_version": version, "created": created.Unix(),
		"livemode": false, "pending_webhooks": 1, "type": typ, "data": map[string]any{"object": object}})
	if err != nil {
		panic(err)
	}
	return b
}

// signed returns the Stripe-Signature header of payload at ts.
func signed(payload []byte, secret string, ts time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: ts}).Header
}

// webhook posts a signed event to the server.
func (s *testServer) webhook(payload []byte) *response {
	s.tb.Helper()
	return s.do(request{Method: "POST", Path: "/v1/stripe/webhook", Body: payload,
		Header: map[string]string{"Stripe-Signature": signed(payload, testWebhookSecret, time.Now())}})
}
