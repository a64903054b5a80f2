//go:build linux

package wg

import (
	"cmp"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/edgeward/edgeward/core/wgkey"
	ewnetns "github.com/edgeward/edgeward/hw/netns"
)

var equateNetip = cmpopts.EquateComparable(netip.Prefix{}, netip.Addr{}, netip.AddrPort{})

// peersOf returns the device's peers sorted by key, and their stats by key.
func peersOf(t testing.TB, d *Device) ([]tunnel.Peer, map[string]tunnel.PeerStat) {
	t.Helper()
	stats, err := d.Peers(ctxT(t))
	if err != nil {
		t.Fatalf("Peers: %v", err)
	}
	slices.SortFunc(stats, func(a, b tunnel.PeerStat) int { return cmp.Compare(a.PublicKey, b.PublicKey) })
	ps := make([]tunnel.Peer, len(stats))
	byKey := make(map[string]tunnel.PeerStat, len(stats))
	for i, s := range stats {
		ps[i] = s.Peer
		byKey[s.PublicKey] = s
	}
	return ps, byKey
}

func sortPeers(ps []tunnel.Peer) []tunnel.Peer {
	ps = slices.Clone(ps)
	slices.SortFunc(ps, func(a, b tunnel.Peer) int { return cmp.Compare(a.PublicKey, b.PublicKey) })
	return ps
}

// TestPing: a peer running wireguard-go reaches the gateway's overlay
// address, and Peers reports its session as the peer's side sees it; wg(8)
// reads the same from the embedded device.
func TestPing(t *testing.T) {
	l := newLab(t, ModeUserspace)
	if l.dev.Mode() != ModeUserspace || l.dev.Name() != l.name || l.dev.ListenPort() == 0 {
		t.Fatalf("Mode %q Name %q ListenPort %d", l.dev.Mode(), l.dev.Name(), l.dev.ListenPort())
	}
	a := l.addPeer(t, 1)
	if err := l.dev.Configure(ctxT(t), []tunnel.Peer{a.config()}, nil); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	before := time.Now().Add(-time.Second) // handshake times have second precision on the wire
	mustPing(t, a.ns, netip.MustParseAddr("10.99.0.1"))

	ps, stats := peersOf(t, l.dev)
	if diff := gocmp.Diff([]tunnel.Peer{a.config()}, ps, equateNetip); diff != "" {
		t.Errorf("peers (-want +got):\n%s", diff)
	}
	s := stats[a.pub.String()]
	if s.LastHandshake.Before(before) || s.LastHandshake.After(time.Now()) {
		t.Errorf("LastHandshake %v, want since %v", s.LastHandshake, before)
	}
	if s.Endpoint != a.end {
		t.Errorf("Endpoint %v, want %v", s.Endpoint, a.end)
	}
	if s.RxBytes <= 0 || s.TxBytes <= 0 {
		t.Errorf("RxBytes %d TxBytes %d, want both > 0", s.RxBytes, s.TxBytes)
	}

	t.Run("wg show agrees", func(t *testing.T) {
		dump := wgDump(t, l.g, l.name)
		if len(dump) != 1 {
			t.Fatalf("wg show dump: %d peers, want 1: %+v", len(dump), dump)
		}
		d := dump[0]
		got := tunnel.PeerStat{Peer: tunnel.Peer{PublicKey: d.PublicKey}, LastHandshake: time.Unix(d.Handshake, 0)}
		if d.PresharedKey != "(none)" {
			got.PresharedKey = d.PresharedKey
		}
		for _, a := range d.AllowedIPs {
			got.AllowedIPs = append(got.AllowedIPs, netip.MustParsePrefix(a))
		}
		got.Endpoint, _ = netip.ParseAddrPort(d.Endpoint)
		want := s
		want.LastHandshake = time.Unix(s.LastHandshake.Unix(), 0)
		want.RxBytes, want.TxBytes = 0, 0 // still counting
		if diff := gocmp.Diff(want, got, equateNetip); diff != "" {
			t.Errorf("wg show dump vs Peers (-Peers +dump):\n%s", diff)
		}
		if d.Rx < s.RxBytes || d.Tx < s.TxBytes {
			t.Errorf("wg show counts rx %d tx %d, below Peers' %d %d", d.Rx, d.Tx, s.RxBytes, s.TxBytes)
		}
	})
}

