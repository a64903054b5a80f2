//go:build linux

package wg

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/edgeward/edgeward/core/wgkey"
	ewnetns "github.com/edgeward/edgeward/hw/netns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// Kernel tests run in namespaces they create and delete: G, the gateway,
// where Open runs, and one namespace per peer, joined to G by a veth pair
// (10.98.N.1 in G, 10.98.N.2 in the peer). Peers run Debian's wireguard-go
// and are configured with wg(8), as a user's machine would be. The
// overlay is 10.99.0.0/16: the gateway is 10.99.0.1, peer N is
// 10.99.0.N+1. Interface names are random, since the UAPI socket
// directory is shared by all namespaces and packages test in parallel.

var overlay = netip.MustParsePrefix("10.99.0.0/16")

// testNS is one namespace of a test.
type testNS struct {
	name string
	fd   int // open descriptor of /run/netns/name
}

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("kernel test: needs root to create network namespaces")
	}
	for _, tool := range []string{"ip", "wg", "wireguard-go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("kernel test: needs %s", tool)
		}
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ifName is a fresh interface name: prefix and 6 random hex digits.
func ifName(prefix string) string { return prefix + randHex(3) }

// newNS creates a namespace with lo up and deletes it when the test ends.
func newNS(t testing.TB, role string) *testNS {
	t.Helper()
	needRoot(t)
	ns := &testNS{name: "ew-wg-" + randHex(4) + "-" + role}
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		t.Skipf("kernel test: ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns.name).Run() })
	f, err := os.Open("/run/netns/" + ns.name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	ns.fd = int(f.Fd())
	ns.ip(t, "link", "set", "lo", "up")
	return ns
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ip runs `ip -n NS args...`.
func (ns *testNS) ip(t testing.TB, args ...string) string {
	t.Helper()
	return run(t, "ip", append([]string{"-n", ns.name}, args...)...)
}

// cmd runs a command inside the namespace.
func (ns *testNS) cmd(t testing.TB, args ...string) string {
	t.Helper()
	return run(t, "ip", append([]string{"netns", "exec", ns.name}, args...)...)
}

// testLog collects the device's log and prints it when the test fails.
func testLog(t testing.TB) *slog.Logger {
	var mu sync.Mutex
	var buf bytes.Buffer
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if t.Failed() {
			t.Logf("device log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

// lab is a gateway namespace with its device and the peers around it.
type lab struct {
	g    *testNS
	dev  *Device
	name string
	priv wgkey.Key
	pub  wgkey.Key
	mode string
	log  *slog.Logger
}

// newLab opens a device of mode in a new namespace G, closed when the test
// ends.
func newLab(t testing.TB, mode string) *lab {
	t.Helper()
	l := &lab{g: newNS(t, "g"), name: ifName("wgt"), mode: mode, log: testLog(t)}
	var err error
	if l.priv, l.pub, err = wgkey.Generate(); err != nil {
		t.Fatal(err)
	}
	if l.dev, err = Open(l.options()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = l.dev.Close() })
	return l
}

func (l *lab) options() Options {
	return Options{Name: l.name, NetNS: l.g.fd, PrivateKey: l.priv, Address: netip.MustParsePrefix("10.99.0.1/16"),
		Mode: l.mode, Log: l.log}
}

// peer is a wireguard-go device in its own namespace.
type peer struct {
	ns   *testNS
	name string
	pub  wgkey.Key
	addr netip.Addr     // overlay address
	end  netip.AddrPort // its veth address and listen port: the endpoint G sees
}

// addPeer starts peer n (1 to 250) with the gateway as its only peer, for
// the whole overlay.
func (l *lab) addPeer(t testing.TB, n int) *peer {
	t.Helper()
	return l.addPeerWith(t, n, true)
}

// addPeerWith is addPeer; unless knowsGateway, the peer is not told the
// gateway's endpoint and waits for the gateway to handshake first.
func (l *lab) addPeerWith(t testing.TB, n int, knowsGateway bool) *peer {
	t.Helper()
	p := &peer{ns: newNS(t, "p"+strconv.Itoa(n)), name: ifName("wgp"),
		addr: netip.AddrFrom4([4]byte{10, 99, 0, byte(n + 1)})}
	gw, me := fmt.Sprintf("10.98.%d.1", n), fmt.Sprintf("10.98.%d.2", n)
	veth := "ewv" + strconv.Itoa(n)
	l.g.ip(t, "link", "add", veth, "type", "veth", "peer", "name", "ewg", "netns", p.ns.name)
	l.g.ip(t, "addr", "add", gw+"/24", "dev", veth)
	l.g.ip(t, "link", "set", veth, "up")
	p.ns.ip(t, "addr", "add", me+"/24", "dev", "ewg")
	p.ns.ip(t, "link", "set", "ewg", "up")

	cmd := exec.Command("ip", "netns", "exec", p.ns.name, "wireguard-go", p.name)
	cmd.Env = append(os.Environ(), "WG_PROCESS_FOREGROUND=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start wireguard-go: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.Remove(filepath.Join(uapiDir, p.name+".sock"))
	})
	sock := filepath.Join(uapiDir, p.name+".sock")
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("wireguard-go did not open %s: %s", sock, out.String())
		}
	}

	priv, pub, err := wgkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	p.pub = pub
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(priv.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := 20000 + n
	p.end = netip.AddrPortFrom(netip.MustParseAddr(me), uint16(port))
	args := []string{"wg", "set", p.name, "private-key", keyFile, "listen-port", strconv.Itoa(port),
		"peer", l.pub.String(), "allowed-ips", overlay.String()}
	if knowsGateway {
		args = append(args, "endpoint", fmt.Sprintf("%s:%d", gw, l.dev.ListenPort()))
	}
	p.ns.cmd(t, args...)
	p.ns.ip(t, "addr", "add", p.addr.String()+"/16", "dev", p.name)
	p.ns.ip(t, "link", "set", p.name, "up")
	return p
}

// config is the peer as the gateway should hold it.
func (p *peer) config(allowed ...string) tunnel.Peer {
	c := tunnel.Peer{PublicKey: p.pub.String()}
	if len(allowed) == 0 {
		allowed = []string{p.addr.String() + "/32"}
	}
	for _, a := range allowed {
		c.AllowedIPs = append(c.AllowedIPs, netip.MustParsePrefix(a))
	}
	return c
}

// ping sends ICMP echo requests from ns to dst until one is answered, at
// most tries times, one second apart.
func ping(ns *testNS, dst netip.Addr, tries int) error {
	var c *icmp.PacketConn
	err := ewnetns.Do(ns.fd, func() (err error) {
		c, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	})
	if err != nil {
		return fmt.Errorf("open icmp socket: %w", err)
	}
	defer c.Close()
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := int(binary.BigEndian.Uint16(idb[:]))
	buf := make([]byte, 1500)
	for seq := 1; seq <= tries; seq++ {
		msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("edgeward")}}
		b, err := msg.Marshal(nil)
		if err != nil {
			return err
		}
		if _, err := c.WriteTo(b, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
			return fmt.Errorf("send echo: %w", err)
		}
		deadline := time.Now().Add(time.Second)
		_ = c.SetReadDeadline(deadline)
		for time.Now().Before(deadline) {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				break // timeout: next try
			}
			m, err := icmp.ParseMessage(1, buf[:n])
			if err != nil || m.Type != ipv4.ICMPTypeEchoReply {
				continue
			}
			if e, ok := m.Body.(*icmp.Echo); ok && e.ID == id && e.Seq == seq && from.String() == dst.String() {
				return nil
			}
		}
	}
	return fmt.Errorf("no echo reply from %s in %d tries", dst, tries)
}

