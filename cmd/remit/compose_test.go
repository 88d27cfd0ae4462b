package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// TestComposeFileLoads parses docker-compose.yml with compose-go, the loader
// `docker compose config` uses, and checks that Remit points at both services.
func TestComposeFileLoads(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{"../../docker-compose.yml"}, cli.WithOsEnv, cli.WithName("remit"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cli.ProjectFromOptions(context.Background(), opts)
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	for _, name := range []string{"remit-1", "remit-2", "postgres", "stripe-mock"} {
		if _, err := p.GetService(name); err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
	}
	r, _ := p.GetService("remit-1")
	if r.Build == nil || r.Build.Dockerfile == "" && r.Build.Context == "" {
		t.Fatal("remit is not built from the repo's Dockerfile")
	}
	env := r.Environment
	if v := env["DATABASE_URL"]; v == nil || (*v)[:11] != "postgres://" {
		t.Fatalf("DATABASE_URL %v", v)
	}
	if v := env["STRIPE_API_BASE"]; v == nil || *v != "http://stripe-mock:12111" {
		t.Fatalf("STRIPE_API_BASE %v", v)
	}
	// Checkout needs somewhere to send the payer back: both return pages are
	// set, and Remit's own settings check accepts them.
	for _, name := range []string{"STRIPE_SUCCESS_URL", "STRIPE_CANCEL_URL"} {
		v := env[name]
		if v == nil || *v == "" {
			t.Fatalf("%s is not set in docker-compose.yml", name)
		}
		if err := checkHTTPURL(*v); err != nil {
			t.Fatalf("%s=%s: %v", name, *v, err)
		}
	}
	// Every image is pinned to a version: the same PostgreSQL major the
	// tests run on, and the stripe-mock release the tests install.
	pinned := map[string]*regexp.Regexp{
		"postgres":    regexp.MustCompile(`^postgres:15\.\d+(-bookworm)?$`),
		"stripe-mock": regexp.MustCompile(`^stripe/stripe-mock:v\d+\.\d+\.\d+$`),
	}
	for name, re := range pinned {
		svc, _ := p.GetService(name)
		if !re.MatchString(svc.Image) {
			t.Errorf("service %s runs image %q, want one matching %s", name, svc.Image, re)
		}
	}
}

// TestDockerfile checks the Dockerfile without a Docker engine: pinned base
// images (the Go release of go.mod, a dated Debian), and a HEALTHCHECK that
// runs `remit healthcheck`, a command the binary has.
func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+\.\d+)$`).FindSubmatch(gomod)
	if goVersion == nil {
		t.Fatal("go.mod names no go x.y.z version")
	}
	var froms []string
	var healthcheck string
	for _, line := range strings.Split(string(raw), "\n") {
		switch fields := strings.Fields(line); {
		case len(fields) >= 2 && fields[0] == "FROM":
			froms = append(froms, fields[1])
		case len(fields) >= 1 && fields[0] == "HEALTHCHECK":
			healthcheck = line
		}
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^golang:` + regexp.QuoteMeta(string(goVersion[1])) + `-bookworm$`),
		regexp.MustCompile(`^debian:bookworm-20\d{6}-slim$`),
	}
	if len(froms) != len(want) {
		t.Fatalf("FROM lines %v, want a build and a runtime stage", froms)
	}
	for i, re := range want {
		if !re.MatchString(froms[i]) {
			t.Errorf("stage %d is FROM %s, want an image matching %s", i, froms[i], re)
		}
	}
	if !strings.Contains(healthcheck, `CMD ["/usr/local/bin/remit", "healthcheck"]`) {
		t.Fatalf("HEALTHCHECK %q does not run remit healthcheck", healthcheck)
	}
	if _, ok := findCommand("healthcheck"); !ok {
		t.Fatal("the binary has no healthcheck command")
	}
}

// TestDockerignore checks .dockerignore with Docker's own matcher: the git
// history, local databases, binaries and test output stay out of the build
// context; the sources, migrations and go.mod go in.
func TestDockerignore(t *testing.T) {
	f, err := os.Open("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	for path, ignored := range map[string]bool{
		".git": true, ".git/HEAD": true, "remit": true, "remit.db": true, "remit.db-wal": true, "remit.db-shm": true,
		"data/remit.db": true, "cmd/remit/remit.test": true, "cpu.prof": true, "coverage.out": true, "bin/remit": true,
		"go.mod": false, "go.sum": false, "cmd/remit/main.go": false, "migrations/0001_init.sql": false,
		"api/openapi.yaml": false, "Dockerfile": false, "cmd/remit": false,
	} {
		got, err := pm.MatchesOrParentMatches(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != ignored {
			t.Errorf(".dockerignore: %s ignored %v, want %v", path, got, ignored)
		}
	}
}