// TestForwarding: peer A reaches peer B's overlay address through the
// gateway, which proves forwarding on in G and each peer's allowed IPs
// routing to it. The host's forwarding setting stays as it was.
func TestForwarding(t *testing.T) {
	hostFwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	l := newLab(t, ModeUserspace)
	a, b := l.addPeer(t, 1), l.addPeer(t, 2)
	if err := l.dev.Configure(ctxT(t), []tunnel.Peer{a.config(), b.config()}, nil); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if got := strings.TrimSpace(l.g.cmd(t, "cat", "/proc/sys/net/ipv4/ip_forward")); got != "1" {
		t.Errorf("ip_forward in G = %q, want 1", got)
	}
	if got, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); string(got) != string(hostFwd) {
		t.Errorf("host ip_forward changed from %q to %q", hostFwd, got)
	}
	mustPing(t, b.ns, netip.MustParseAddr("10.99.0.1")) // the gateway learns B's endpoint
	mustPing(t, a.ns, b.addr)
	_, stats := peersOf(t, l.dev)
	if s := stats[b.pub.String()]; s.Endpoint != b.end {
		t.Errorf("B's endpoint %v, want %v", s.Endpoint, b.end)
	}
}

// TestConfigureIncremental changes peers a few at a time: Peers shows
// exactly the result, and the peers a change leaves in place keep their
// sessions (handshake and endpoint) and still pass traffic.
func TestConfigureIncremental(t *testing.T) {
	l := newLab(t, ModeUserspace)
	a, b, c := l.addPeer(t, 1), l.addPeer(t, 2), l.addPeer(t, 3)
	_, xPub, _ := wgkey.Generate() // a peer that never connects
	_, psk, _ := wgkey.Generate()
	x := tunnel.Peer{PublicKey: xPub.String(), PresharedKey: psk.String(),
		AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.99.9.0/24"), netip.MustParsePrefix("fd99::9/128")}}
	xNoPSK := x
	xNoPSK.PresharedKey = ""
	bWide := b.config("10.99.0.3/32", "10.99.5.0/24")

	steps := []struct {
		name   string
		set    []tunnel.Peer
		remove []string
		want   []tunnel.Peer
		ping   []*peer // peers that must reach the gateway after the step
		kept   []*peer // peers whose session must survive the step
		cut    []*peer // peers that must no longer get through
	}{
		{name: "add two", set: []tunnel.Peer{a.config(), b.config()},
			want: []tunnel.Peer{a.config(), b.config()}, ping: []*peer{a, b}},
		{name: "add two more", set: []tunnel.Peer{c.config(), x},
			want: []tunnel.Peer{a.config(), b.config(), c.config(), x}, ping: []*peer{c}, kept: []*peer{a, b}},
		{name: "remove one, widen another", set: []tunnel.Peer{bWide}, remove: []string{a.pub.String()},
			want: []tunnel.Peer{bWide, c.config(), x}, ping: []*peer{b, c}, kept: []*peer{b, c}, cut: []*peer{a}},
		{name: "clear a preshared key", set: []tunnel.Peer{xNoPSK},
			want: []tunnel.Peer{bWide, c.config(), xNoPSK}, kept: []*peer{b, c}},
		{name: "remove an absent peer", remove: []string{a.pub.String()},
			want: []tunnel.Peer{bWide, c.config(), xNoPSK}, kept: []*peer{b, c}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			_, before := peersOf(t, l.dev)
			if err := l.dev.Configure(ctxT(t), st.set, st.remove); err != nil {
				t.Fatalf("Configure: %v", err)
			}
			got, after := peersOf(t, l.dev)
			if diff := gocmp.Diff(sortPeers(st.want), got, equateNetip); diff != "" {
				t.Errorf("peers (-want +got):\n%s", diff)
			}
			for _, p := range st.kept {
				was, now := before[p.pub.String()], after[p.pub.String()]
				if was.LastHandshake.IsZero() || !now.LastHandshake.Equal(was.LastHandshake) || now.Endpoint != was.Endpoint {
					t.Errorf("peer %s: handshake %v endpoint %v, want %v %v kept", p.addr, now.LastHandshake, now.Endpoint,
						was.LastHandshake, was.Endpoint)
				}
			}
			for _, p := range st.ping {
				mustPing(t, p.ns, netip.MustParseAddr("10.99.0.1"))
			}
			for _, p := range st.cut {
				if err := ping(p.ns, netip.MustParseAddr("10.99.0.1"), 2); err == nil {
					t.Errorf("removed peer %s still reaches the gateway", p.addr)
				}
			}
		})
	}
}

