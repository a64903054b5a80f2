package peers

import (
	"context"
	"fmt"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/edgeward/edgeward/core/overlay"
)

// BenchmarkListPeers10k measures GET /api/peers over 10k real peers (made
// through the service, so fsynced into Badger) through the whole handler
// chain: auth, filter, JSON encoding.
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
