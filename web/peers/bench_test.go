package peers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/valyala/fasthttp"

	"github.com/edgeward/edgeward/core/overlay"
)

// BenchmarkListPeers10k measures GET /api/peers over 10k real peers (made
// through the service, so fsynced into Badger) through the whole handler
// chain: auth, filter, JSON encoding. "all" also times a bare fiber handler
// sending the same bytes and reports of_bare, the list's throughput as a
// share of the bare handler's (the goal is at least 0.33).
func BenchmarkListPeers10k(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	for i := range 10_000 {
		if _, err := e.ov.CreatePeer(ctx, overlay.NewPeer{Name: fmt.Sprintf("host-%05d", i), PublicKey: newKey(b)}); err != nil {
			b.Fatal(err)
		}
	}
	all := e.ov.Groups("All")[0].ID
	if _, err := e.ov.SavePolicy(ctx, "", overlay.Policy{Name: "all", Enabled: true, Rules: []overlay.Rule{{Enabled: true,
		Action: "accept", Bidirectional: true, Protocol: overlay.ProtoAll, Sources: []string{all}, Destinations: []string{all}}}}); err != nil {
		b.Fatal(err)
	}
	h := e.app.Handler()
	for _, bc := range []struct{ name, query string }{
		{"all", ""},
		{"name", "?name=host-0999"},
		{"ip", "?ip=100.64.1."},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var rc fasthttp.RequestCtx
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n++
				rc.Request.Reset()
				rc.Response.Reset()
				rc.Request.SetRequestURI("/api/peers" + bc.query)
				rc.Request.Header.SetMethod("GET")
				rc.Request.Header.Set("Authorization", "Token "+e.admin)
				h(&rc)
				if rc.Response.StatusCode() != 200 {
					b.Fatalf("status %d", rc.Response.StatusCode())
				}
			}
			b.ReportMetric(float64(len(rc.Response.Body())), "bytes/resp")
			if bc.name == "all" {
				per := b.Elapsed() / time.Duration(n)
				b.ReportMetric(float64(bareNs(b, rc.Response.Body()))/float64(per), "of_bare")
			}
		})
	}
}

// bareNs is how long a bare fiber handler takes to answer with body, per
// request, measured the same way as the list.
func bareNs(b *testing.B, body []byte) time.Duration {
	body = append([]byte(nil), body...)
	app := fiber.New()
	app.Get("/api/peers", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(body)
	})
	h := app.Handler()
	var rc fasthttp.RequestCtx
	const n = 50
	t0 := time.Now()
	for range n {
		rc.Request.Reset()
		rc.Response.Reset()
		rc.Request.SetRequestURI("/api/peers")
		rc.Request.Header.SetMethod("GET")
		h(&rc)
		if len(rc.Response.Body()) != len(body) {
			b.Fatalf("bare handler wrote %d bytes", len(rc.Response.Body()))
		}
	}
	return time.Since(t0) / n
}
