//go:build linux

package wg

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/edgeward/edgeward/core/wgkey"
	ewnetns "github.com/edgeward/edgeward/hw/netns"
)

// kernelModule reports whether the kernel creates wireguard links, by
// trying in ns.
func kernelModule(t testing.TB, ns *testNS) bool {
	t.Helper()
	probe := ifName("wgk")
	if err := exec.Command("ip", "-n", ns.name, "link", "add", probe, "type", "wireguard").Run(); err != nil {
		return false
	}
	ns.ip(t, "link", "del", probe)
	return true
}

// TestKernelMode runs the kernel's device: configured through wgctrl like
// the embedded one, and left in place by Close for the next Open to adopt
// with its peers.
func TestKernelMode(t *testing.T) {
	g := newNS(t, "g")
	priv, pub, _ := wgkey.Generate()
	opts := Options{Name: ifName("wgk"), NetNS: g.fd, PrivateKey: priv, Address: netip.MustParsePrefix("10.99.0.1/16"),
		Mode: ModeKernel, Log: testLog(t)}
	d, err := Open(opts)
	if errors.Is(err, core.ErrUnsupported) {
		if kernelModule(t, g) {
			t.Fatalf("Open says unsupported, but ip creates wireguard links: %v", err)
		}
		t.Skipf("kernel has no wireguard module: %v", err)
	}
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if d.Mode() != ModeKernel || d.ListenPort() == 0 {
		t.Fatalf("Mode %q ListenPort %d", d.Mode(), d.ListenPort())
	}
	_, k, _ := wgkey.Generate()
	x := tunnel.Peer{PublicKey: k.String(), AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.99.0.2/32")}}
	if err := d.Configure(ctxT(t), []tunnel.Peer{x}, nil); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if dump := wgDump(t, g, opts.Name); len(dump) != 1 || dump[0].PublicKey != x.PublicKey {
		t.Errorf("wg show dump: %+v", dump)
	}
	if !strings.Contains(g.cmd(t, "wg", "show", opts.Name, "public-key"), pub.String()) {
		t.Error("wg show: not the gateway's key")
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	g.ip(t, "link", "show", opts.Name) // still there

	opts.Address = netip.MustParsePrefix("10.98.0.1/16") // the overlay moved while the daemon was down
	d2, err := Open(opts)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	t.Cleanup(func() { _ = d2.Close() })
	got, _ := peersOf(t, d2)
	if diff := gocmp.Diff([]tunnel.Peer{x}, got, equateNetip); diff != "" {
		t.Errorf("adopted peers (-want +got):\n%s", diff)
	}
	if out := g.ip(t, "addr", "show", opts.Name); !strings.Contains(out, "10.98.0.1/16") || strings.Contains(out, "10.99.0.1") {
		t.Errorf("addresses after the move:\n%s", out)
	}
}

// TestAutoMode takes the kernel's device when the kernel can create one,
// the embedded device otherwise.
func TestAutoMode(t *testing.T) {
	l := newLab(t, ModeAuto)
	want := ModeUserspace
	if kernelModule(t, l.g) {
		want = ModeKernel
	}
	if l.dev.Mode() != want {
		t.Fatalf("Mode = %q, want %q", l.dev.Mode(), want)
	}
	a := l.addPeer(t, 1)
	if err := l.dev.Configure(ctxT(t), []tunnel.Peer{a.config()}, nil); err != nil {
		t.Fatal(err)
	}
	mustPing(t, a.ns, netip.MustParseAddr("10.99.0.1"))
}

// TestOpenConflicts: a name another embedded device answers for (in any
// namespace), or a listen port taken in the namespace, fail with
// core.ErrConflict and leave nothing behind.
func TestOpenConflicts(t *testing.T) {
	l := newLab(t, ModeUserspace)
	other := newNS(t, "o")
	var udp net.PacketConn
	if err := ewnetns.Do(other.fd, func() (err error) { udp, err = net.ListenPacket("udp", ":0"); return err }); err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	taken := udp.LocalAddr().(*net.UDPAddr).Port

	tests := []struct {
		name string
		opts func(o *Options)
	}{
		{"name of a running device", func(o *Options) { o.NetNS = other.fd }},
		{"listen port taken", func(o *Options) { o.NetNS, o.Name, o.ListenPort = other.fd, ifName("wgt"), taken }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := l.options()
			tt.opts(&o)
			d, err := Open(o)
			if err == nil {
				_ = d.Close()
			}
			if !errors.Is(err, core.ErrConflict) {
				t.Fatalf("Open = %v, want core.ErrConflict", err)
			}
			if out := other.ip(t, "link", "show"); strings.Contains(out, o.Name) {
				t.Errorf("%s left behind:\n%s", o.Name, out)
			}
		})
	}
	if _, err := l.dev.Peers(ctxT(t)); err != nil {
		t.Errorf("the running device after the conflicts: %v", err)
	}
}

// TestOpenWithoutCapabilities runs TestNoCapsHelper in a namespace of its
// own as root stripped of every capability: Open must fail with
// core.ErrPermission in each mode.
func TestOpenWithoutCapabilities(t *testing.T) {
	g := newNS(t, "g")
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("needs setpriv (util-linux)")
	}
	cmd := exec.Command("ip", "netns", "exec", g.name, "setpriv", "--bounding-set=-all", "--inh-caps=-all",
		os.Args[0], "-test.run=^TestNoCapsHelper$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "EW_WG_NOCAPS_HELPER=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNoCapsHelper") {
		t.Fatalf("helper: %v\n%s", err, out)
	}
}

// TestNoCapsHelper is TestOpenWithoutCapabilities' child; it runs only
// there, already inside the test's namespace.
func TestNoCapsHelper(t *testing.T) {
	if os.Getenv("EW_WG_NOCAPS_HELPER") != "1" {
		t.Skip("run by TestOpenWithoutCapabilities")
	}
	priv, _, _ := wgkey.Generate()
	for _, mode := range []string{ModeUserspace, ModeKernel, ModeAuto} {
		d, err := Open(Options{Name: ifName("wgn"), PrivateKey: priv, Address: netip.MustParsePrefix("10.99.0.1/16"), Mode: mode})
		if err == nil {
			_ = d.Close()
		}
		if !errors.Is(err, core.ErrPermission) {
			t.Errorf("Open in mode %s = %v, want core.ErrPermission", mode, err)
		}
	}
}
