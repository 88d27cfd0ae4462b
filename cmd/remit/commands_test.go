package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runBinary runs the built remit in an empty directory with no settings in
// its environment and returns its output, its exit code and what it left in
// the directory.
func runBinary(t *testing.T, args ...string) (stdout, stderr string, code int, left []string) {
	t.Helper()
	bin := remitBinary(t) // built once, before the clock below starts
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	// Only PATH and HOME: no DATABASE_URL, so a command that opened the
	// database would create remit.db here; REMIT_ADDR on a port nobody
	// listens on, so a server that started would not clash.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "REMIT_ADDR=127.0.0.1:1"}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("remit %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("remit %s did not exit within 20 s: it ran instead of printing help", strings.Join(args, " "))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		left = append(left, e.Name())
	}
	return out.String(), errOut.String(), code, left
}

// TestCommandHelp runs every command and subcommand with -h and --help: each
// prints its purpose, usage, flags and settings, exits 0, and creates no
// database and starts nothing.
func TestCommandHelp(t *testing.T) {
	cases := []struct {
		args []string
		want []string // in the output, in this order
	}{
		{[]string{"serve"}, []string{"remit serve: migrate the database, then serve", "usage: remit [serve]", "flags:", "settings", "REMIT_ADDR", "SMTP_FROM"}},
		{[]string{"migrate"}, []string{"remit migrate: apply the database migrations", "usage: remit migrate", "flags:", "DATABASE_URL"}},
		{[]string{"env"}, []string{"remit env: list the settings", "usage: remit env", "settings: none"}},
		{[]string{"healthcheck"}, []string{"remit healthcheck:", "usage: remit healthcheck [flags]", "-timeout duration", "-url string", "REMIT_ADDR"}},
		{[]string{"stripe"}, []string{"remit stripe: Stripe commands", "usage: remit stripe reconcile"}},
		{[]string{"stripe", "reconcile"}, []string{"remit stripe reconcile: record succeeded Stripe payments", "usage: remit stripe reconcile [flags]", "-since string", "STRIPE_SECRET_KEY"}},
		{[]string{"backup"}, []string{"remit backup: copy the live SQLite database", "usage: remit backup FILE", "DATABASE_URL"}},
		{[]string{"backup", "copy.db"}, []string{"remit backup:", "usage: remit backup FILE"}},
		{[]string{"restore"}, []string{"remit restore: replace the SQLite database", "usage: remit restore [flags] FILE", "-force", "DATABASE_URL"}},
		{[]string{"loadtest"}, []string{"remit loadtest: measure Remit", "usage: remit loadtest [flags]", "-conns int", "-duration duration", "settings: none"}},
		{[]string{"help"}, []string{"remit help: list the commands", "usage: remit help [COMMAND]"}},
	}
	for _, tc := range cases {
		for _, flag := range []string{"-h", "--help", "-help"} {
			args := append(append([]string{}, tc.args...), flag)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				out, errOut, code, left := runBinary(t, args...)
				if code != 0 {
					t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
				}
				if len(left) != 0 {
					t.Fatalf("-h left %v behind (a database was opened?)", left)
				}
				rest := out
				for _, w := range tc.want {
					i := strings.Index(rest, w)
					if i < 0 {
						t.Fatalf("output lacks %q (after the earlier expectations):\n%s", w, out)
					}
					rest = rest[i+len(w):]
				}
				if !strings.Contains(out, "-h, --help") {
					t.Fatalf("output does not name -h, --help:\n%s", out)
				}
				if strings.Contains(out, `(default "")`) {
					t.Fatalf("output says (default \"\"):\n%s", out)
				}
			})
		}
	}
}

