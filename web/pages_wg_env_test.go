package web

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/core/tunnel/tunneltest"
)

// The WireGuard pages are tested over a real data plane (core/dataplane)
// whose device and filter are core/tunnel/tunneltest's: the kernel side is
// tested in hw/wg and hw/nft.

// testGatewayKey is the gateway's public key in the configs the tests get.
const testGatewayKey = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="

// withGateway gives client configs the gateway's key, endpoint and DNS.
func withGateway(d *Deps) {
	d.GatewayKey, d.Endpoint, d.DNS = testGatewayKey, "vpn.example.test:51820", netip.MustParseAddr("100.64.0.1")
}

// see makes the peer with key show life on dev (a handshake at hs,
// traffic and an endpoint); the peer must be on the device.
func see(t testing.TB, dev *tunneltest.Device, key string, from netip.AddrPort, hs time.Time, rx, tx int64) {
	t.Helper()
	if !dev.See(key, from, hs, rx, tx) {
		t.Fatalf("peer %s is not on the device", key)
	}
}

// runningPlane is a data plane on interface wg0 over a fake device and
// filter, synced with e's overlay, and e's app rebuilt to show it.
func (e *uiEnv) runningPlane(t testing.TB) (*dataplane.Plane, *tunneltest.Device) {
	t.Helper()
	dev := tunneltest.NewDevice()
	plane := dataplane.New(e.ov, dev, &tunneltest.Filter{}, dataplane.Config{Interface: "wg0"})
	if err := plane.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.rebuild(func(d *Deps) { d.Plane = plane; withGateway(d) })
	return plane, dev
}

// poll has the plane read the device (and the overlay record it).
func poll(t testing.TB, plane *dataplane.Plane) {
	t.Helper()
	if err := plane.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := plane.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
}
