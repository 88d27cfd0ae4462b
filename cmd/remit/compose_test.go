package main

import (
	"context"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
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
}