// TestEndpoint: given a peer's endpoint, the gateway handshakes first, as
// it must after a restart for peers that wait to be reached; without one
// it cannot reach a peer that never wrote to it.
func TestEndpoint(t *testing.T) {
	l := newLab(t, ModeUserspace)
	a := l.addPeerWith(t, 1, false)
	if err := l.dev.Configure(ctxT(t), []tunnel.Peer{a.config()}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ping(l.g, a.addr, 1); err == nil {
		t.Fatal("the gateway reached a peer whose endpoint it does not know")
	}
	withEnd := a.config()
	withEnd.Endpoint = a.end
	if err := l.dev.Configure(ctxT(t), []tunnel.Peer{withEnd}, nil); err != nil {
		t.Fatal(err)
	}
	mustPing(t, l.g, a.addr)
	_, stats := peersOf(t, l.dev)
	if s := stats[a.pub.String()]; s.Endpoint != a.end || s.LastHandshake.IsZero() || s.Peer.Endpoint.IsValid() {
		t.Errorf("peer: endpoint %v, handshake %v, Peer.Endpoint %v; want %v, a handshake, none", s.Endpoint,
			s.LastHandshake, s.Peer.Endpoint, a.end)
	}
	// Re-set without an endpoint: the device keeps the one it has.
	if err := l.dev.Configure(ctxT(t), []tunnel.Peer{a.config()}, nil); err != nil {
		t.Fatal(err)
	}
	if _, stats := peersOf(t, l.dev); stats[a.pub.String()].Endpoint != a.end {
		t.Errorf("endpoint after a change without one: %v, want %v", stats[a.pub.String()].Endpoint, a.end)
	}
}

// TestConfigureInvalid: bad input fails with core.ErrInvalid and changes
// nothing.
func TestConfigureInvalid(t *testing.T) {
	l := newLab(t, ModeUserspace)
	_, k, _ := wgkey.Generate()
	good := tunnel.Peer{PublicKey: k.String(), AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.99.0.2/32")}}
	if err := l.dev.Configure(ctxT(t), []tunnel.Peer{good}, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		set    []tunnel.Peer
		remove []string
	}{
		{"bad public key", []tunnel.Peer{{PublicKey: "nope"}}, nil},
		{"bad preshared key", []tunnel.Peer{{PublicKey: k.String(), PresharedKey: "AAAA"}}, nil},
		{"own key", []tunnel.Peer{{PublicKey: l.pub.String()}}, nil},
		{"bad removal beside a good change", []tunnel.Peer{{PublicKey: k.String()}}, []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := l.dev.Configure(ctxT(t), tt.set, tt.remove)
			if !errors.Is(err, core.ErrInvalid) {
				t.Fatalf("Configure = %v, want core.ErrInvalid", err)
			}
			got, _ := peersOf(t, l.dev)
			if diff := gocmp.Diff([]tunnel.Peer{good}, got, equateNetip); diff != "" {
				t.Errorf("peers changed (-want +got):\n%s", diff)
			}
		})
	}
}

// udpSockets returns the socket inodes of the UDP sockets of the calling
// thread's namespace by local port.
func udpSockets(t testing.TB) map[int][]string {
	t.Helper()
	socks := map[int][]string{}
	for _, f := range []string{"/proc/thread-self/net/udp", "/proc/thread-self/net/udp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) < 10 {
				continue
			}
			_, hexPort, _ := strings.Cut(fields[1], ":")
			p, _ := strconv.ParseInt(hexPort, 16, 32)
			socks[int(p)] = append(socks[int(p)], fields[9])
		}
	}
	return socks
}

