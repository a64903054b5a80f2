package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/valyala/fasthttp"
)

// TestAccessLogLevels checks answered requests are logged at debug and
// refused or failed ones at info and warn, and that an info logger keeps
// only the latter.
func TestAccessLogLevels(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		wantLevel string // at debug
		atInfo    bool   // still logged by an info logger
	}{
		{name: "ok", path: "/ok", wantLevel: "DEBUG"},
		{name: "not found", path: "/missing", wantLevel: "INFO", atInfo: true},
		{name: "handler error", path: "/fail", wantLevel: "WARN", atInfo: true},
		{name: "unhealthy", path: "/healthz", wantLevel: "DEBUG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
				var out bytes.Buffer
				log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: level}))
				app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
					return c.Status(fiber.StatusInternalServerError).SendString("internal error")
				}})
				app.Use(AccessLog(log))
				app.Get("/ok", func(c *fiber.Ctx) error { return c.SendString("fine") })
				app.Get("/missing", func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusNotFound) })
				app.Get("/fail", func(c *fiber.Ctx) error { return errors.New("boom") })
				app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendStatus(fiber.StatusServiceUnavailable) })
				res, err := app.Test(httptest.NewRequest("GET", tt.path, nil))
				if err != nil {
					t.Fatal(err)
				}
				_ = res.Body.Close()
				if level == slog.LevelInfo && !tt.atInfo {
					if out.Len() != 0 {
						t.Errorf("info logger wrote %q", out.String())
					}
					continue
				}
				var rec struct {
					Level, Msg, Path string
					Status           int
				}
				if err := json.Unmarshal(out.Bytes(), &rec); err != nil {
					t.Fatalf("log %q: %v", out.String(), err)
				}
				want := struct {
					Level, Msg, Path string
					Status           int
				}{tt.wantLevel, "request", tt.path, res.StatusCode}
				if diff := cmp.Diff(want, rec); diff != "" {
					t.Errorf("record at %s (-want +got):\n%s", level, diff)
				}
			}
		})
	}
}

// BenchmarkAccessLog times a small JSON answer through AccessLog with an
// info-level text logger against the same app without the middleware, and
// reports of_unlogged, the logged app's throughput as a share of the
// other's (1 means the log costs nothing).
func BenchmarkAccessLog(b *testing.B) {
	mk := func(logged bool) fasthttp.RequestHandler {
		app := fiber.New()
		if logged {
			app.Use(AccessLog(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))))
		}
		app.Get("/api/peers/:id", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"id": c.Params("id")}) })
		return app.Handler()
	}
	run := func(h fasthttp.RequestHandler, n int) time.Duration {
		var rc fasthttp.RequestCtx
		t0 := time.Now()
		for range n {
			rc.Request.Reset()
			rc.Response.Reset()
			rc.Request.SetRequestURI("/api/peers/p1")
			rc.Request.Header.SetMethod("GET")
			h(&rc)
			if rc.Response.StatusCode() != 200 {
				b.Fatalf("status %d", rc.Response.StatusCode())
			}
		}
		return time.Since(t0)
	}
	logged, plain := mk(true), mk(false)
	var withLog, without time.Duration
	const batch = 1000
	for b.Loop() {
		withLog += run(logged, batch)
		without += run(plain, batch)
	}
	b.ReportMetric(float64(without)/float64(withLog), "of_unlogged")
}
