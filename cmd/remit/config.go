package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/remit/remit/domain"
)

// Config is everything Remit reads from its environment. LoadConfig documents
// each variable; the README's configuration table lists the same.
type Config struct {
	Addr            string
	DatabaseURL     string
	AdminKey        string
	Now             time.Time // zero: the real clock
	Business        domain.Business
	BodyLimit       int64
	RateLimit       float64
	RateBurst       int
	SweepInterval   time.Duration
	ShutdownTimeout time.Duration
	LogLevel        slog.Level

	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIBase       string

	SMTPURL  string
	SMTPFrom string
}

// envVar describes one setting: its name, default and how to parse it.
type envVar struct {
	name, def, help string
	parse           func(string, *Config) error
}

// envVars is the list of settings, in the order the README shows them.
var envVars = []envVar{
	{"REMIT_ADDR", ":8080", "listen address", func(v string, c *Config) error { c.Addr = v; return nil }},
	{"DATABASE_URL", "remit.db", "SQLite file path, or a postgres:// URL", func(v string, c *Config) error { c.DatabaseURL = v; return nil }},
	{"REMIT_ADMIN_KEY", "", "admin API key to ensure at start (at least 24 characters)", func(v string, c *Config) error {
		if v != "" && len(v) < 24 {
			return fmt.Errorf("must be at least 24 characters")
		}
		c.AdminKey = v
		return nil
	}},
	{"REMIT_NOW", "", "pin the clock: 2026-03-01 or an RFC 3339 time (demos, tests)", func(v string, c *Config) error {
		if v == "" {
			return nil
		}
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			c.Now = t
			return nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return fmt.Errorf("must be YYYY-MM-DD or an RFC 3339 time")
		}
		c.Now = t.UTC()
		return nil
	}},
	{"REMIT_BUSINESS_NAME", "Remit", "business name on documents", func(v string, c *Config) error { c.Business.Name = v; return nil }},
	{"REMIT_BUSINESS_ADDRESS", "", "business address on documents", func(v string, c *Config) error { c.Business.Address = v; return nil }},
	{"REMIT_BUSINESS_EMAIL", "", "business e-mail on documents and as sender", func(v string, c *Config) error { c.Business.Email = v; return nil }},
	{"REMIT_TIMEZONE", "UTC", "business time zone (IANA), the default for clients", func(v string, c *Config) error {
		if _, err := time.LoadLocation(v); err != nil || v == "Local" {
			return fmt.Errorf("must be an IANA time zone such as Europe/Berlin")
		}
		c.Business.Timezone = v
		return nil
	}},
	{"REMIT_NOTICE_DAYS", "30", "days of notice before a tougher agreement takes effect", func(v string, c *Config) error {
		n, err := intIn(v, 0, 365)
		c.Business.NoticeDays = n
		return err
	}},
	{"REMIT_BODY_LIMIT", "1048576", "largest request body in bytes", func(v string, c *Config) error {
		n, err := intIn(v, 1024, 64<<20)
		c.BodyLimit = int64(n)
		return err
	}},
	{"REMIT_RATE_LIMIT", "100", "requests per second per API key (0: no limit)", func(v string, c *Config) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1e6 {
			return fmt.Errorf("must be a number from 0 to 1000000")
		}
		c.RateLimit = f
		return nil
	}},
	{"REMIT_RATE_BURST", "200", "requests a key may send at once above the rate", func(v string, c *Config) error {
		n, err := intIn(v, 1, 1_000_000)
		c.RateBurst = n
		return err
	}},
	{"REMIT_SWEEP_INTERVAL", "1h", "how often the enforcement sweep runs; it also runs at start (0: only on demand, POST /v1/billing/run)", func(v string, c *Config) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("must be a duration such as 1h or 15m")
		}
		c.SweepInterval = d
		return nil
	}},
	{"REMIT_SHUTDOWN_TIMEOUT", "30s", "how long a shutdown waits for requests in flight", func(v string, c *Config) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("must be a positive duration such as 30s")
		}
		c.ShutdownTimeout = d
		return nil
	}},
	{"REMIT_LOG_LEVEL", "info", "debug, info, warn or error", func(v string, c *Config) error {
		return c.LogLevel.UnmarshalText([]byte(v))
	}},
	{"STRIPE_SECRET_KEY", "", "Stripe secret key; without it Stripe endpoints answer 503", func(v string, c *Config) error { c.StripeSecretKey = v; return nil }},
	{"STRIPE_WEBHOOK_SECRET", "", "signing secret of the Stripe webhook endpoint", func(v string, c *Config) error { c.StripeWebhookSecret = v; return nil }},
	{"STRIPE_API_BASE", "", "Stripe API base URL (stripe-mock in tests)", func(v string, c *Config) error {
		if v == "" {
			return nil
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("must be an http(s) URL")
		}
		c.StripeAPIBase = strings.TrimRight(v, "/")
		return nil
	}},
	{"SMTP_URL", "", "smtp://user:pass@host:port for e-mail notices (empty: no e-mail)", func(v string, c *Config) error {
		if v == "" {
			return nil
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			return fmt.Errorf("must be smtp://[user:pass@]host:port or smtps://...")
		}
		c.SMTPURL = v
		return nil
	}},
	{"SMTP_FROM", "", "sender address of e-mail notices", func(v string, c *Config) error { c.SMTPFrom = v; return nil }},
}

func intIn(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("must be an integer from %d to %d", lo, hi)
	}
	return n, nil
}

// LoadConfig reads the settings from getenv (os.Getenv in production). A bad
// value is an error that names the variable.
func LoadConfig(getenv func(string) string) (Config, error) {
	var c Config
	for _, v := range envVars {
		val, ok := getenv(v.name), true
		if val == "" {
			val, ok = v.def, false
		}
		if err := v.parse(val, &c); err != nil {
			if !ok {
				return c, fmt.Errorf("default of %s: %w", v.name, err)
			}
			return c, fmt.Errorf("%s=%q: %w", v.name, val, err)
		}
	}
	return c, nil
}

// DefaultConfig returns the configuration with every variable unset.
func DefaultConfig() Config {
	c, err := LoadConfig(func(string) string { return "" })
	if err != nil {
		panic(err) // the defaults are constants above
	}
	return c
}

// printEnvHelp writes the variables and their defaults.
func printEnvHelp() {
	fmt.Fprintln(os.Stderr, "Environment variables:")
	for _, v := range envVars {
		fmt.Fprintf(os.Stderr, "  %-24s %s (default %q)\n", v.name, v.help, v.def)
	}
}
