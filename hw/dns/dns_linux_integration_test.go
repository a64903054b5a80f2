//go:build linux

package dns

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	miekg "github.com/miekg/dns"
	"golang.org/x/sys/unix"

	"github.com/edgeward/edgeward/hw/netns"
)

// The kernel test runs in a network namespace it creates (ew-dns-<random>)
// and deletes when it ends; nothing touches the host's namespace.

// newNS creates a namespace with lo up and returns its name and an open
// descriptor; both go away when the test ends.
func newNS(t *testing.T) (string, int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("kernel test: needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("kernel test: needs iproute2 (ip)")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "ew-dns-" + hex.EncodeToString(b[:])
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("kernel test: ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	f, err := os.Open("/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	ipNS(t, name, "link", "set", "lo", "up")
	return name, int(f.Fd())
}

func ipNS(t *testing.T, ns string, args ...string) {
	t.Helper()
	args = append([]string{"-n", ns}, args...)
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// askIn asks addr from the address from inside the namespace fd: the
// client socket is made there, then used from here.
func askIn(t *testing.T, fd int, network string, from netip.Addr, addr netip.AddrPort, m *miekg.Msg) *miekg.Msg {
	t.Helper()
	var c net.Conn
	err := netns.Do(fd, func() (err error) {
		d := net.Dialer{Timeout: 5 * time.Second}
		if network == "udp" {
			d.LocalAddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(from, 0))
		} else {
			d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(from, 0))
		}
		c, err = d.Dial(network, addr.String())
		return err
	})
	if err != nil {
		t.Fatalf("dial %s %s in the namespace: %v", network, addr, err)
	}
	defer c.Close()
	client := &miekg.Client{Net: network, Timeout: 5 * time.Second}
	r, _, err := client.ExchangeWithConn(m, &miekg.Conn{Conn: c})
	if err != nil {
		t.Fatalf("exchange %v over %s: %v", m.Question, network, err)
	}
	return r
}

// TestServeInNamespace starts the server in a fresh namespace on an
// address no link has yet (FREEBIND), then brings the address up, as the
// WireGuard interface does, and queries it from inside: overlay names per
// asker, and a forward to an upstream that exists only in that namespace.
func TestServeInNamespace(t *testing.T) {
	ns, fd := newNS(t)
	gw := netip.MustParseAddrPort("100.64.0.1:53")
	web, lonely := netip.MustParseAddr("100.64.0.2"), netip.MustParseAddr("100.64.0.3")

	// The address really is missing: a plain bind fails.
	err := netns.Do(fd, func() error {
		pc, err := net.ListenPacket("udp4", gw.Addr().String()+":0")
		if err == nil {
			pc.Close()
		}
		return err
	})
	if !errors.Is(err, unix.EADDRNOTAVAIL) {
		t.Fatalf("plain bind before the address is up: %v, want EADDRNOTAVAIL", err)
	}

	resolver := startUpstreamAt(t, fd, netip.MustParseAddrPort("10.53.0.1:53"), answerA(1))
	s, err := Serve(Options{
		Addr:      gw,
		NetNS:     fd,
		Domain:    "overlay.internal",
		Allowed:   netip.MustParsePrefix("100.64.0.0/10"),
		Names:     fakeNames{web: {"web": netip.MustParseAddr("100.64.0.10")}},
		Upstreams: fixed(resolver.addr),
	})
	if err != nil {
		t.Fatalf("Serve before the address exists: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if s.Addr() != gw {
		t.Errorf("Addr %s, want %s", s.Addr(), gw)
	}

	// A veth pair stands in for the WireGuard interface (this kernel may
	// lack both wireguard and dummy); both ends stay in the namespace.
	ipNS(t, ns, "link", "add", "wg-test", "type", "veth", "peer", "name", "wg-peer")
	for _, a := range []string{"100.64.0.1/10", "100.64.0.2/10", "100.64.0.3/10", "10.53.0.1/24"} {
		ipNS(t, ns, "addr", "add", a, "dev", "wg-test")
	}
	ipNS(t, ns, "link", "set", "wg-peer", "up")
	ipNS(t, ns, "link", "set", "wg-test", "up")

	tests := []struct {
		name   string
		from   netip.Addr
		q      *miekg.Msg
		rcode  int
		answer []string
	}{
		{"allowed peer", web, question("web.overlay.internal.", miekg.TypeA), miekg.RcodeSuccess,
			[]string{"web.overlay.internal.\t60\tIN\tA\t100.64.0.10"}},
		{"denied peer", lonely, question("web.overlay.internal.", miekg.TypeA), miekg.RcodeNameError, nil},
		{"forwarded inside the namespace", lonely, question("example.com.", miekg.TypeA), miekg.RcodeSuccess,
			aRecords("example.com.", 1)},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, tt := range tests {
			t.Run(network+"/"+tt.name, func(t *testing.T) {
				r := askIn(t, fd, network, tt.from, s.Addr(), tt.q.Copy())
				if r.Rcode != tt.rcode {
					t.Errorf("rcode %s, want %s", miekg.RcodeToString[r.Rcode], miekg.RcodeToString[tt.rcode])
				}
				if diff := cmp.Diff(tt.answer, rrs(r.Answer)); diff != "" {
					t.Errorf("answer (-want +got):\n%s", diff)
				}
			})
		}
	}
	if diff := cmp.Diff([]string{"udp", "tcp"}, resolver.transports()); diff != "" {
		t.Errorf("queries seen by the upstream (-want +got):\n%s", diff)
	}
}