func mustPing(t testing.TB, ns *testNS, dst netip.Addr) {
	t.Helper()
	if err := ping(ns, dst, 10); err != nil {
		t.Fatalf("ping %s from %s: %v", dst, ns.name, err)
	}
}

// dumpPeer is a peer line of `wg show NAME dump`.
type dumpPeer struct {
	PublicKey, PresharedKey string
	Endpoint                string
	AllowedIPs              []string
	Handshake               int64
	Rx, Tx                  int64
}

// wgDump runs `wg show name dump` in ns and returns its peer lines.
func wgDump(t testing.TB, ns *testNS, name string) []dumpPeer {
	t.Helper()
	out := ns.cmd(t, "wg", "show", name, "dump")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var ps []dumpPeer
	for _, line := range lines[1:] { // the first describes the interface
		f := strings.Split(line, "\t")
		if len(f) != 8 {
			t.Fatalf("wg show dump: peer line %q", line)
		}
		p := dumpPeer{PublicKey: f[0], PresharedKey: f[1], Endpoint: f[2]}
		if f[3] != "(none)" {
			p.AllowedIPs = strings.Split(f[3], ",")
		}
		p.Handshake, _ = strconv.ParseInt(f[4], 10, 64)
		p.Rx, _ = strconv.ParseInt(f[5], 10, 64)
		p.Tx, _ = strconv.ParseInt(f[6], 10, 64)
		ps = append(ps, p)
	}
	return ps
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
