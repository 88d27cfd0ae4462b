package api

import (
	"bytes"
	"io"
	"net/http"
	"time"

	json "github.com/go-json-experiment/json"
	"github.com/labstack/echo/v4"

	"github.com/remit/remit/domain"
)

// Observer is told what the server did, for metrics. The api package knows
// no metrics library: cmd/remit passes an implementation (metrics.Metrics).
// Its methods must be safe for concurrent use and quick.
type Observer interface {
	// ObserveRequest is called once per answered request with the route
	// template (/v1/clients/:id, or "unmatched"), never the raw path.
	ObserveRequest(method, route string, status int, elapsed time.Duration)
	// StripeEvent is called once per Stripe webhook event that had a valid
	// signature and was answered 200, with its type (or "other").
	StripeEvent(typ string)
}

// unmatchedRoute is the route label of requests that matched no route, so
// that scanners probing random paths cannot grow the label set.
const unmatchedRoute = "unmatched"

// observeRequest reports every request to the Observer. It sits outside
// accessLog, which has already written any error response, so the status
// is the one the client gets.
func (s *Server) observeRequest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.Observer == nil {
			return next(c)
		}
		start := time.Now()
		err := next(c)
		// Echo's router leaves the path empty when nothing matched, and
		// otherwise names a registered template: the label set stays bounded.
		route := c.Path()
		if route == "" {
			route = unmatchedRoute
		}
		s.Observer.ObserveRequest(methodLabel(c.Request().Method), route, c.Response().Status, time.Since(start))
		return err
	}
}

// methodLabel keeps the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// handleMetrics serves the Prometheus text format.
func (s *Server) handleMetrics(c echo.Context) error {
	if s.Metrics == nil {
		return domain.Errorf(domain.EUNAVAILABLE, "metrics are not enabled in this process")
	}
	s.Metrics.ServeHTTP(c.Response(), c.Request())
	return nil
}

// observeStripeEvent tells the Observer the type of each Stripe webhook
// event the handler accepted. It copies the body as the handler reads it
// (the handler applies its own size cap) and reads the type only after a
// 200, so only events with a valid signature are counted.
func (s *Server) observeStripeEvent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.Observer == nil {
			return next(c)
		}
		req := c.Request()
		var seen bytes.Buffer
		req.Body = &teeBody{ReadCloser: req.Body, copy: &seen, limit: MaxWebhookBody}
		err := next(c)
		if err == nil && c.Response().Status == http.StatusOK {
			s.Observer.StripeEvent(stripeEventType(seen.Bytes()))
		}
		return err
	}
}

// stripeEventType returns the "type" of a Stripe event body, or "other"
// when it is missing or not a plausible Stripe type (so a label stays small).
func stripeEventType(body []byte) string {
	var ev struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &ev) != nil || len(ev.Type) == 0 || len(ev.Type) > 64 {
		return "other"
	}
	for i := 0; i < len(ev.Type); i++ {
		c := ev.Type[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return "other"
		}
	}
	return ev.Type
}

// teeBody copies up to limit bytes of what is read from a body into copy.
type teeBody struct {
	io.ReadCloser
	copy  *bytes.Buffer
	limit int
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if room := t.limit - t.copy.Len(); room > 0 {
		t.copy.Write(p[:min(n, room)])
	}
	return n, err
}
