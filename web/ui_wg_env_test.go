package web

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/dataplane"
	"github.com/edgeward/edgeward/core/tunnel"
)

// The WireGuard pages are tested over a real data plane (core/dataplane)
// whose device and filter are the fakes below: the kernel side is tested
// in hw/wg and hw/nft.

// testGatewayKey is the gateway's public key in the configs the tests get.
const testGatewayKey = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="

// rebuild builds e's app again with the deps newUIEnvWith gives it,
// changed by change (a plane, the gateway's WireGuard identity).
func (e *uiEnv) rebuild(change func(*Deps)) {
	d := Deps{Tokens: e.toks, Overlay: e.ov, ACL: e.acl, Journal: e.journal, Version: "1.2.3-test",
		Jobs: e.jobs, Links: e.links, Stats: e.stats,
		NodeID: "node-id-test", NodeName: testNodeName, Admin: e.admin,
		OnAuthFailure: func(ip string) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.failed = append(e.failed, ip)
		}}
	change(&d)
	e.app = New(d)
}

// withGateway gives client configs the gateway's key, endpoint and DNS.
func withGateway(d *Deps) {
	d.GatewayKey, d.Endpoint, d.DNS = testGatewayKey, "vpn.example.test:51820", netip.MustParseAddr("100.64.0.1")
}

// fakeDevice is a WireGuard device in memory. see makes a peer on it show
// life as the kernel would report it.
type fakeDevice struct {
	mu    sync.Mutex
	peers map[string]tunnel.PeerStat
}

func newFakeDevice() *fakeDevice { return &fakeDevice{peers: map[string]tunnel.PeerStat{}} }

func (d *fakeDevice) Configure(_ context.Context, set []tunnel.Peer, remove []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range set {
		st := d.peers[p.PublicKey]
		st.Peer = p
		d.peers[p.PublicKey] = st
	}
	for _, k := range remove {
		delete(d.peers, k)
	}
	return nil
}

func (d *fakeDevice) Peers(context.Context) ([]tunnel.PeerStat, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]tunnel.PeerStat, 0, len(d.peers))
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range d.peers {
			if !yield(k) {
				return
			}
		}
	}) {
		out = append(out, d.peers[k])
	}
	return out, nil
}

// see records a handshake at hs, traffic and an endpoint for the peer
// with key; the peer must be on the device.
func (d *fakeDevice) see(t testing.TB, key string, from netip.AddrPort, hs time.Time, rx, tx int64) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	st, ok := d.peers[key]
	if !ok {
		t.Fatalf("peer %s is not on the device", key)
	}
	st.Endpoint, st.LastHandshake, st.RxBytes, st.TxBytes = from, hs, rx, tx
	d.peers[key] = st
}

// fakeFilter accepts every policy: the pages only read whether the plane
// has a filter.
type fakeFilter struct{}

func (fakeFilter) InstallPolicy(context.Context, tunnel.Policy) error { return nil }
func (fakeFilter) ApplyMembers(context.Context, tunnel.Members) error { return nil }

// runningPlane is a data plane on interface wg0 over a fake device and
// filter, synced with e's overlay, and e's app rebuilt to show it.
func (e *uiEnv) runningPlane(t testing.TB) (*dataplane.Plane, *fakeDevice) {
	t.Helper()
	dev := newFakeDevice()
	plane := dataplane.New(e.ov, dev, fakeFilter{}, dataplane.Config{Interface: "wg0"})
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
