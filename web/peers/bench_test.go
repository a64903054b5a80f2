package peers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/valyala/fasthttp"

	"github.com/edgeward/edgeward/core/overlay"
)

// BenchmarkListPeers10k measures GET /api/peers over 10k real peers (made
// through the service, so fsynced into Badger) through the whole handler
// chain: auth, filter, JSON encoding. "loopback" serves the list over TCP
// on 127.0.0.1 next to a bare fiber handler sending the same bytes and
// reports of_bare, the list's throughput as a share of the bare handler's
// (the goal is at least 0.33).
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
	b.Run("loopback", func(b *testing.B) { loopback(b, e.app, e.admin) })
	h := e.app.Handler()
	for _, bc := range []struct{ name, query string }{
		{"all", ""},
		{"name", "?name=host-0999"},
		{"ip", "?ip=100.64.1."},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var rc fasthttp.RequestCtx
			b.ReportAllocs()
			for b.Loop() {
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
		})
	}
}

// loopback times GET /api/peers over TCP against a bare fiber handler
// sending the same body from memory, alternating, with one client reading
// each body to the end as a real client does.
func loopback(b *testing.B, app *fiber.App, token string) {
	var body []byte
	get := func(url string) time.Duration {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Token "+token)
		t0 := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		buf := bytes.NewBuffer(body[:0])
		if _, err := io.Copy(buf, res.Body); err != nil {
			b.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("GET %s: %d", url, res.StatusCode)
		}
		body = buf.Bytes()
		return time.Since(t0)
	}
	serve := func(a *fiber.App) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &fasthttp.Server{Handler: a.Handler()}
		go func() { _ = srv.Serve(ln) }()
		b.Cleanup(func() { _ = srv.Shutdown() })
		return "http://" + ln.Addr().String() + "/api/peers"
	}
	listURL := serve(app)
	get(listURL)
	same := append([]byte(nil), body...)
	bare := fiber.New()
	bare.Get("/api/peers", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(same)
	})
	bareURL := serve(bare)
	var list, plain time.Duration
	n := 0
	for b.Loop() {
		list += get(listURL)
		plain += get(bareURL)
		n++
	}
	if len(body) != len(same) {
		b.Fatalf("bare handler sent %d bytes, the list %d", len(body), len(same))
	}
	b.ReportMetric(float64(n)/list.Seconds(), "list_req/s")
	b.ReportMetric(float64(n)/plain.Seconds(), "bare_req/s")
	b.ReportMetric(float64(plain)/float64(list), "of_bare")
}
