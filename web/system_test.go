package web

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/web/internal/webtest"
)

func TestHealthz(t *testing.T) {
	var sick error
	c := webtest.NewCore(t, webtest.Options{})
	app := New(Deps{Tokens: c.Tokens, Overlay: c.Overlay,
		Health: func(context.Context) error { return sick }})
	tests := []struct {
		name   string
		sick   error
		status int
		body   string
	}{
		{"healthy", nil, 200, "ok\n"},
		// The reason is logged, never sent: the route needs no token.
		{"store gone", errors.New("store: closed at /var/lib/edgeward"), 503, "not ok\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sick = tt.sick
			r := webtest.Do(t, app, "GET", "/healthz", "", nil, nil)
			if r.Status != tt.status || string(r.Body) != tt.body {
				t.Errorf("GET /healthz = %d %q, want %d %q", r.Status, r.Body, tt.status, tt.body)
			}
		})
	}
}

func TestMetricsRoles(t *testing.T) {
	c := webtest.NewCore(t, webtest.Options{})
	app := New(Deps{Tokens: c.Tokens, Overlay: c.Overlay, ACL: c.ACL, Journal: c.Journal})
	admin := webtest.Authz(c.Token(t, "a", auth.RoleAdmin))
	viewer := webtest.Authz(c.Token(t, "v", auth.RoleViewer))
	scraper := webtest.Authz(c.Token(t, "prometheus", auth.RoleMetrics))
	tests := []struct {
		name, path, authz string
		status            int
	}{
		{"admin scrapes", "/metrics", admin, 200},
		{"metrics token scrapes", "/metrics", scraper, 200},
		{"viewer may not scrape", "/metrics", viewer, 403},
		{"no token", "/metrics", "", 401},
		{"metrics token reads no peers", "/api/peers", scraper, 403},
		{"metrics token reads no network", "/network/points", scraper, 403},
		{"metrics token writes nothing", "/api/tokens", scraper, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := webtest.Do(t, app, "GET", tt.path, tt.authz, nil, nil)
			if r.Status != tt.status {
				t.Errorf("GET %s = %d, want %d: %s", tt.path, r.Status, tt.status, r.Body)
			}
		})
	}
}

// TestMetricsMove scrapes /metrics with Prometheus' own text parser and
// checks that the series follow what happens on the box.
func TestMetricsMove(t *testing.T) {
	c := webtest.NewCore(t, webtest.Options{})
	app := New(Deps{Tokens: c.Tokens, Overlay: c.Overlay, ACL: c.ACL, Journal: c.Journal, GreySize: 100,
		StoreSize: func() int64 { return 3000 }})
	admin := webtest.Authz(c.Token(t, "a", auth.RoleAdmin))
	scraper := webtest.Authz(c.Token(t, "prometheus", auth.RoleMetrics))

	before := scrape(t, app, scraper)
	for name, want := range map[string]float64{
		`edgeward_acl_entries{list="ban",scope="address"}`: 0,
		`edgeward_peers`:             0,
		`edgeward_greylist_capacity`: 100,
		`edgeward_store_bytes`:       3000,
	} {
		if got := before.value(t, name); got != want {
			t.Errorf("before: %s = %v, want %v", name, got, want)
		}
	}

	if r := webtest.Do(t, app, "PATCH", "/network/points/203.0.113.9:22", admin, map[string]string{"acl": "ban"}, nil); r.Status != 200 {
		t.Fatalf("ban: %d %s", r.Status, r.Body)
	}
	if r := webtest.Do(t, app, "POST", "/api/peers", admin, map[string]any{"name": "laptop"}, nil); r.Status != 200 {
		t.Fatalf("create peer: %d %s", r.Status, r.Body)
	}
	for i := 0; i < 3; i++ {
		webtest.Do(t, app, "GET", "/api/peers/d0000000000000000000", admin, nil, nil)
	}

	after := scrape(t, app, scraper)
	for name, want := range map[string]float64{
		`edgeward_acl_entries{list="ban",scope="address"}`: 1,
		`edgeward_peers`: 1,
		`edgeward_events_total{kind="point_banned"}`: 1,
		`edgeward_events_total{kind="peer_created"}`: 1,
		// Route patterns, not raw paths: every peer id is one series.
		`edgeward_http_requests_total{code="404",method="GET",route="/api/peers/:id"}`:           3,
		`edgeward_http_requests_total{code="200",method="PATCH",route="/network/points/:point"}`: 1,
		`edgeward_http_request_duration_seconds_count{method="POST",route="/api/peers"}`:         1,
	} {
		if got := after.value(t, name); got != want {
			t.Errorf("after: %s = %v, want %v", name, got, want)
		}
	}
	if n := after.value(t, `edgeward_http_requests_total{code="200",method="GET",route="/metrics"}`); n != 1 {
		t.Errorf("the first scrape counted %v times, want 1", n)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_resident_memory_bytes"} {
		if after.value(t, name) <= 0 {
			t.Errorf("%s missing or not positive", name)
		}
	}
	for key := range after {
		if strings.Contains(key, "d0000000000000000000") {
			t.Errorf("a raw path became a series: %s", key)
		}
	}
}

// samples are a scrape's values by series, labels sorted by name as
// `name{a="1",b="2"}`.
type samples map[string]float64

func (s samples) value(t *testing.T, key string) float64 {
	t.Helper()
	v, ok := s[key]
	if !ok {
		t.Errorf("no series %s in the scrape", key)
	}
	return v
}

// scrape reads /metrics as a Prometheus server would.
func scrape(t *testing.T, app *fiber.App, authz string) samples {
	t.Helper()
	r := webtest.Do(t, app, "GET", "/metrics", authz, nil, nil)
	if r.Status != 200 {
		t.Fatalf("GET /metrics = %d: %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q, want the Prometheus text format", ct)
	}
	return parseScrape(t, r.Body)
}

func parseScrape(t *testing.T, body []byte) samples {
	t.Helper()
	var p expfmt.TextParser
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse scrape: %v\n%s", err, body)
	}
	out := samples{}
	for name, f := range families {
		for _, m := range f.Metric {
			out[seriesKey(name, m.Label)] = sampleValue(m)
		}
	}
	return out
}

func seriesKey(name string, labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return name
	}
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = l.GetName() + `="` + l.GetValue() + `"`
	}
	slices.Sort(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}