// ownSocket reports whether this process holds the socket inode.
func ownSocket(t testing.TB, inode string) bool {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if l, _ := os.Readlink("/proc/self/fd/" + fd.Name()); l == "socket:["+inode+"]" {
			return true
		}
	}
	return false
}

// TestNamespace: the TUN interface, the UDP sockets and the MTU the device
// reads are all G's, whichever thread asks.
func TestNamespace(t *testing.T) {
	l := newLab(t, ModeUserspace)
	if out := l.g.ip(t, "-d", "addr", "show", l.name); !strings.Contains(out, "tun type tun") ||
		!strings.Contains(out, "inet 10.99.0.1/16") || !strings.Contains(out, "state UNKNOWN") && !strings.Contains(out, "state UP") {
		t.Errorf("G's %s:\n%s", l.name, out)
	}
	if err := exec.Command("ip", "link", "show", l.name).Run(); err == nil {
		t.Errorf("%s exists in the host's namespace", l.name)
	}
	var inG map[int][]string
	if err := ewnetns.Do(l.g.fd, func() error { inG = udpSockets(t); return nil }); err != nil {
		t.Fatal(err)
	}
	port := l.dev.ListenPort()
	if n := len(inG[port]); n != 2 {
		t.Errorf("%d UDP sockets on port %d in G, want 2 (IPv4 and IPv6)", n, port)
	}
	for _, inode := range inG[port] {
		if !ownSocket(t, inode) {
			t.Errorf("socket %s on port %d in G is not this process's", inode, port)
		}
	}
	// Another process of the host may use the port; this one must not.
	for _, inode := range udpSockets(t)[port] {
		if ownSocket(t, inode) {
			t.Errorf("this process has a UDP socket on port %d in the host's namespace", port)
		}
	}

	l.g.ip(t, "link", "set", l.name, "mtu", "1380")
	got, err := l.dev.user.tun.MTU() // from this goroutine, on a thread of the host's namespace
	if err != nil || got != 1380 {
		t.Errorf("MTU read from the host's namespace = %d, %v; want 1380", got, err)
	}
}

// TestCloseRestart: Close removes the embedded device's interface and
// UAPI socket, is idempotent and ends the other calls; a new Open with the
// same name then works, as after a daemon restart.
func TestCloseRestart(t *testing.T) {
	l := newLab(t, ModeUserspace)
	sock := filepath.Join(uapiDir, l.name+".sock")
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("uapi socket: %v", err)
	}
	if err := l.dev.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := l.dev.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if out, err := exec.Command("ip", "-n", l.g.name, "link", "show", l.name).CombinedOutput(); err == nil {
		t.Errorf("%s still in G after Close:\n%s", l.name, out)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("uapi socket after Close: %v", err)
	}
	if _, err := l.dev.Peers(ctxT(t)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Peers after Close = %v, want net.ErrClosed", err)
	}
	_, k, _ := wgkey.Generate()
	if err := l.dev.Configure(ctxT(t), []tunnel.Peer{{PublicKey: k.String()}}, nil); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Configure after Close = %v, want net.ErrClosed", err)
	}

	d, err := Open(l.options())
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	l.dev = d
	a := l.addPeer(t, 1)
	if err := d.Configure(ctxT(t), []tunnel.Peer{a.config()}, nil); err != nil {
		t.Fatal(err)
	}
	mustPing(t, a.ns, netip.MustParseAddr("10.99.0.1"))
}
