package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// replicaAdminKey is the admin key of the `remit serve` processes the
// loadtest starts.
const replicaAdminKey = "rk_loadtest_replica_key_0123456789"

// loadtestBinary is the remit executable the loadtest starts replicas of
// (tests point it at a binary they built).
var loadtestBinary = os.Executable

// replicaGroup is a number of processes on one database: `remit serve`
// as replicas run in production, or the same-work floor; each its own
// process, connection pool and Go runtime.
type replicaGroup struct {
	cmds []*exec.Cmd
	urls []string
}

// startReplicas starts n `remit serve` processes on databaseURL and waits
// until each answers /healthz. Nothing runs in their background (no sweep,
// no deliveries) and their access logs are discarded.
func startReplicas(ctx context.Context, databaseURL string, n int) (*replicaGroup, error) {
	return startGroup(ctx, n, func(addr string) ([]string, []string) {
		return []string{"serve"}, []string{"DATABASE_URL=" + databaseURL, "REMIT_ADDR=" + addr, "REMIT_ADMIN_KEY=" + replicaAdminKey,
			"REMIT_RATE_LIMIT=0", "REMIT_SWEEP_INTERVAL=0", "REMIT_DELIVERY_INTERVAL=0", "REMIT_LOG_LEVEL=error"}
	})
}

// startFloorGroup starts n processes of the same-work floor on databaseURL
// (`remit loadtest -serve-floor`), with a pool of conns/n connections each
// (rounded up), as many as the floor of one process has in all,
// so that three processes of the floor can be set against one as three
// replicas of Remit are: what the machine itself gives or takes when the
// work is split across processes.
func startFloorGroup(ctx context.Context, databaseURL string, n, conns int) (*replicaGroup, error) {
	return startGroup(ctx, n, func(addr string) ([]string, []string) {
		return []string{"loadtest", "-serve-floor", addr, "-database-url", databaseURL, "-conns", fmt.Sprint((conns + n - 1) / n)}, nil
	})
}

// startGroup starts n processes of the remit executable, each with the
// arguments and environment that command gives for its address, and waits
// until each answers /healthz there.
func startGroup(ctx context.Context, n int, command func(addr string) (args, env []string)) (*replicaGroup, error) {
	bin, err := loadtestBinary()
	if err != nil {
		return nil, err
	}
	g := &replicaGroup{}
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			g.Close()
			return nil, err
		}
		addr := ln.Addr().String()
		ln.Close()
		args, env := command(addr)
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			g.Close()
			return nil, err
		}
		g.cmds, g.urls = append(g.cmds, cmd), append(g.urls, "http://"+addr)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, u := range g.urls {
		for {
			resp, err := http.Get(u + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				g.Close()
				return nil, fmt.Errorf("process at %s did not become healthy (last error: %v)", u, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return g, nil
}

// Close stops the processes (SIGTERM, then waits).
func (g *replicaGroup) Close() {
	for _, c := range g.cmds {
		_ = c.Process.Signal(syscall.SIGTERM)
	}
	for _, c := range g.cmds {
		_ = c.Wait()
	}
}
