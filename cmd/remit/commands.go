package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/remit/remit/store"
)

// command is one `remit` command: what `remit help` and `-h` print about it,
// the settings it reads, and how it runs. setup defines its flags on fs and
// returns the function that runs it with the positional arguments; nothing
// runs, and nothing is opened, before the flags are parsed, so -h has no
// side effects.
type command struct {
	name     string // "backup", "stripe reconcile"
	args     string // positional arguments, for the usage line: "FILE"
	nargs    int    // how many positional arguments it takes
	summary  string // one line, for `remit help`
	about    string // what it does, for `remit NAME -h`
	settings []string
	setup    func(fs *flag.FlagSet) func(ctx context.Context, args []string) error
}

// allSettings marks a command that reads every setting (serve).
var allSettings = []string{"*"}

// commands returns every command, in the order `remit help` lists them.
func commands() []command {
	return []command{
		{
			name: "serve", summary: "migrate the database, then serve the API (the default command)",
			about: "Opens DATABASE_URL (creating an SQLite file if there is none), applies the migrations,\n" +
				"creates an admin key on the first start (printed once on standard error) unless\n" +
				"REMIT_ADMIN_KEY names one, runs the enforcement sweep and the delivery of webhooks and\n" +
				"e-mail, and serves the API on REMIT_ADDR until SIGINT or SIGTERM.",
			settings: allSettings,
			setup: func(*flag.FlagSet) func(context.Context, []string) error {
				return func(ctx context.Context, _ []string) error {
					m, err := newMainFromEnv()
					if err != nil {
						return err
					}
					if err := m.Run(ctx); err != nil {
						return err
					}
					<-ctx.Done()
					m.Logger.Info("shutting down")
					return m.Close()
				}
			},
		},
		{
			name: "migrate", summary: "apply the database migrations and exit",
			about:    "Applies the SQL migrations not yet recorded in DATABASE_URL, in order, and exits.",
			settings: []string{"DATABASE_URL", "REMIT_LOG_LEVEL"},
			setup: func(*flag.FlagSet) func(context.Context, []string) error {
				return func(ctx context.Context, _ []string) error {
					m, err := newMainFromEnv()
					if err != nil {
						return err
					}
					unlock, err := store.LockForServing(m.Config.DatabaseURL)
					if err != nil {
						return err
					}
					defer unlock()
					db, err := store.Open(ctx, m.Config.DatabaseURL)
					if err != nil {
						return err
					}
					defer db.Close()
					if err := db.Migrate(ctx); err != nil {
						return err
					}
					m.Logger.Info("migrations applied", "database", store.RedactURL(m.Config.DatabaseURL))
					return nil
				}
			},
		},
		{
			name: "env", summary: "list the settings (environment variables) with their defaults",
			about: "Prints every environment variable Remit reads, what it means and its default.",
			setup: func(*flag.FlagSet) func(context.Context, []string) error {
				return func(context.Context, []string) error {
					printSettings(os.Stdout, nil)
					return nil
				}
			},
		},
		{
			name: "healthcheck", summary: "ask the local server's /healthz: exit 0 when it answers 200, else 1",
			about: "GETs /healthz of the server this machine runs on REMIT_ADDR (or -url) and exits 0 when\n" +
				"it answers 200 within the timeout, else 1. Docker's HEALTHCHECK runs it: the image has no curl.",
			settings: []string{"REMIT_ADDR"},
			setup: func(fs *flag.FlagSet) func(context.Context, []string) error {
				target := fs.String("url", "", "the URL to GET (default: /healthz on REMIT_ADDR, on 127.0.0.1 when it names no host)")
				timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
				return func(ctx context.Context, _ []string) error {
					u := *target
					if u == "" {
						u = healthzURL(os.Getenv("REMIT_ADDR"))
					}
					return healthcheck(ctx, u, *timeout)
				}
			},
		},
		{
			name: "stripe", args: "reconcile", nargs: -1, summary: "Stripe commands: remit stripe reconcile",
			about: "The Stripe commands. There is one: `remit stripe reconcile` (see remit stripe reconcile -h).",
			setup: func(*flag.FlagSet) func(context.Context, []string) error {
				return func(context.Context, []string) error {
					return errors.New("usage: remit stripe reconcile [-since 72h | -since 2026-03-01T00:00:00Z]")
				}
			},
		},
		{
			name: "stripe reconcile", summary: "record succeeded Stripe payments that no webhook delivered",
			about: "Lists the Stripe PaymentIntents created since -since and records each succeeded one\n" +
				"carrying remit_invoice_id that Remit does not have, exactly as its webhook would have;\n" +
				"prints the report as JSON. Running it again records nothing new. The same as\n" +
				"POST /v1/stripe/reconcile.",
			settings: []string{"DATABASE_URL", "REMIT_NOW", "STRIPE_SECRET_KEY", "STRIPE_API_BASE", "REMIT_LOG_LEVEL"},
			setup: func(fs *flag.FlagSet) func(context.Context, []string) error {
				since := fs.String("since", "72h", "look back this long (a duration), or from this RFC 3339 time")
				return func(ctx context.Context, _ []string) error {
					m, err := newMainFromEnv()
					if err != nil {
						return err
					}
					return m.stripeReconcile(ctx, *since)
				}
			},
		},
		{
			name: "backup", args: "FILE", nargs: 1, summary: "copy the live SQLite database to a new file while Remit serves",
			about: "Writes a consistent copy of the SQLite database of DATABASE_URL to the new file FILE\n" +
				"(VACUUM INTO, then PRAGMA integrity_check), while Remit keeps serving. On PostgreSQL it\n" +
				"refuses: use pg_dump.",
			settings: []string{"DATABASE_URL", "REMIT_LOG_LEVEL"},
			setup: func(*flag.FlagSet) func(context.Context, []string) error {
				return func(ctx context.Context, args []string) error {
					m, err := newMainFromEnv()
					if err != nil {
						return err
					}
					return backupCommand(ctx, m.Config, m.Logger, args[0])
				}
			},
		},
		{
			name: "restore", args: "FILE", nargs: 1, summary: "replace the SQLite database with a backup (stop Remit first)",
			about: "Replaces the SQLite database of DATABASE_URL with the backup FILE, after checking it.\n" +
				"Stop Remit first; it migrates the restored database when it starts. On PostgreSQL it\n" +
				"refuses: use pg_restore.",
			settings: []string{"DATABASE_URL", "REMIT_LOG_LEVEL"},
			setup: func(fs *flag.FlagSet) func(context.Context, []string) error {
				force := fs.Bool("force", false, "replace the database if it exists")
				return func(ctx context.Context, args []string) error {
					m, err := newMainFromEnv()
					if err != nil {
						return err
					}
					return restoreCommand(ctx, m.Config, m.Logger, *force, args[0])
				}
			},
		},
		{
			name: "loadtest", summary: "measure Remit against a bare Echo + SQLite handler (docs/PERFORMANCE.md)",
			about: "Starts Remit on a fresh SQLite file in a temporary directory and a bare Echo + SQLite\n" +
				"handler in this process (with -database-url also Remit and a same-work floor on that\n" +
				"PostgreSQL database), drives the same scenarios against all, and prints requests\n" +
				"per second, latency percentiles and the ratios. It reads no settings.",
			setup: func(fs *flag.FlagSet) func(context.Context, []string) error {
				o := loadtestFlags(fs)
				return func(ctx context.Context, _ []string) error {
					if *o.serveFloor != "" {
						return serveFloor(ctx, *o.databaseURL, *o.conns, *o.serveFloor)
					}
					return loadtest(o)
				}
			},
		},
		{
			name: "help", args: "[COMMAND]", nargs: -1, summary: "list the commands, or show one command's help",
			about: "Lists the commands; `remit help COMMAND` is the same as `remit COMMAND -h`.",
			setup: func(*flag.FlagSet) func(context.Context, []string) error {
				return func(_ context.Context, args []string) error {
					if len(args) == 0 {
						printUsage(os.Stdout)
						return nil
					}
					c, ok := findCommand(strings.Join(args, " "))
					if !ok {
						return fmt.Errorf("unknown command %q: remit help lists the commands", strings.Join(args, " "))
					}
					printCommandHelp(os.Stdout, c)
					return nil
				}
			},
		},
	}
}

