package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	_ "github.com/mattn/go-sqlite3" // the bare baseline's driver
)

// bareServer is the ceiling Remit is measured against: Echo and one raw
// SQLite statement per request, with the same WAL settings and no auth,
// validation, idempotency or logging.
type bareServer struct {
	db  *sql.DB
	srv *http.Server
	url string
}

func startBareServer(dir string) (*bareServer, error) {
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "bare.db")+"?_journal_mode=WAL&_busy_timeout=10000&_synchronous=NORMAL&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one writer, as Remit
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS clients (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, currency TEXT NOT NULL, created_at TIMESTAMP NOT NULL)`); err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	var seq atomic.Int64
	e.POST("/v1/clients", func(c echo.Context) error {
		var in struct{ Name, Email, Currency string }
		if err := json.NewDecoder(c.Request().Body).Decode(&in); err != nil {
			return c.NoContent(http.StatusBadRequest)
		}
		id := fmt.Sprintf("cli_%020d", seq.Add(1))
		if _, err := db.Exec(`INSERT INTO clients (id, name, email, currency, created_at) VALUES (?, ?, ?, ?, ?)`, id, in.Name, in.Email, in.Currency, time.Now().UTC()); err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, map[string]string{"id": id, "name": in.Name, "email": in.Email, "currency": in.Currency})
	})
	e.GET("/v1/clients/:id", func(c echo.Context) error {
		var id, name, email, currency string
		if err := db.QueryRow(`SELECT id, name, email, currency FROM clients WHERE id = ?`, c.Param("id")).Scan(&id, &name, &email, &currency); err != nil {
			return c.NoContent(http.StatusNotFound)
		}
		return c.JSON(http.StatusOK, map[string]string{"id": id, "name": name, "email": email, "currency": currency})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &bareServer{db: db, srv: &http.Server{Handler: e}, url: "http://" + ln.Addr().String()}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

func (b *bareServer) Close() {
	_ = b.srv.Close()
	_ = b.db.Close()
}

// loadResult is one scenario against one target.
type loadResult struct {
	Requests      int
	Errors        int
	Elapsed       time.Duration
	P50, P95, P99 time.Duration
}

func (r loadResult) rate() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// loadScenario sends requests from conns goroutines for d and measures each.
// next builds request i; ok judges the status.
func runLoad(client *http.Client, conns int, d time.Duration, next func(i int) *http.Request, ok func(int) bool) (loadResult, []time.Duration) {
	var (
		mu      sync.Mutex
		lat     []time.Duration
		errs    atomic.Int64
		counter atomic.Int64
		wg      sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) {
				req := next(int(counter.Add(1)))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				local = append(local, time.Since(t0))
				if err != nil || !ok(resp.StatusCode) {
					errs.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return loadResult{Requests: len(lat), Errors: int(errs.Load()), Elapsed: time.Since(start)}, lat
}

// percentile returns the p-th quantile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// loadTarget is a server under load and how to call it.
type loadTarget struct {
	name, url, key string
}

func (t loadTarget) request(method, path string, body []byte) *http.Request {
	req, _ := http.NewRequest(method, t.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if t.key != "" {
		req.Header.Set("Authorization", "Bearer "+t.key)
	}
	return req
}

// loadtest is `remit loadtest`: it starts Remit (on a fresh SQLite file) and
// the bare baseline in this process, drives the same mix against both at the
// same concurrency, and prints req/s, latency percentiles and the ratios.
func loadtest(args []string) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	duration := fs.Duration("duration", 5*time.Second, "how long each scenario runs against each target")
	conns := fs.Int("conns", 32, "concurrent connections")
	rounds := fs.Int("rounds", 3, "rounds per scenario; targets alternate within each, so both see the same machine load")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "remit-loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	cfg := DefaultConfig()
	cfg.Addr, cfg.DatabaseURL, cfg.AdminKey = "127.0.0.1:0", filepath.Join(dir, "remit.db"), "rk_loadtest_admin_key_0123456789"
	cfg.RateLimit, cfg.RateBurst = 1e6, 1e6 // measured, but never hit
	cfg.SweepInterval = 0
	devnull, _ := os.Open(os.DevNull)
	m := NewMain(cfg, devnull)
	if err := m.Run(context.Background()); err != nil {
		return err
	}
	defer m.Close()
	bare, err := startBareServer(dir)
	if err != nil {
		return err
	}
	defer bare.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conns * 2, MaxConnsPerHost: *conns * 2}}
	remit := loadTarget{name: "remit", url: m.URL(), key: cfg.AdminKey}
	baseline := loadTarget{name: "bare", url: bare.url}

	fmt.Printf("# remit loadtest: %d connections, %d rounds of %s per scenario and target, GOMAXPROCS=%d, %s/%s\n\n", *conns, *rounds, *duration, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("| scenario | target | requests | errors | req/s | p50 | p95 | p99 |\n|---|---|---|---|---|---|---|---|\n")
	var summary []string
	for _, sc := range loadScenarios() {
		var res [2]loadResult
		targets := []loadTarget{remit, baseline}
		var makers [2]func(int) *http.Request
		var checks [2]func(int) bool
		for i, t := range targets {
			next, ok, err := sc.prepare(t, client)
			if err != nil {
				return fmt.Errorf("%s on %s: %w", sc.name, t.name, err)
			}
			makers[i], checks[i] = next, ok
		}
		var lat [2][]time.Duration
		for range *rounds {
			for i := range targets {
				r, l := runLoad(client, *conns, *duration, makers[i], checks[i])
				res[i].Requests += r.Requests
				res[i].Errors += r.Errors
				res[i].Elapsed += r.Elapsed
				lat[i] = append(lat[i], l...)
			}
		}
		for i, t := range targets {
			slices.Sort(lat[i])
			res[i].P50, res[i].P95, res[i].P99 = percentile(lat[i], 0.50), percentile(lat[i], 0.95), percentile(lat[i], 0.99)
			r := res[i]
			fmt.Printf("| %s | %s | %d | %d | %.0f | %s | %s | %s |\n", sc.name, t.name, r.Requests, r.Errors, r.rate(),
				r.P50.Round(10*time.Microsecond), r.P95.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond))
		}
		summary = append(summary, fmt.Sprintf("- %s: remit/bare rate %.0f %%, p99 remit/bare %.2fx",
			sc.name, 100*res[0].rate()/res[1].rate(), float64(res[0].P99)/float64(res[1].P99)))
	}
	fmt.Println()
	fmt.Println(strings.Join(summary, "\n"))
	return nil
}

// loadScenario is a named request mix; prepare seeds what it needs on the
// target and returns the request maker and the status check.
type loadScenario struct {
	name    string
	prepare func(t loadTarget, c *http.Client) (func(int) *http.Request, func(int) bool, error)
}

func loadScenarios() []loadScenario {
	clientBody := func(i int) []byte {
		return fmt.Appendf(nil, `{"name":"Load client %d","email":"ap%d@load.example","currency":"EUR"}`, i, i)
	}
	created := func(s int) bool { return s == http.StatusCreated }
	okay := func(s int) bool { return s == http.StatusOK }
	return []loadScenario{
		{"POST /v1/clients", func(t loadTarget, _ *http.Client) (func(int) *http.Request, func(int) bool, error) {
			return func(i int) *http.Request { return t.request("POST", "/v1/clients", clientBody(i)) }, created, nil
		}},
		{"GET /v1/clients/{id}", func(t loadTarget, c *http.Client) (func(int) *http.Request, func(int) bool, error) {
			ids := make([]string, 200)
			for i := range ids {
				resp, err := c.Do(t.request("POST", "/v1/clients", clientBody(-i)))
				if err != nil {
					return nil, nil, err
				}
				var out struct{ ID string }
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err != nil || out.ID == "" {
					return nil, nil, fmt.Errorf("seed client: status %d: %v", resp.StatusCode, err)
				}
				ids[i] = out.ID
			}
			return func(int) *http.Request { return t.request("GET", "/v1/clients/"+ids[rand.IntN(len(ids))], nil) }, okay, nil
		}},
	}
}
