package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/remit/remit/metrics"
)

// wireMetrics builds the metric set and connects it: the API reports its
// requests and Stripe events and serves /metrics, the sweeper reports its
// runs, and the store answers the gauges' queries at each scrape.
func (m *Main) wireMetrics() {
	m.Metrics = metrics.New(m.Logger)
	m.Metrics.WatchOutboxBacklog(m.DB.OutboxBacklog)
	m.Metrics.WatchFailedDeliveries(m.DB.FailedDeliveries)
	m.Server.Observer, m.Server.Metrics = m.Metrics, m.Metrics.Handler()
	m.Sweeper.Observe = m.Metrics.ObserveRun
}

// serveMetrics serves GET /metrics without an API key on REMIT_METRICS_ADDR,
// when it is set; anything else there is 404.
func (m *Main) serveMetrics() error {
	if m.Config.MetricsAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (REMIT_METRICS_ADDR): %w", m.Config.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Metrics.Handler())
	m.metricsListener = ln
	m.metricsServer = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	m.metricsServed = make(chan error, 1)
	go func() { m.metricsServed <- m.metricsServer.Serve(ln) }()
	m.Logger.Info("metrics listening", "addr", ln.Addr().String())
	return nil
}

// MetricsURL returns the base URL of the REMIT_METRICS_ADDR listener, or ""
// when there is none.
func (m *Main) MetricsURL() string {
	if m.metricsListener == nil {
		return ""
	}
	addr := m.metricsListener.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// closeMetrics stops the metrics listener, if there is one.
func (m *Main) closeMetrics(ctx context.Context) error {
	if m.metricsServer == nil {
		return nil
	}
	err := m.metricsServer.Shutdown(ctx)
	if served := <-m.metricsServed; !errors.Is(served, http.ErrServerClosed) {
		err = errors.Join(err, served)
	}
	m.metricsServer = nil
	return err
}
