package p2pview_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/overlay"
	"github.com/edgeward/edgeward/core/p2pview"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/core/wgkey"
)

// env is the view over a real ACL and overlay in a temp store: the joins
// are the point, so no fake stands in for them.
type env struct {
	acl  *acl.Service
	ov   *overlay.Service
	view *p2pview.View
}

func newEnv(t *testing.T) env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	j := events.New(64, nil)
	ov, err := overlay.New(ctx, db, j, overlay.Config{Network: netip.MustParsePrefix("100.64.0.0/16"), DNSDomain: "t.test", TempAccessTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	a, err := acl.New(ctx, db, nil, j, acl.Config{PeersFrom: ov.PeersFrom})
	if err != nil {
		t.Fatal(err)
	}
	return env{acl: a, ov: ov, view: p2pview.New(a, ov, nil)}
}

// connect creates an overlay peer connected from endpoint and returns its
// P2P id and public key.
func (e env) connect(t *testing.T, name, endpoint string) (id, key string) {
	t.Helper()
	_, pub, err := wgkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	key = pub.String()
	ctx := context.Background()
	if _, err := e.ov.CreatePeer(ctx, overlay.NewPeer{Name: name, PublicKey: key}); err != nil {
		t.Fatal(err)
	}
	if endpoint != "" {
		if err := e.ov.SetConnected(ctx, key, true, netip.MustParseAddrPort(endpoint)); err != nil {
			t.Fatal(err)
		}
	}
	return overlay.PeerID(key), key
}

// addrs compares points; ignoreTimes leaves out the times the services set.
var (
	addrs       = cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })
	ignoreTimes = cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".LastSeen" || p.Last().String() == ".GreylistedTill"
	}, cmp.Ignore())
)

func TestPointKnown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pid, _ := e.connect(t, "c", "[::ffff:198.51.100.20]:51820")
	banned := netip.MustParseAddrPort("203.0.113.5:9732")
	if err := e.acl.SetPoint(ctx, banned, acl.Ban, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	trusted := netip.MustParseAddrPort("203.0.113.6:1")
	if err := e.acl.SetPoint(ctx, trusted, acl.Trust, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		point string
		want  p2pview.Point
		known bool
	}{
		{"connected, mapped endpoint unmapped", "198.51.100.20:51820",
			p2pview.Point{Point: netip.MustParseAddrPort("198.51.100.20:51820"), State: p2pview.Running, PeerID: pid}, true},
		{"other port of a connection", "198.51.100.20:1",
			p2pview.Point{Point: netip.MustParseAddrPort("198.51.100.20:1"), State: p2pview.Disconnected}, false},
		{"banned", "203.0.113.5:9732", p2pview.Point{Point: banned, Banned: true, State: p2pview.Disconnected}, true},
		{"banned address, any port", "203.0.113.5:7", p2pview.Point{Point: netip.MustParseAddrPort("203.0.113.5:7"), Banned: true, State: p2pview.Disconnected}, true},
		{"trusted", "203.0.113.6:1", p2pview.Point{Point: trusted, Trusted: true, State: p2pview.Disconnected}, true},
		{"unknown", "192.0.2.1:1", p2pview.Point{Point: netip.MustParseAddrPort("192.0.2.1:1"), State: p2pview.Disconnected}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, known := e.view.Point(netip.MustParseAddrPort(tt.point))
			if known != tt.known {
				t.Errorf("known = %v, want %v", known, tt.known)
			}
			if diff := cmp.Diff(tt.want, got, addrs, ignoreTimes); diff != "" {
				t.Errorf("point (-want +got):\n%s", diff)
			}
		})
	}
	want := []netip.AddrPort{netip.MustParseAddrPort("198.51.100.20:51820"), banned, trusted}
	if diff := cmp.Diff(want, e.view.Points(0).List(), addrs); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
}

// TestRegisteredPointStaysKnown: a point a client named stays known after
// its ACL entry is lifted, as in the original's pool.
func TestRegisteredPointStaysKnown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := netip.MustParseAddrPort("203.0.113.9:9732")
	expected, _ := e.connect(t, "x", "")
	if err := e.acl.SetPoint(ctx, p, acl.Trust, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	e.view.Register(p, expected)
	if err := e.acl.SetPoint(ctx, p, acl.Open, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	got, known := e.view.Point(p)
	want := p2pview.Point{Point: p, State: p2pview.Disconnected, ExpectedPeerID: expected}
	if diff := cmp.Diff(want, got, addrs); diff != "" || !known {
		t.Errorf("known = %v (want true), point (-want +got):\n%s", known, diff)
	}
	if diff := cmp.Diff([]netip.AddrPort{p}, e.view.Points(0).List(), addrs); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	// A second registration without an expected id keeps the first.
	e.view.Register(p, "")
	if got, _ := e.view.Point(p); got.ExpectedPeerID != expected {
		t.Errorf("expected peer id = %q after a plain registration, want %q", got.ExpectedPeerID, expected)
	}
}

func TestRegisterIsBounded(t *testing.T) {
	e := newEnv(t)
	first := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), 1)
	e.view.Register(first, "")
	for i := range p2pview.MaxRegistered {
		e.view.Register(netip.AddrPortFrom(netip.MustParseAddr("10.1.0.1"), uint16(i+1)), "")
	}
	if _, known := e.view.Point(first); known {
		t.Error("the oldest registration is still known past MaxRegistered")
	}
	if n := len(e.view.Points(0).List()); n != p2pview.MaxRegistered {
		t.Errorf("%d points listed, want %d", n, p2pview.MaxRegistered)
	}
}

func TestPointsLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.acl.Bulk(ctx, acl.Ban, []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"}, 0, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	e.connect(t, "c", "192.0.2.4:5")
	b := e.view.Points(2)
	want := []netip.AddrPort{
		netip.MustParseAddrPort("192.0.2.1:0"), netip.MustParseAddrPort("192.0.2.2:0"),
		netip.MustParseAddrPort("192.0.2.4:0"), netip.MustParseAddrPort("192.0.2.4:5"),
	}
	if diff := cmp.Diff(want, b.List(), addrs); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	// 192.0.2.3 is left out; 192.0.2.4 came in with its connection.
	if b.Left != 1 {
		t.Errorf("left = %d, want 1", b.Left)
	}
	if pt, _ := b.Info(netip.MustParseAddrPort("192.0.2.4:5")); !pt.Banned || pt.State != p2pview.Running {
		t.Errorf("connection past the limit = %+v, want banned and running", pt)
	}
}

func TestPeers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conn, _ := e.connect(t, "a", "198.51.100.1:2")
	idle, _ := e.connect(t, "b", "")
	_, stranger := e.connect(t, "gone", "")
	strangerID := overlay.PeerID(stranger)
	// A peer id no overlay peer has: unknown until the ACL holds it.
	p, _ := e.ov.ByPeerID(strangerID)
	if err := e.ov.DeletePeer(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, known := e.view.Peer(strangerID); known {
		t.Fatal("a deleted peer is known")
	}
	if err := e.acl.SetPeer(ctx, strangerID, acl.Ban, "test"); err != nil {
		t.Fatal(err)
	}
	got, known := e.view.Peer(strangerID)
	if want := (p2pview.Peer{ID: strangerID, Banned: true, State: p2pview.Disconnected}); !known || got != want {
		t.Errorf("banned stranger = %+v, %v; want %+v, true", got, known, want)
	}
	if err := e.acl.SetPeer(ctx, strangerID, acl.Open, "test"); err != nil {
		t.Fatal(err)
	}
	if _, known := e.view.Peer(strangerID); known {
		t.Error("an opened stranger is still known without a registration")
	}
	e.view.RegisterPeer(strangerID)
	if _, known := e.view.Peer(strangerID); !known {
		t.Error("a registered stranger is unknown")
	}
	var states []string
	for _, p := range e.view.Peers() {
		states = append(states, p.Name+":"+p.State+":"+p.ID)
	}
	want := []string{"a:running:" + conn, "b:disconnected:" + idle, ":disconnected:" + strangerID}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("peers (-want +got):\n%s", diff)
	}
	cs := e.view.Connections()
	if len(cs) != 1 || cs[0].PeerID != conn || !cs[0].Incoming || cs[0].Endpoint != netip.MustParseAddrPort("198.51.100.1:2") {
		t.Errorf("connections = %+v", cs)
	}
}

func TestConnect(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bg := netip.MustParseAddrPort("203.0.113.50:9732")
	if err := e.acl.SetPoint(ctx, bg, acl.Ban, "test", acl.Guard{}); err != nil {
		t.Fatal(err)
	}
	if err := e.view.Connect(ctx, netip.MustParseAddrPort("203.0.113.50:1")); !errors.Is(err, p2pview.ErrPointBanned) {
		t.Errorf("connect to a banned address: %v, want ErrPointBanned", err)
	}

	// No peer comes: the request is withdrawn.
	lonely := netip.MustParseAddrPort("192.0.2.77:9732")
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := e.view.Connect(short, lonely); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("connect with no peer coming: %v, want DeadlineExceeded", err)
	}
	if _, known := e.view.Point(lonely); known {
		t.Error("a withdrawn request left the point known")
	}

	// A peer comes while Connect waits: requested, then running.
	_, key := e.connect(t, "late", "")
	target := netip.MustParseAddrPort("192.0.2.78:9732")
	done := make(chan error, 1)
	go func() { done <- e.view.Connect(ctx, target) }()
	for {
		if pt, _ := e.view.Point(target); pt.State == p2pview.Requested {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := e.ov.SetConnected(ctx, key, true, target); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("connect: %v", err)
	}
	if err := e.ov.SetConnected(ctx, key, false, netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}
	if pt, known := e.view.Point(target); !known || pt.State != p2pview.Disconnected {
		t.Errorf("after the peer left: %+v, %v; want a known disconnected point", pt, known)
	}
}
