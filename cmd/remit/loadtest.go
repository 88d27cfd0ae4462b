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
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	Ops           int
	Requests      int
	Errors        int
	Elapsed       time.Duration
	P50, P95, P99 time.Duration
	// CPU is the process's CPU time over the rounds (server and load
	// generator alike), steadier than rates when the machine's speed drifts.
	CPU time.Duration
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuPerRequest is the process's CPU time per request.
func (r loadResult) cpuPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Requests)
}

func (r loadResult) rate() float64    { return float64(r.Ops) / r.Elapsed.Seconds() }
func (r loadResult) reqRate() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// loadOp is one operation of a scenario: one or more requests. It returns
// how many requests it sent and whether every answer was the expected one.
type loadOp func(c *http.Client, i int) (requests int, ok bool)

// runLoad runs op from conns goroutines for d and times each operation.
func runLoad(client *http.Client, conns int, d time.Duration, op loadOp) (loadResult, []time.Duration) {
	var (
		mu       sync.Mutex
		lat      []time.Duration
		errs     atomic.Int64
		requests atomic.Int64
		counter  atomic.Int64
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for range conns {
		wg.Go(func() {
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				n, ok := op(client, int(counter.Add(1)))
				local = append(local, time.Since(t0))
				requests.Add(int64(n))
				if !ok {
					errs.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return loadResult{Ops: len(lat), Requests: int(requests.Load()), Errors: int(errs.Load()), Elapsed: time.Since(start)}, lat
}

// percentile returns the p-th quantile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// loadTarget is a server under load and how to call it: at url, or at
// each of urls in turn (see pick).
type loadTarget struct {
	name, url, key string
	urls           []string
	// keyed: every POST carries an Idempotency-Key of its own (-idempotency-keys).
	keyed bool
}

// loadKeys numbers the Idempotency-Keys the load sends; the prefix keeps
// runs on the same database apart.
var (
	loadKeySeq    atomic.Int64
	loadKeyPrefix = strconv.FormatInt(time.Now().UnixNano(), 36)
)

// pick returns the target with the url operation i is sent to.
func (t loadTarget) pick(i int) loadTarget {
	if len(t.urls) > 0 {
		t.url = t.urls[i%len(t.urls)]
	}
	return t
}

// call sends one request and decodes the JSON answer into out (if not nil);
// it reports whether the status was want.
func (t loadTarget) call(c *http.Client, method, path string, body []byte, want int, out any) bool {
	req, _ := http.NewRequest(method, t.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if t.key != "" {
		req.Header.Set("Authorization", "Bearer "+t.key)
	}
	if t.keyed && method == http.MethodPost {
		req.Header.Set("Idempotency-Key", "load-"+loadKeyPrefix+"-"+strconv.FormatInt(loadKeySeq.Add(1), 10))
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return false
		}
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode == want
}

// loadtestOptions are the flags of `remit loadtest`.
type loadtestOptions struct {
	duration                     *time.Duration
	conns, rounds                *int
	only, cpuProfile, onlyTarget *string
	databaseURL, replicas        *string
	serveFloor                   *string
	idempotencyKeys              *bool
	out                          io.Writer
}

// loadtestFlags defines the flags of `remit loadtest` on fs.
func loadtestFlags(fs *flag.FlagSet) loadtestOptions {
	return loadtestOptions{
		duration:   fs.Duration("duration", 5*time.Second, "how long each round runs against each target"),
		conns:      fs.Int("conns", 32, "concurrent connections"),
		rounds:     fs.Int("rounds", 3, "rounds per scenario; targets alternate within each, so all see the same machine load"),
		only:       fs.String("only", "", "run only the scenarios whose name contains this"),
		cpuProfile: fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file"),
		onlyTarget: fs.String("target", "", "drive only these targets (comma-separated: remit, bare, remit-pg, floor-pg, pg-xN, floor-xN), e.g. to profile one alone"),
		databaseURL: fs.String("database-url", "", "also run Remit (remit-pg) and the same-work floor (floor-pg) on this PostgreSQL database, "+
			"beside the SQLite run (a database of its own: both write into Remit's tables there)"),
		replicas: fs.String("replicas", "", "with -database-url, also drive groups of `remit serve` processes on that database, "+
			"e.g. 1,3 (targets pg-x1, pg-x3: each operation goes to the next process of its group in turn), "+
			"and, when -target names them, groups of as many processes of the same-work floor (floor-x1, floor-x3)"),
		idempotencyKeys: fs.Bool("idempotency-keys", false, "send an Idempotency-Key of its own with every POST to Remit, "+
			"as careful API clients do (bare, floor-pg and floor-xN ignore it: they store no responses)"),
		serveFloor: fs.String("serve-floor", "", "serve the same-work floor alone on this address until stopped "+
			"(the processes of floor-xN; needs -database-url)"),
		out: os.Stdout,
	}
}

// loadtest is `remit loadtest`: it starts Remit (on a fresh SQLite file) and
// the bare baseline in this process, and with -database-url also Remit and
// the same-work floor on that PostgreSQL database; it drives the same
// scenarios against every target at the same concurrency, alternating
// targets round by round, and prints operations and requests per second,
// latency percentiles per operation, and the ratios.
func loadtest(o loadtestOptions) error {
	ctx := context.Background()
	duration, conns, rounds, only, cpuProfile := o.duration, o.conns, o.rounds, o.only, o.cpuProfile
	out := o.out
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	dir, err := os.MkdirTemp("", "remit-loadtest")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	wanted := func(name string) bool {
		return *o.onlyTarget == "" || slices.Contains(strings.Split(*o.onlyTarget, ","), name)
	}
	startRemit := func(databaseURL string) (*Main, error) {
		cfg := DefaultConfig()
		cfg.Addr, cfg.DatabaseURL, cfg.AdminKey = "127.0.0.1:0", databaseURL, "rk_loadtest_admin_key_0123456789"
		cfg.RateLimit, cfg.RateBurst = 1e6, 1e6 // measured, but never hit
		cfg.SweepInterval, cfg.DeliveryInterval = 0, 0
		devnull, _ := os.Open(os.DevNull)
		m := NewMain(cfg, devnull)
		if err := m.Run(ctx); err != nil {
			return nil, err
		}
		return m, nil
	}
	var targets []loadTarget
	if wanted("remit") {
		m, err := startRemit(filepath.Join(dir, "remit.db"))
		if err != nil {
			return err
		}
		defer m.Close()
		targets = append(targets, loadTarget{name: "remit", url: m.URL(), key: m.Config.AdminKey, keyed: *o.idempotencyKeys})
	}
	if wanted("bare") {
		bare, err := startBareServer(dir)
		if err != nil {
			return err
		}
		defer bare.Close()
		targets = append(targets, loadTarget{name: "bare", url: bare.url})
	}
	if *o.databaseURL != "" {
		if wanted("remit-pg") {
			m, err := startRemit(*o.databaseURL)
			if err != nil {
				return err
			}
			defer m.Close()
			targets = append(targets, loadTarget{name: "remit-pg", url: m.URL(), key: m.Config.AdminKey, keyed: *o.idempotencyKeys})
		}
		for _, n := range strings.Split(*o.replicas, ",") {
			name := "pg-x" + strings.TrimSpace(n)
			if n == "" || !wanted(name) {
				continue
			}
			count, err := strconv.Atoi(strings.TrimSpace(n))
			if err != nil || count < 1 {
				return fmt.Errorf("-replicas: %q is not a count of processes", n)
			}
			group, err := startReplicas(ctx, *o.databaseURL, count)
			if err != nil {
				return err
			}
			defer group.Close()
			targets = append(targets, loadTarget{name: name, urls: group.urls, key: replicaAdminKey, keyed: *o.idempotencyKeys})
		}
		for _, n := range strings.Split(*o.replicas, ",") {
			// Only when named: with Remit's groups and the others in the
			// same run, their connections would pass max_connections.
			name := "floor-x" + strings.TrimSpace(n)
			if n == "" || !slices.Contains(strings.Split(*o.onlyTarget, ","), name) {
				continue
			}
			count, _ := strconv.Atoi(strings.TrimSpace(n)) // checked above
			group, err := startFloorGroup(ctx, *o.databaseURL, count, *conns)
			if err != nil {
				return err
			}
			defer group.Close()
			targets = append(targets, loadTarget{name: name, urls: group.urls})
		}
		if wanted("floor-pg") {
			floor, err := startFloorServer(ctx, *o.databaseURL, *conns, "127.0.0.1:0")
			if err != nil {
				return err
			}
			defer floor.Close()
			targets = append(targets, loadTarget{name: "floor-pg", url: floor.url})
		}
	}
	if len(targets) == 0 {
		return fmt.Errorf("no target to drive: -target %q (with -database-url for remit-pg and floor-pg)", *o.onlyTarget)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conns * 2, MaxConnsPerHost: *conns * 2}}
	keys := ""
	if *o.idempotencyKeys {
		keys = ", an Idempotency-Key with every POST to Remit"
	}
	fmt.Fprintf(out, "# remit loadtest: %d connections, %d rounds of %s per scenario and target, GOMAXPROCS=%d, %s/%s%s\n\n",
		*conns, *rounds, *duration, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, keys)
	fmt.Fprintf(out, "| scenario | target | ops | requests | errors | ops/s | req/s | p50 | p95 | p99 | CPU/request |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	var summary []string
	for _, sc := range loadScenarios() {
		if !strings.Contains(sc.name, *only) {
			continue
		}
		ops := make([]loadOp, len(targets))
		for i, t := range targets {
			op, err := sc.prepare(t, client)
			if err != nil {
				return fmt.Errorf("%s on %s: %w", sc.name, t.name, err)
			}
			ops[i] = op
		}
		res := make([]loadResult, len(targets))
		lat := make([][]time.Duration, len(targets))
		for range *rounds {
			for i := range targets {
				cpu0 := cpuTime()
				r, l := runLoad(client, *conns, *duration, ops[i])
				res[i].CPU += cpuTime() - cpu0
				res[i].Ops += r.Ops
				res[i].Requests += r.Requests
				res[i].Errors += r.Errors
				res[i].Elapsed += r.Elapsed
				lat[i] = append(lat[i], l...)
			}
		}
		byName := map[string]loadResult{}
		for i, t := range targets {
			slices.Sort(lat[i])
			res[i].P50, res[i].P95, res[i].P99 = percentile(lat[i], 0.50), percentile(lat[i], 0.95), percentile(lat[i], 0.99)
			r := res[i]
			byName[t.name] = r
			fmt.Fprintf(out, "| %s | %s | %d | %d | %d | %.0f | %.0f | %s | %s | %s | %s |\n", sc.name, t.name, r.Ops, r.Requests, r.Errors, r.rate(), r.reqRate(),
				r.P50.Round(10*time.Microsecond), r.P95.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.cpuPerRequest().Round(time.Microsecond))
		}
		summary = append(summary, compareTargets(sc.name, byName)...)
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, strings.Join(summary, "\n"))
	return nil
}

// compareTargets returns the summary lines of one scenario: Remit against
// its baseline on each database, and Remit on PostgreSQL against Remit on
// SQLite. The CPU per request is this process's (Remit or the baseline,
// and the load generator); PostgreSQL's own CPU is not in it.
func compareTargets(scenario string, r map[string]loadResult) []string {
	var lines []string
	pair := func(a, b, what string) {
		x, okx := r[a]
		y, oky := r[b]
		if !okx || !oky || y.Requests == 0 || y.P99 == 0 || y.cpuPerRequest() == 0 {
			return
		}
		lines = append(lines, fmt.Sprintf("- %s: %s/%s %s request rate %.0f %%, p99 %.2fx, CPU per request in this process %.2fx",
			scenario, a, b, what, 100*x.reqRate()/y.reqRate(), float64(x.P99)/float64(y.P99), float64(x.cpuPerRequest())/float64(y.cpuPerRequest())))
	}
	pair("remit", "bare", "(SQLite)")
	pair("remit-pg", "floor-pg", "(PostgreSQL against the same-work floor)")
	pair("remit-pg", "remit", "(PostgreSQL against SQLite)")
	pair("pg-x3", "pg-x1", "(3 processes on one PostgreSQL database against 1)")
	pair("floor-x3", "floor-x1", "(the same-work floor, 3 processes against 1)")
	return lines
}

// loadScenario is a named operation; prepare seeds what it needs on the
// target and returns the operation.
type loadScenario struct {
	name    string
	prepare func(t loadTarget, c *http.Client) (loadOp, error)
}

func loadScenarios() []loadScenario {
	clientBody := func(i int) []byte {
		return fmt.Appendf(nil, `{"name":"Load client %d","email":"ap%d@load.example","currency":"EUR"}`, i, i)
	}
	var lines strings.Builder
	for i := range 10 {
		if i > 0 {
			lines.WriteString(",")
		}
		fmt.Fprintf(&lines, `{"description":"Design work, day %d","quantity":"1.5","unit_amount":%d,"tax_rate":"20"}`, i+1, 6000+i)
	}
	return []loadScenario{
		{"POST /v1/clients", func(t loadTarget, _ *http.Client) (loadOp, error) {
			return func(c *http.Client, i int) (int, bool) {
				return 1, t.pick(i).call(c, "POST", "/v1/clients", clientBody(i), http.StatusCreated, nil)
			}, nil
		}},
		{"GET /v1/clients/{id}", func(t loadTarget, c *http.Client) (loadOp, error) {
			ids := make([]string, 200)
			for i := range ids {
				var out struct{ ID string }
				if !t.pick(i).call(c, "POST", "/v1/clients", clientBody(-i), http.StatusCreated, &out) {
					return nil, fmt.Errorf("seed client %d failed", i)
				}
				ids[i] = out.ID
			}
			return func(c *http.Client, i int) (int, bool) {
				return 1, t.pick(i).call(c, "GET", "/v1/clients/"+ids[rand.IntN(len(ids))], nil, http.StatusOK, nil)
			}, nil
		}},
		{"issue a 10-line invoice + record a payment", func(t loadTarget, c *http.Client) (loadOp, error) {
			if t.name == "bare" {
				// The ceiling on SQLite: the same two requests, each one raw
				// insert. (The floor on PostgreSQL, floor-pg, writes what
				// Remit writes and takes the same requests as Remit.)
				return func(c *http.Client, i int) (int, bool) {
					ok := t.call(c, "POST", "/v1/clients", clientBody(i), http.StatusCreated, nil)
					return 2, t.call(c, "POST", "/v1/clients", clientBody(-i), http.StatusCreated, nil) && ok
				}, nil
			}
			var cl struct{ ID string }
			if !t.pick(0).call(c, "POST", "/v1/clients", clientBody(0), http.StatusCreated, &cl) {
				return nil, fmt.Errorf("seed client failed")
			}
			return func(c *http.Client, i int) (int, bool) {
				var inv struct {
					ID    string
					Total int64
				}
				body := fmt.Appendf(nil, `{"client_id":%q,"issue":true,"lines":[%s]}`, cl.ID, lines.String())
				if !t.pick(i).call(c, "POST", "/v1/invoices", body, http.StatusCreated, &inv) {
					return 1, false
				}
				pay := fmt.Appendf(nil, `{"amount":%d,"method":"bank_transfer","reference":"load %d"}`, inv.Total, i)
				return 2, t.pick(i+1).call(c, "POST", "/v1/invoices/"+inv.ID+"/payments", pay, http.StatusCreated, nil)
			}, nil
		}},
	}
}
