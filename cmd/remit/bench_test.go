package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// benchPost sends POST path with body(i) from parallel goroutines to url.
func benchPost(b *testing.B, url, key, path string, body func(int64) string, want int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // 32 requests in flight on 2 cores
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op") }()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", url+path, strings.NewReader(body(n.Add(1))))
			req.Header.Set("Content-Type", "application/json")
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

func clientJSON(i int64) string {
	return fmt.Sprintf(`{"name":"Bench client %d","email":"ap%d@bench.example","currency":"EUR"}`, i, i)
}

// BenchmarkClientCreate is an authenticated POST /v1/clients over loopback.
func BenchmarkClientCreate(b *testing.B) {
	s := MustRunMain(b, func(c *Config) { c.RateLimit, c.RateBurst = 1e6, 1e6 })
	benchPost(b, s.URL(), testAdminKey, "/v1/clients", clientJSON, 201)
}

// BenchmarkBareCreate is the ceiling: Echo and one raw SQLite insert.
func BenchmarkBareCreate(b *testing.B) {
	bare, err := startBareServer(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()
	benchPost(b, bare.url, "", "/v1/clients", clientJSON, 201)
}
