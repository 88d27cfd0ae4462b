package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/remit/remit/domain"
)

// Config is everything Remit reads from its environment. LoadConfig documents
// each variable; the README's configuration table lists the same.
type Config struct {
	Addr            string
	MetricsAddr     string // "": /metrics only on Addr, behind a read key
	DatabaseURL     string
	AdminKey        string
	Now             time.Time // zero: the real clock
	Business        domain.Business
	Thresholds      domain.Thresholds // red flags of the client health report
	BodyLimit       int64
	RateLimit       float64
	RateBurst       int
	SweepInterval   time.Duration
	ShutdownTimeout time.Duration
	LogLevel        slog.Level
	// KeyCacheTTL is how long an authenticated API key is kept in memory.
	KeyCacheTTL time.Duration

	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIBase       string
	StripeSuccessURL    string
	StripeCancelURL     string

	SMTPURL  string
	SMTPFrom string

	// PublicURL is the base URL of the client-facing pages; LinkKey derives
	// their tokens. Without PublicURL there are no hosted pages.
	PublicURL string
	LinkKey   string

	// DeliveryInterval is how often webhooks and e-mails are sent; 0: not by this replica.
	DeliveryInterval time.Duration
	// WebhookAllowPrivate lets webhook endpoints reach loopback, private and
	// other non-public addresses (tests, a receiver on the same network).
	WebhookAllowPrivate bool
}

// envVar describes one setting: its name, default and how to parse it.
type envVar struct {
	name, def, help string
	parse           func(string, *Config) error
}