// findCommand returns the command called name.
func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// run runs the command args name (serve when there is none). -h, -help or
// --help anywhere prints the command's help on standard output and runs
// nothing.
func run(ctx context.Context, args []string) error {
	name, rest := "serve", args
	switch {
	case len(args) > 0 && isHelpFlag(args[0]):
		printUsage(os.Stdout)
		return nil
	case len(args) > 1 && args[0] == "stripe" && args[1] == "reconcile":
		name, rest = "stripe reconcile", args[2:]
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		name, rest = args[0], args[1:]
	}
	c, ok := findCommand(name)
	if !ok {
		return fmt.Errorf("unknown command %q: remit help lists the commands", name)
	}
	if slices.ContainsFunc(rest, isHelpFlag) {
		printCommandHelp(os.Stdout, c)
		return nil
	}
	fs := flag.NewFlagSet("remit "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runCommand := c.setup(fs)
	if err := fs.Parse(rest); err != nil {
		return fmt.Errorf("%w (usage: %s; remit %s -h says more)", err, usageLine(c), c.name)
	}
	if c.nargs >= 0 && fs.NArg() != c.nargs {
		return fmt.Errorf("usage: %s (remit %s -h says more)", usageLine(c), c.name)
	}
	return runCommand(ctx, fs.Args())
}

func isHelpFlag(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

// newMainFromEnv loads the settings and returns the service, not started.
func newMainFromEnv() (*Main, error) {
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		return nil, err
	}
	return NewMain(cfg, os.Stdout), nil
}

// usageLine is "remit backup [flags] FILE".
func usageLine(c command) string {
	s := "remit " + c.name
	if c.name == "serve" {
		s = "remit [serve]"
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		s += " [flags]"
	}
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

// printUsage writes the list of commands, one line each.
func printUsage(w io.Writer) {
	cs := commands()
	width := 0
	for _, c := range cs {
		width = max(width, len(c.name))
	}
	fmt.Fprintln(w, "Remit: invoicing and late-payment enforcement.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "usage: remit [COMMAND] [flags] [arguments]   (no command: serve)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range cs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "remit COMMAND -h shows a command's flags and settings; remit env lists every setting.")
}

// printCommandHelp writes what a command does, its flags and the settings it reads.
func printCommandHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "remit %s: %s\n\nusage: %s\n\n%s\n\nflags:\n", c.name, c.summary, usageLine(c), c.about)
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w, "  -h, --help\n    \tshow this help and exit")
	switch {
	case len(c.settings) == 0:
		fmt.Fprintln(w, "\nsettings: none")
	case slices.Equal(c.settings, allSettings):
		fmt.Fprintln(w, "\nsettings (environment variables):")
		printSettings(w, nil)
	default:
		fmt.Fprintln(w, "\nsettings (environment variables):")
		printSettings(w, c.settings)
	}
}

// printSettings writes the environment variables named in only (nil: all),
// in the README's order, aligned, with the default when there is one.
func printSettings(w io.Writer, only []string) {
	var vs []envVar
	width := 0
	for _, v := range envVars {
		if only == nil || slices.Contains(only, v.name) {
			vs = append(vs, v)
			width = max(width, len(v.name))
		}
	}
	for _, v := range vs {
		line := fmt.Sprintf("  %-*s  %s", width, v.name, v.help)
		if v.def != "" {
			line += " (default " + v.def + ")"
		}
		fmt.Fprintln(w, line)
	}
}

// healthzURL returns the /healthz URL of a server listening on addr
// (REMIT_ADDR: ":8080", "0.0.0.0:8080", "127.0.0.1:9000"), reached from
// this machine.
func healthzURL(addr string) string {
	if addr == "" {
		addr = DefaultConfig().Addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/healthz"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}

// healthcheck GETs url and succeeds when it answers 200 within timeout.
func healthcheck(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s answered %s", url, resp.Status)
	}
	return nil
}
