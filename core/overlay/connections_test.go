package overlay

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/edgeward/edgeward/core"
	"github.com/google/go-cmp/cmp"
)

func TestConnectionsAndLookups(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a, b, c := f.peer(t, "a"), f.peer(t, "b"), f.peer(t, "c")
	from := netip.MustParseAddrPort("203.0.113.7:51820")
	for _, p := range []PeerInfo{b, a} {
		if err := f.svc.SetConnected(ctx, p.PublicKey, true, from); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.SetConnected(ctx, c.PublicKey, true, netip.MustParseAddrPort("198.51.100.1:1")); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetConnected(ctx, c.PublicKey, false, netip.AddrPort{}); err != nil {
		t.Fatal(err)
	}

	if n, conn := f.svc.Counts(); n != 3 || conn != 2 {
		t.Errorf("Counts() = %d, %d; want 3 peers, 2 connected", n, conn)
	}
	var got []string
	for _, cn := range f.svc.Connections() {
		got = append(got, cn.Name)
		if cn.PeerID != PeerID(cn.PublicKey) || cn.Endpoint != from {
			t.Errorf("connection %s: peer id %s, endpoint %s", cn.Name, cn.PeerID, cn.Endpoint)
		}
	}
	if diff := cmp.Diff([]string{"a", "b"}, got); diff != "" {
		t.Errorf("connections (-want +got):\n%s", diff)
	}
	want := []string{PeerID(a.PublicKey), PeerID(b.PublicKey)}
	if diff := cmp.Diff(want, f.svc.PeersFrom(from.Addr())); diff != "" {
		t.Errorf("PeersFrom (-want +got):\n%s", diff)
	}
	if got := f.svc.PeersFrom(netip.MustParseAddr("198.51.100.1")); got != nil {
		t.Errorf("PeersFrom a disconnected peer's address = %v", got)
	}

	p, err := f.svc.ByPeerID(PeerID(c.PublicKey))
	if err != nil || p.ID != c.ID {
		t.Errorf("ByPeerID(c) = %s, %v", p.ID, err)
	}
	if err := f.svc.DeletePeer(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{PeerID(c.PublicKey), "nope"} {
		if _, err := f.svc.ByPeerID(id); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("ByPeerID(%s) after delete: err = %v", id, err)
		}
	}
	f.restart(t)
	if p, err := f.svc.ByPeerID(PeerID(a.PublicKey)); err != nil || p.ID != a.ID {
		t.Errorf("ByPeerID(a) after restart = %s, %v", p.ID, err)
	}
}