// TestHelpListsEveryCommand checks that `remit help`, `remit -h` and
// `remit --help` list every command with one line each, and that `remit
// help COMMAND` is the command's -h.
func TestHelpListsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		out, errOut, code, left := runBinary(t, args...)
		if code != 0 || len(left) != 0 {
			t.Fatalf("remit %v: exit %d, left %v\n%s%s", args, code, left, out, errOut)
		}
		for _, c := range commands() {
			line := ""
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), c.name+"  ") {
					line = l
				}
			}
			if line == "" || !strings.HasSuffix(line, c.summary) {
				t.Fatalf("remit %v does not list %q with its summary:\n%s", args, c.name, out)
			}
		}
		for _, name := range []string{"serve", "migrate", "env", "healthcheck", "stripe reconcile", "backup", "restore", "loadtest", "help"} {
			if !strings.Contains(out, "\n  "+name+" ") {
				t.Fatalf("remit %v does not list %s:\n%s", args, name, out)
			}
		}
	}
	want, _, _, _ := runBinary(t, "stripe", "reconcile", "-h")
	got, _, code, _ := runBinary(t, "help", "stripe", "reconcile")
	if code != 0 || got != want {
		t.Fatalf("remit help stripe reconcile (exit %d):\n%s\nwant:\n%s", code, got, want)
	}
}

// TestEnvTable checks `remit env`: every setting on one aligned line, a
// default only where there is one.
func TestEnvTable(t *testing.T) {
	out, errOut, code, left := runBinary(t, "env")
	if code != 0 || len(left) != 0 {
		t.Fatalf("remit env: exit %d, left %v\n%s%s", code, left, out, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(envVars) {
		t.Fatalf("remit env printed %d lines for %d settings:\n%s", len(lines), len(envVars), out)
	}
	column := -1
	for i, v := range envVars {
		l := lines[i]
		if !strings.HasPrefix(l, "  "+v.name+" ") {
			t.Fatalf("line %d is not %s: %q", i, v.name, l)
		}
		at := len(l) - len(strings.TrimLeft(l[2+len(v.name):], " "))
		if column < 0 {
			column = at
		}
		if at != column {
			t.Fatalf("%s's help starts at column %d, the first at %d:\n%s", v.name, at, column, out)
		}
		if hasDefault := strings.HasSuffix(l, " (default "+v.def+")"); hasDefault != (v.def != "") {
			t.Fatalf("%s: default shown %v, default %q: %q", v.name, hasDefault, v.def, l)
		}
	}
}

// TestCommandErrors checks that a wrong command line exits 1 with the usage
// and still opens nothing.
func TestCommandErrors(t *testing.T) {
	for _, args := range [][]string{{"nonsense"}, {"stripe"}, {"stripe", "refund"}, {"backup"}, {"restore", "-bogus", "x.db"}, {"help", "nonsense"}} {
		out, errOut, code, left := runBinary(t, args...)
		if code != 1 || len(left) != 0 {
			t.Fatalf("remit %v: exit %d, left %v\n%s%s", args, code, left, out, errOut)
		}
		if !strings.Contains(errOut, "usage: remit") && !strings.Contains(errOut, "remit help lists the commands") {
			t.Fatalf("remit %v says:\n%s", args, errOut)
		}
	}
}

// TestHealthcheckCommand runs `remit healthcheck` against a live server
// (exit 0) and a port nobody listens on (exit 1).
func TestHealthcheckCommand(t *testing.T) {
	s := MustRunMain(t)
	if _, errOut, code, _ := runBinary(t, "healthcheck", "-url", s.URL()+"/healthz"); code != 0 {
		t.Fatalf("healthcheck of a live server: exit %d: %s", code, errOut)
	}
	if _, errOut, code, _ := runBinary(t, "healthcheck", "-timeout", "1s"); code != 1 || !strings.Contains(errOut, "healthcheck") {
		t.Fatalf("healthcheck with nothing listening: exit %d: %s", code, errOut)
	}
	for addr, want := range map[string]string{
		":8080": "http://127.0.0.1:8080/healthz", "0.0.0.0:9000": "http://127.0.0.1:9000/healthz",
		"[::]:8080": "http://127.0.0.1:8080/healthz", "10.0.0.5:8080": "http://10.0.0.5:8080/healthz", "": "http://127.0.0.1:8080/healthz",
	} {
		if got := healthzURL(addr); got != want {
			t.Errorf("healthzURL(%q) = %s, want %s", addr, got, want)
		}
	}
}
