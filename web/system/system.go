// Package system serves what runs the box rather than what it manages:
// /healthz for init systems and load balancers, and /metrics in the
// Prometheus text format for monitoring.
package system

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/core/events"
)

// Deps are what the system routes read. Every source may be nil: its
// series are then left out.
type Deps struct {
	Log *slog.Logger
	// Guard authenticates /metrics: it must let admin and metrics tokens
	// through and nothing else.
	Guard fiber.Handler
	// Health reports whether the box works (store answers, firewall
	// installed when enabled); nil counts as healthy.
	Health func(ctx context.Context) error

	ACL interface{ Counts() acl.Counts }
	// GreySize is the kernel greylist's capacity per address family, for
	// its fill ratio.
	GreySize int
	Peers    interface{ Counts() (peers, connected int) }
	Plane    interface{ Status() dataplane.Status }
	Journal  interface {
		Since(seq uint64) []events.Event
	}
	// StoreSize is the store's size on disk in bytes.
	StoreSize func() int64
}

// Metrics holds the request series and reads the rest at each scrape. It
// is safe for concurrent use.
type Metrics struct {
	d   Deps
	set *metrics.Set

	mu    sync.Mutex // guards seq and kinds
	seq   uint64
	kinds map[events.Kind]uint64
}

// New returns the metrics over d.
func New(d Deps) *Metrics {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{d: d, set: metrics.NewSet(), kinds: map[events.Kind]uint64{}}
	m.set.RegisterMetricsWriter(m.writeState)
	return m
}

// healthTimeout bounds a health check: a store that does not answer in
// time is not healthy.
const healthTimeout = 3 * time.Second

// Mount adds GET /healthz (no token) and GET /metrics (Deps.Guard) to r.
func Mount(r fiber.Router, m *Metrics) {
	r.Get("/healthz", m.health)
	r.Get("/metrics", m.d.Guard, m.scrape)
}

func (m *Metrics) health(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if m.d.Health != nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), healthTimeout)
		defer cancel()
		if err := m.d.Health(ctx); err != nil {
			// The reason stays in the log: the route needs no token, so it
			// tells nothing about the box.
			m.d.Log.Warn("health check failed", "err", err)
			return c.Status(fiber.StatusServiceUnavailable).SendString("not ok\n")
		}
	}
	return c.SendString("ok\n")
}

func (m *Metrics) scrape(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	w := c.Response().BodyWriter()
	m.set.WritePrometheus(w)
	metrics.WriteProcessMetrics(w)
	return nil
}

// Observe is the middleware that counts and times every request by its
// route pattern (never the raw path, which would make a series per peer
// id). It must come before the routes it measures.
func (m *Metrics) Observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		// The error handler writes the status the client sees.
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	r := c.Route()
	route := r.Path
	status := c.Response().StatusCode()
	if r.Method == "USE" && status == fiber.StatusNotFound {
		route = "unmatched"
	}
	labels := `{method=` + strconv.Quote(c.Method()) + `,route=` + strconv.Quote(route)
	m.set.GetOrCreateCounter(`edgeward_http_requests_total` + labels + `,code="` + strconv.Itoa(status) + `"}`).Inc()
	m.set.GetOrCreatePrometheusHistogram(`edgeward_http_request_duration_seconds` + labels + `}`).UpdateDuration(start)
	return nil
}