// envVars is the list of settings, in the order the README shows them.
var envVars = []envVar{
	{"REMIT_ADDR", ":8080", "listen address", func(v string, c *Config) error { c.Addr = v; return nil }},
	{"REMIT_METRICS_ADDR", "", "second listen address serving only GET /metrics, without an API key (keep it private; empty: none)", func(v string, c *Config) error {
		c.MetricsAddr = v
		return nil
	}},
	{"DATABASE_URL", "remit.db", "SQLite file path, or a postgres:// URL", func(v string, c *Config) error { c.DatabaseURL = v; return nil }},
	{"REMIT_ADMIN_KEY", "", "admin API key to ensure at start, re-activated if revoked (at least 24 characters)", func(v string, c *Config) error {
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
	{"REMIT_BUSINESS_TAX_ID", "", "business tax identifier (VAT number) on invoices", func(v string, c *Config) error { c.Business.TaxID = v; return nil }},
	{"REMIT_BUSINESS_EMAIL", "", "business e-mail on documents and as sender", func(v string, c *Config) error { c.Business.Email = v; return nil }},
	{"REMIT_TIMEZONE", "UTC", "business time zone (IANA), the default for clients", func(v string, c *Config) error {
		if _, err := time.LoadLocation(v); err != nil || v == "Local" {
			return fmt.Errorf("must be an IANA time zone such as Europe/Berlin")
		}
		c.Business.Timezone = v
		return nil
	}},
	{"REMIT_LANGUAGE", "en", "language of new clients' pages when a client names none: en, ru, bg or de", func(v string, c *Config) error {
		if !slices.Contains(domain.Languages, v) {
			return fmt.Errorf("must be one of en, ru, bg, de")
		}
		c.Business.Language = v
		return nil
	}},
	{"REMIT_NOTICE_DAYS", "30", "days of notice before a tougher agreement takes effect", func(v string, c *Config) error {
		n, err := intIn(v, 0, 365)
		c.Business.NoticeDays = n
		return err
	}},
	{"REMIT_TARGET_HOURLY_RATE", "0", "target revenue per hour worked, in minor units: 9000, or per currency EUR:9000,GBP:8000 (0: no target)", func(v string, c *Config) error {
		rates, err := domain.ParseTargetRates(v)
		c.Thresholds.TargetHourlyRates = rates
		return err
	}},
	{"REMIT_FLAG_LATE_SHARE", "30", "percent of invoices due in the period paid late or overdue that flags a chronic late payer (0: off)", func(v string, c *Config) error {
		n, err := intIn(v, 0, 100)
		c.Thresholds.LateShare = n
		return err
	}},
	{"REMIT_FLAG_HOURS_SHARE_CAP", "20", "percent of all hours a client under the target rate may take before it is flagged (0: off)", func(v string, c *Config) error {
		n, err := intIn(v, 0, 100)
		c.Thresholds.HoursShareCap = n
		return err
	}},
	{"REMIT_FLAG_EXCEPTIONS", "3", "exceptions (waived charges) in the period that flag a client (0: off)", func(v string, c *Config) error {
		n, err := intIn(v, 0, 1_000_000)
		c.Thresholds.Exceptions = n
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
	{"REMIT_DELIVERY_INTERVAL", "5s", "how often webhooks and e-mail notices are sent and retried (0: this replica does not deliver)", func(v string, c *Config) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || (d > 0 && d < 100*time.Millisecond) {
			return fmt.Errorf("must be 0 or a duration of at least 100ms, such as 5s")
		}
		c.DeliveryInterval = d
		return nil
	}},
	{"REMIT_WEBHOOK_ALLOW_PRIVATE", "false", "true lets webhook endpoints reach loopback, private, link-local and other non-public addresses (a receiver on your own network; tests)", func(v string, c *Config) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		c.WebhookAllowPrivate = b
		return nil
	}},
	{"REMIT_KEY_CACHE_TTL", "30s", "how long an authenticated API key is kept in memory; a revocation takes effect at once on every replica all the same (0: look every key up)", func(v string, c *Config) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("must be a duration such as 30s, or 0")
		}
		c.KeyCacheTTL = d
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
	{"STRIPE_SUCCESS_URL", "", "where Stripe Checkout sends the payer after paying (a request may name another)", func(v string, c *Config) error {
		c.StripeSuccessURL = v
		return checkHTTPURL(v)
	}},
	{"STRIPE_CANCEL_URL", "", "where Stripe Checkout sends a payer who cancels", func(v string, c *Config) error {
		c.StripeCancelURL = v
		return checkHTTPURL(v)
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
	{"SMTP_FROM", "", "sender address of e-mail notices (default REMIT_BUSINESS_EMAIL)", func(v string, c *Config) error { c.SMTPFrom = v; return nil }},
	{"REMIT_PUBLIC_URL", "", "base URL of the client-facing pages (hosted invoice and account pages), e.g. https://pay.example.com (empty: no hosted pages)", func(v string, c *Config) error {
		c.PublicURL = strings.TrimRight(v, "/")
		return checkHTTPURL(v)
	}},
	{"REMIT_LINK_KEY", "", "secret (at least 32 characters) the hosted pages' link tokens are derived from; required with REMIT_PUBLIC_URL; changing it changes every link", func(v string, c *Config) error {
		if v != "" && len(v) < domain.MinLinkKeyLen {
			return fmt.Errorf("must be at least %d characters", domain.MinLinkKeyLen)
		}
		c.LinkKey = v
		return nil
	}},
	{"REMIT_BUSINESS_BANK_ACCOUNT_HOLDER", "", "bank transfer details shown on hosted invoice pages when Stripe is not configured: account holder", func(v string, c *Config) error { c.Business.Bank.AccountHolder = v; return nil }},
	{"REMIT_BUSINESS_BANK_NAME", "", "bank transfer details: the bank's name", func(v string, c *Config) error { c.Business.Bank.BankName = v; return nil }},
	{"REMIT_BUSINESS_BANK_IBAN", "", "bank transfer details: IBAN", func(v string, c *Config) error { c.Business.Bank.IBAN = v; return nil }},
	{"REMIT_BUSINESS_BANK_BIC", "", "bank transfer details: BIC (SWIFT)", func(v string, c *Config) error { c.Business.Bank.BIC = v; return nil }},
	{"REMIT_BUSINESS_BANK_ACCOUNT_NUMBER", "", "bank transfer details: account number (accounts without an IBAN)", func(v string, c *Config) error { c.Business.Bank.AccountNumber = v; return nil }},
	{"REMIT_BUSINESS_BANK_SORT_CODE", "", "bank transfer details: sort code or routing number", func(v string, c *Config) error { c.Business.Bank.SortCode = v; return nil }},
}

// checkHTTPURL accepts "" or an absolute http(s) URL.
func checkHTTPURL(v string) error {
	if v == "" {
		return nil
	}
	if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an http(s) URL")
	}
	return nil
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
	if c.PublicURL != "" && c.LinkKey == "" {
		return c, fmt.Errorf("REMIT_LINK_KEY is required with REMIT_PUBLIC_URL (at least %d characters; e.g. openssl rand -hex 32)", domain.MinLinkKeyLen)
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
