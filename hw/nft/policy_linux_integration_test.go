//go:build linux

package nft

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Overlay tests. The kernel here has no WireGuard module, so a bridge in
// the router namespace R stands in for the overlay interface: peers A, B
// and C hang off it by veth pairs, each with a /32 overlay address and
// every route through the gateway 100.64.0.1, so that peer-to-peer traffic
// is routed by R with ovl0 as both input and output interface, as it is
// on a WireGuard interface. A LAN namespace L behind R holds resources; it
// has no route back into the overlay, so only masquerading lets it answer.

const (
	ovlIface = "ovl0"
	svcPort  = 8053 // a gateway service
	shutPort = 8054 // a gateway port no Service opens
)

var (
	ovlGateway = netip.MustParseAddr("100.64.0.1")
	ovlNetwork = netip.MustParsePrefix("100.64.0.0/10")
	ovlA       = netip.MustParseAddr("100.64.0.2")
	ovlB       = netip.MustParseAddr("100.64.0.3")
	ovlC       = netip.MustParseAddr("100.64.0.4")
	lanR       = netip.MustParseAddr("192.168.77.1")
	lanL       = netip.MustParseAddr("192.168.77.2")
	lanNet     = netip.MustParsePrefix("192.168.77.0/24")
)

// Group IDs are xids, 20 characters: longer than a set name may be.
const (
	groupA = "d0gaaaaaaaaaaaaaaaaa"
	groupB = "d0gbbbbbbbbbbbbbbbbb"
)

// ovlTopo is R, A, B, C and L; ns maps those letters to namespace names.
type ovlTopo struct {
	ns  map[string]string
	rFD int
}

func newOverlayTopo(t *testing.T) *ovlTopo {
	t.Helper()
	needRoot(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	tp := &ovlTopo{ns: map[string]string{}}
	for _, k := range []string{"R", "A", "B", "C", "L"} {
		name := "ew-ovl-" + id + "-" + strings.ToLower(k)
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			t.Skipf("kernel test: ip netns add: %v: %s", err, out)
		}
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
		tp.ns[k] = name
		run(t, "ip", "-n", name, "link", "set", "lo", "up")
	}
	r := tp.ns["R"]
	run(t, "ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1",
		"net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0")
	// With br_netfilter loaded, bridged frames would meet the IP hooks with
	// a bridge port as their interface; the sysctl is absent without it.
	_ = exec.Command("ip", "netns", "exec", r, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0",
		"net.bridge.bridge-nf-call-ip6tables=0").Run()
	for _, c := range [][]string{
		{"link", "add", ovlIface, "type", "bridge"},
		{"addr", "add", ovlGateway.String() + "/10", "dev", ovlIface},
		{"link", "set", ovlIface, "up"},
	} {
		run(t, "ip", append([]string{"-n", r}, c...)...)
	}
	for k, a := range map[string]netip.Addr{"A": ovlA, "B": ovlB, "C": ovlC} {
		p, port := tp.ns[k], "v"+strings.ToLower(k)
		run(t, "ip", "-n", r, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", p)
		run(t, "ip", "-n", r, "link", "set", port, "master", ovlIface, "up")
		for _, c := range [][]string{
			{"addr", "add", a.String() + "/32", "dev", "eth0"},
			{"link", "set", "eth0", "up"},
			{"route", "add", ovlGateway.String(), "dev", "eth0"},
			{"route", "add", "default", "via", ovlGateway.String(), "dev", "eth0"},
		} {
			run(t, "ip", append([]string{"-n", p}, c...)...)
		}
	}
	l := tp.ns["L"]
	run(t, "ip", "-n", r, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", l)
	run(t, "ip", "-n", r, "addr", "add", lanR.String()+"/24", "dev", "lan0")
	run(t, "ip", "-n", r, "link", "set", "lan0", "up")
	run(t, "ip", "-n", l, "addr", "add", lanL.String()+"/24", "dev", "eth0")
	run(t, "ip", "-n", l, "link", "set", "eth0", "up")
	if out, err := exec.Command("ip", "netns", "exec", r, "nft", "list", "tables").CombinedOutput(); err != nil {
		t.Skipf("kernel test: nf_tables unavailable (nft list tables: %v: %s)", err, out)
	}
	fd, err := os.Open("/run/netns/" + r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fd.Close() })
	tp.rFD = int(fd.Fd())
	return tp
}

func (tp *ovlTopo) firewall(t *testing.T) *Firewall {
	t.Helper()
	f, err := New(Options{NetNS: tp.rFD, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// seen is the remote addresses a listener accepted connections from.
type seen struct {
	mu   sync.Mutex
	from []netip.Addr
}

func (s *seen) list() []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.Addr(nil), s.from...)
}

// listen accepts TCP connections on every address of namespace k, port
// port, and closes them at once.
func (tp *ovlTopo) listen(t *testing.T, k string, port uint16) *seen {
	t.Helper()
	var l net.Listener
	err := inNS(tp.ns[k], func() (err error) { l, err = net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", port)); return err })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	s := &seen{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.from = append(s.from, c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap())
			s.mu.Unlock()
			_ = c.Close()
		}
	}()
	return s
}

// dial reports whether namespace k connects to to:port within 300 ms.
func (tp *ovlTopo) dial(k string, to netip.Addr, port uint16) bool {
	var c net.Conn
	err := inNS(tp.ns[k], func() (err error) {
		c, err = net.DialTimeout("tcp4", netip.AddrPortFrom(to, port).String(), blockedAfter)
		return err
	})
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// ping reports whether namespace k gets an ICMP echo reply from to within
// 300 ms. There is no ping(8) here, so it speaks ICMP over a raw socket.
func (tp *ovlTopo) ping(k string, to netip.Addr) (bool, error) {
	var got bool
	err := inNS(tp.ns[k], func() error {
		c, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
		if err != nil {
			return err
		}
		defer c.Close()
		var id [2]byte
		_, _ = rand.Read(id[:])
		msg := []byte{icmpEchoRequest, 0, 0, 0, id[0], id[1], 0, 1, 'e', 'w'}
		sum := icmpChecksum(msg)
		msg[2], msg[3] = byte(sum>>8), byte(sum)
		if _, err := c.WriteTo(msg, &net.IPAddr{IP: to.AsSlice()}); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(blockedAfter))
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return nil // timed out: no reply
			}
			src, _ := netip.AddrFromSlice(from.(*net.IPAddr).IP)
			if n >= 8 && buf[0] == 0 && buf[4] == id[0] && buf[5] == id[1] && src.Unmap() == to {
				got = true
				return nil
			}
		}
	})
	return got, err
}

func icmpChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// probe is one connection attempt from a namespace and whether it must
// get through; port 0 is an ICMP echo.
type probe struct {
	from string
	to   netip.Addr
	port uint16
	want bool
}

// expect runs the probes at once (a blocked one waits 300 ms) and reports
// each that went otherwise.
func (tp *ovlTopo) expect(t *testing.T, step string, ps []probe) {
	t.Helper()
	got := make([]bool, len(ps))
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() {
			if p.port == 0 {
				got[i], errs[i] = tp.ping(p.from, p.to)
			} else {
				got[i] = tp.dial(p.from, p.to, p.port)
			}
		})
	}
	wg.Wait()
	for i, p := range ps {
		what := fmt.Sprintf("%s: %s to %s port %d", step, p.from, p.to, p.port)
		if p.port == 0 {
			what = fmt.Sprintf("%s: %s pings %s", step, p.from, p.to)
		}
		switch {
		case errs[i] != nil:
			t.Errorf("%s: %v", what, errs[i])
		case got[i] != p.want:
			t.Errorf("%s: got through = %v, want %v", what, got[i], p.want)
		}
	}
}

// mustReach waits up to 3 s for the links to come up.
func (tp *ovlTopo) mustReach(t *testing.T, k string, to netip.Addr, port uint16) {
	t.Helper()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); {
		if tp.dial(k, to, port) {
			return
		}
	}
	t.Fatalf("%s cannot reach %s port %d", k, to, port)
}

// listenAll opens ports 22 and 80 on A, B and C, 22 on L, and the two
// gateway ports on R. It returns what L's listener sees.
func (tp *ovlTopo) listenAll(t *testing.T) *seen {
	t.Helper()
	for _, k := range []string{"A", "B", "C"} {
		tp.listen(t, k, 22)
		tp.listen(t, k, 80)
	}
	tp.listen(t, "R", svcPort)
	tp.listen(t, "R", shutPort)
	return tp.listen(t, "L", 22)
}

// basePolicy: A's group may open tcp/22 to B's group, whose resource is
// the LAN.
func basePolicy() tunnel.Policy {
	return tunnel.Policy{Interface: ovlIface, Gateway: ovlGateway, Network: ovlNetwork,
		Groups: []tunnel.Group{
			{ID: groupA, Members: []netip.Addr{ovlA}},
			{ID: groupB, Members: []netip.Addr{ovlB}, Resources: []netip.Prefix{lanNet}},
		},
		Rules: []tunnel.Rule{{FromGroup: groupA, ToGroup: groupB, Protocol: tunnel.ProtoTCP,
			Ports: []tunnel.PortRange{{First: 22, Last: 22}}}},
	}
}

func TestOverlayPolicyEnforced(t *testing.T) {
	t.Parallel()
	tp := newOverlayTopo(t)
	lan := tp.listenAll(t)
	tp.mustReach(t, "A", ovlB, 22)
	tp.mustReach(t, "C", ovlA, 80)
	f := tp.firewall(t)
	ctx := ctxT(t)
	// The data plane may come up before the ACL installs the table.
	if err := f.InstallPolicy(ctx, basePolicy()); err != nil {
		t.Fatalf("InstallPolicy: %v", err)
	}
	tp.expect(t, "one rule", []probe{
		{"A", ovlB, 22, true}, {"A", ovlB, 80, false}, {"B", ovlA, 22, false}, {"B", ovlA, 80, false},
		{"C", ovlA, 22, false}, {"C", ovlB, 22, false}, {"A", ovlC, 22, false}, {"B", ovlC, 80, false},
		{"A", ovlB, 0, false}, {"B", ovlA, 0, false},
		{"A", lanL, 22, true}, {"C", lanL, 22, false}, {"B", lanL, 22, false},
		{"A", ovlGateway, svcPort, false}, {"A", ovlGateway, 0, false},
	})
	if got := lan.list(); len(got) != 1 || got[0] != lanR {
		t.Errorf("L saw connections from %v, want one from the gateway's LAN address %s", got, lanR)
	}

	cInA := tunnel.Members{Add: []tunnel.Member{{Group: groupA, Addr: ovlC}}}
	if err := f.ApplyMembers(ctx, cInA); err != nil {
		t.Fatalf("ApplyMembers add: %v", err)
	}
	tp.expect(t, "C added to A's group", []probe{{"C", ovlB, 22, true}, {"C", ovlB, 80, false}, {"C", lanL, 22, true}})
	if err := f.ApplyMembers(ctx, tunnel.Members{Remove: cInA.Add}); err != nil {
		t.Fatalf("ApplyMembers remove: %v", err)
	}
	tp.expect(t, "C removed", []probe{{"C", ovlB, 22, false}, {"A", ovlB, 22, true}})
	// Removing an absent member and adding a present one change nothing
	// and are not errors.
	noop := tunnel.Members{Remove: cInA.Add, Add: []tunnel.Member{{Group: groupA, Addr: ovlA}, {Group: groupA, Addr: ovlA}}}
	if err := f.ApplyMembers(ctx, noop); err != nil {
		t.Fatalf("ApplyMembers of absent and present members: %v", err)
	}
	err := f.ApplyMembers(ctx, tunnel.Members{Add: []tunnel.Member{{Group: "d0gzzzzzzzzzzzzzzzzz", Addr: ovlC}}})
	if !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("ApplyMembers to an unknown group = %v, want ErrInvalid", err)
	}

	p := basePolicy()
	p.Rules = append(p.Rules,
		tunnel.Rule{FromGroup: groupA, ToGroup: groupB, Protocol: tunnel.ProtoICMP},
		// Temporary access: exactly C to B's port 80.
		tunnel.Rule{FromAddr: ovlC, ToAddr: ovlB, Protocol: tunnel.ProtoTCP, Ports: []tunnel.PortRange{{First: 80, Last: 80}}},
		// Port ranges: 22 lies between them, 80 in the second.
		tunnel.Rule{FromGroup: groupB, ToAddr: ovlC, Protocol: tunnel.ProtoTCP,
			Ports: []tunnel.PortRange{{First: 81, Last: 81}, {First: 21, Last: 21}, {First: 79, Last: 80}}})
	p.Services = []tunnel.Service{{Protocol: tunnel.ProtoTCP, Ports: tunnel.PortRange{First: svcPort, Last: svcPort}},
		{Protocol: tunnel.ProtoICMP}}
	if err := f.InstallPolicy(ctx, p); err != nil {
		t.Fatalf("InstallPolicy again: %v", err)
	}
	tp.expect(t, "icmp rule, temporary access, services", []probe{
		{"A", ovlB, 0, true}, {"B", ovlA, 0, false}, {"C", ovlB, 0, false},
		{"C", ovlB, 80, true}, {"C", ovlB, 22, false}, {"A", ovlB, 80, false}, {"C", ovlA, 80, false},
		{"B", ovlC, 80, true}, {"B", ovlC, 22, false}, {"A", ovlC, 80, false},
		{"A", ovlB, 22, true},
		{"A", ovlGateway, svcPort, true}, {"C", ovlGateway, svcPort, true}, {"A", ovlGateway, shutPort, false},
		{"A", ovlGateway, 0, true}, {"C", ovlGateway, 0, true},
	})
	if out := tp.nft(t, "list", "table", "inet", TableName); strings.Contains(out, "chain pre") {
		t.Errorf("InstallPolicy wrote the ACL's chain:\n%s", out)
	}
}

// nft runs the nft command line inside R.
func (tp *ovlTopo) nft(t *testing.T, args ...string) string {
	t.Helper()
	return run(t, "ip", append([]string{"netns", "exec", tp.ns["R"], "nft"}, args...)...)
}

func TestOverlayPolicySurvivesInstall(t *testing.T) {
	t.Parallel()
	tp := newOverlayTopo(t)
	tp.listenAll(t)
	tp.mustReach(t, "A", ovlB, 22)
	f := tp.firewall(t)
	ctx := ctxT(t)
	if err := f.InstallPolicy(ctx, basePolicy()); err != nil {
		t.Fatalf("InstallPolicy: %v", err)
	}
	if err := f.ApplyMembers(ctx, tunnel.Members{Add: []tunnel.Member{{Group: groupA, Addr: ovlC}}}); err != nil {
		t.Fatalf("ApplyMembers: %v", err)
	}
	enforced := []probe{{"C", ovlB, 22, true}, {"A", ovlB, 22, true}, {"A", ovlB, 80, false}, {"B", ovlA, 22, false}}
	if err := f.Install(ctx, acl.Ruleset{Elements: []acl.Element{ban(netip.MustParseAddr("192.0.2.1"), 0)}}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.expect(t, "after the ACL's Install", enforced)
	if h, err := f.Check(ctx); err != nil || h.Drifted {
		t.Fatalf("Check = %+v, %v; want no drift", h, err)
	}
	// The policy replaced while the ACL is installed leaves the ACL alone.
	if err := f.InstallPolicy(ctx, basePolicy()); err != nil {
		t.Fatalf("InstallPolicy over the ACL: %v", err)
	}
	if out := tp.nft(t, "list", "set", "inet", TableName, "ban4"); !strings.Contains(out, "192.0.2.1") {
		t.Fatalf("InstallPolicy lost an ACL element:\n%s", out)
	}
	if h, err := f.Check(ctx); err != nil || h.Drifted {
		t.Fatalf("Check after InstallPolicy = %+v, %v; want no drift", h, err)
	}
	if err := f.ApplyMembers(ctx, tunnel.Members{Add: []tunnel.Member{{Group: groupA, Addr: ovlC}}}); err != nil {
		t.Fatalf("ApplyMembers: %v", err)
	}

	for _, chain := range policyChains {
		what, why := "chain "+chain, "chain "+chain+" is missing"
		tp.nft(t, "delete", "chain", "inet", TableName, chain)
		h, err := f.Check(ctx)
		if err != nil || !h.Drifted || h.Why != why {
			t.Fatalf("Check after deleting %s = %+v, %v; want drift %q", what, h, err, why)
		}
		if err := f.Install(ctx, acl.Ruleset{}); err != nil {
			t.Fatalf("Install repairing %s: %v", what, err)
		}
		tp.expect(t, "repaired "+what, enforced)
		if h, err := f.Check(ctx); err != nil || h.Drifted {
			t.Fatalf("Check after repairing %s = %+v, %v; want no drift", what, h, err)
		}
	}

	// The whole table deleted: ApplyMembers cannot work, Install brings
	// back the policy with its members.
	tp.nft(t, "delete", "table", "inet", TableName)
	err := f.ApplyMembers(ctx, tunnel.Members{Add: []tunnel.Member{{Group: groupB, Addr: ovlA}}})
	if !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("ApplyMembers without the table = %v, want ErrNotFound", err)
	}
	if h, err := f.Check(ctx); err != nil || !h.Drifted {
		t.Fatalf("Check without the table = %+v, %v; want drift", h, err)
	}
	if err := f.Install(ctx, acl.Ruleset{}); err != nil {
		t.Fatalf("Install repairing the table: %v", err)
	}
	tp.expect(t, "repaired table", enforced)

	if err := f.InstallPolicy(ctx, tunnel.Policy{}); err != nil {
		t.Fatalf("InstallPolicy of no policy: %v", err)
	}
	out := tp.nft(t, "list", "table", "inet", TableName)
	for _, gone := range []string{"chain " + chainFwd, "chain " + chainOvIn, "chain " + chainOvNAT, "set g0", "set r1"} {
		if strings.Contains(out, gone) {
			t.Errorf("%s left after the policy was removed:\n%s", gone, out)
		}
	}
	if !strings.Contains(out, "chain pre") {
		t.Errorf("removing the policy removed chain pre:\n%s", out)
	}
	tp.expect(t, "no policy", []probe{{"A", ovlB, 80, true}, {"B", ovlA, 22, true}})
	if h, err := f.Check(ctx); err != nil || h.Drifted {
		t.Fatalf("Check without policy = %+v, %v; want no drift", h, err)
	}
	err = f.ApplyMembers(ctx, tunnel.Members{Add: []tunnel.Member{{Group: groupA, Addr: ovlC}}})
	if !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("ApplyMembers without a policy = %v, want ErrInvalid", err)
	}
}

// TestOverlayPolicyLeftByAnotherRun installs a policy with a second
// Firewall, as the previous run of the daemon would have, and checks that
// a smaller policy replaces all of it.
func TestOverlayPolicyLeftByAnotherRun(t *testing.T) {
	t.Parallel()
	tp := newOverlayTopo(t)
	tp.listenAll(t)
	tp.mustReach(t, "A", ovlB, 22)
	ctx := ctxT(t)
	old := basePolicy()
	old.Groups = append(old.Groups, tunnel.Group{ID: "d0gccccccccccccccccc", Members: []netip.Addr{ovlC}})
	old.Rules = append(old.Rules, tunnel.Rule{FromGroup: "d0gccccccccccccccccc", ToGroup: groupB, Protocol: tunnel.ProtoAll})
	if err := tp.firewall(t).InstallPolicy(ctx, old); err != nil {
		t.Fatalf("InstallPolicy of the previous run: %v", err)
	}
	tp.expect(t, "previous run", []probe{{"C", ovlB, 80, true}})
	p := basePolicy()
	p.Groups[1].Resources = nil
	f := tp.firewall(t)
	if err := f.InstallPolicy(ctx, p); err != nil {
		t.Fatalf("InstallPolicy: %v", err)
	}
	out := tp.nft(t, "list", "table", "inet", TableName)
	for _, gone := range []string{"set g2", "set r1"} {
		if strings.Contains(out, gone) {
			t.Errorf("%s left from the previous run:\n%s", gone, out)
		}
	}
	tp.expect(t, "replaced", []probe{{"C", ovlB, 80, false}, {"A", ovlB, 22, true}, {"A", lanL, 22, false}})
}

// The tests below need no kernel: they check validation and the batches
// sent to the fake kernel of fake_linux_test.go.

func TestNewOverlayValidates(t *testing.T) {
	ok := basePolicy
	tests := []struct {
		name    string
		edit    func(*tunnel.Policy)
		wantErr error
	}{
		{"valid", func(*tunnel.Policy) {}, nil},
		{"long interface name", func(p *tunnel.Policy) { p.Interface = "sixteen-chars-xx" }, core.ErrInvalid},
		{"IPv6 gateway", func(p *tunnel.Policy) { p.Gateway = netip.MustParseAddr("fd00::1") }, core.ErrInvalid},
		{"no network", func(p *tunnel.Policy) { p.Network = netip.Prefix{} }, core.ErrInvalid},
		{"service protocol", func(p *tunnel.Policy) { p.Services = []tunnel.Service{{Protocol: "gre"}} }, core.ErrInvalid},
		{"service ports with all", func(p *tunnel.Policy) {
			p.Services = []tunnel.Service{{Protocol: tunnel.ProtoAll, Ports: tunnel.PortRange{First: 1, Last: 2}}}
		}, core.ErrInvalid},
		{"service ports ignored for icmp", func(p *tunnel.Policy) {
			p.Services = []tunnel.Service{{Protocol: tunnel.ProtoICMP, Ports: tunnel.PortRange{First: 9, Last: 1}}}
		}, nil},
		{"group without id", func(p *tunnel.Policy) { p.Groups[0].ID = "" }, core.ErrInvalid},
		{"group twice", func(p *tunnel.Policy) { p.Groups[1].ID = groupA }, core.ErrInvalid},
		{"IPv6 member", func(p *tunnel.Policy) { p.Groups[0].Members = []netip.Addr{netip.MustParseAddr("fd00::2")} }, core.ErrInvalid},
		{"unknown group", func(p *tunnel.Policy) { p.Rules[0].ToGroup = "d0gzzzzzzzzzzzzzzzzz" }, core.ErrInvalid},
		{"group and address", func(p *tunnel.Policy) { p.Rules[0].FromAddr = ovlC }, core.ErrInvalid},
		{"no source", func(p *tunnel.Policy) { p.Rules[0].FromGroup = "" }, core.ErrInvalid},
		{"IPv6 destination", func(p *tunnel.Policy) {
			p.Rules[0].ToGroup, p.Rules[0].ToAddr = "", netip.MustParseAddr("fd00::3")
		}, core.ErrInvalid},
		{"rule protocol", func(p *tunnel.Policy) { p.Rules[0].Protocol = "sctp" }, core.ErrInvalid},
		{"ports with icmp", func(p *tunnel.Policy) { p.Rules[0].Protocol = tunnel.ProtoICMP }, core.ErrInvalid},
		{"reversed range", func(p *tunnel.Policy) { p.Rules[0].Ports = []tunnel.PortRange{{First: 90, Last: 80}} }, core.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok()
			tt.edit(&p)
			o, err := newOverlay(p)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("newOverlay = %v, want %v", err, tt.wantErr)
			}
			if err == nil && o == nil {
				t.Fatal("newOverlay returned no policy")
			}
		})
	}
	if o, err := newOverlay(tunnel.Policy{}); o != nil || err != nil {
		t.Errorf("newOverlay of no interface = %v, %v; want nil, nil", o, err)
	}
}

func TestNewOverlayNormalises(t *testing.T) {
	p := basePolicy()
	p.Groups[0].Members = []netip.Addr{netip.MustParseAddr("::ffff:100.64.0.2"), ovlA}
	p.Groups[1].Resources = []netip.Prefix{netip.MustParsePrefix("fd00::/64"), netip.MustParsePrefix("192.168.77.128/25"), lanNet}
	p.Rules[0].Ports = []tunnel.PortRange{{First: 80, Last: 90}, {First: 85, Last: 100}, {First: 101, Last: 101}, {First: 22, Last: 22}}
	o, err := newOverlay(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.byID[groupA].members; len(got) != 1 {
		t.Errorf("members of A = %v, want %s once", got, ovlA)
	}
	wantRes := []addrRange{{From: lanNet.Addr(), To: netip.MustParseAddr("192.168.77.255")}}
	if diff := cmp.Diff(wantRes, o.byID[groupB].resources, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("resources of B (-want +got):\n%s", diff)
	}
	wantPorts := []tunnel.PortRange{{First: 22, Last: 22}, {First: 80, Last: 101}}
	if diff := cmp.Diff(wantPorts, mergePorts(p.Rules[0].Ports)); diff != "" {
		t.Errorf("merged ports (-want +got):\n%s", diff)
	}
	top := []tunnel.PortRange{{First: 65535, Last: 65535}, {First: 0, Last: 65534}}
	if diff := cmp.Diff([]tunnel.PortRange{{First: 0, Last: 65535}}, mergePorts(top)); diff != "" {
		t.Errorf("merged ports up to 65535 (-want +got):\n%s", diff)
	}
}

// TestInstallCarriesPolicy checks that the ACL's Install queues the
// remembered policy, with the members ApplyMembers changed, in its one
// transaction, under set IDs of its own.
func TestInstallCarriesPolicy(t *testing.T) {
	f, k := newFake(t)
	ctx := context.Background()
	if err := f.ApplyMembers(ctx, tunnel.Members{Add: []tunnel.Member{{Group: groupA, Addr: ovlA}}}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("ApplyMembers without a policy = %v, want ErrInvalid", err)
	}
	if len(k.batches) != 0 {
		t.Fatalf("%d batches sent for a refused change", len(k.batches))
	}
	if err := f.Install(ctx, acl.Ruleset{}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	p := basePolicy()
	p.Groups[0].Members = []netip.Addr{ovlA, ovlC}
	p.Rules[0].Ports = append(p.Rules[0].Ports, tunnel.PortRange{First: 80, Last: 90})
	o, err := newOverlay(p)
	if err != nil {
		t.Fatal(err)
	}
	f.pol = o // as InstallPolicy leaves it; the fake kernel answers no dumps
	d := tunnel.Members{Remove: []tunnel.Member{{Group: groupA, Addr: ovlC}},
		Add: []tunnel.Member{{Group: groupB, Addr: ovlC}, {Group: groupB, Addr: ovlC}}}
	if err := f.ApplyMembers(ctx, d); err != nil {
		t.Fatalf("ApplyMembers: %v", err)
	}
	want := []string{"newsetelem g0 1", "delsetelem g0 1", "newsetelem g1 1"}
	if diff := cmp.Diff(want, summary(t, k.batches[1])); diff != "" {
		t.Errorf("ApplyMembers batch (-want +got):\n%s", diff)
	}
	if err := f.Install(ctx, acl.Ruleset{}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	want = summary(t, k.batches[0])
	want = append(want, "newset", "newsetelem g0 1", "newset", "newsetelem g1 2", "newset", "newsetelem r1 2",
		"newchain", "newchain", "newchain",
		// {22, 80-90}, once for the members' rule and once for the resources'.
		"newset", "newsetelem __set%d 4", "newset", "newsetelem __set%d 4")
	for range 6 + 2 + 1 { // ovfwd, ovin, ovnat
		want = append(want, "newrule")
	}
	if diff := cmp.Diff(want, summary(t, k.batches[2])); diff != "" {
		t.Errorf("Install batch (-want +got):\n%s", diff)
	}
	ids := map[uint32]bool{}
	for _, id := range setIDs(t, k.batches[2]) {
		if ids[id] {
			t.Errorf("set ID %d used twice in one transaction", id)
		}
		ids[id] = true
	}
}

// setIDs returns the NFTA_SET_ID of every new set in batch.
func setIDs(t *testing.T, batch []netlink.Message) []uint32 {
	t.Helper()
	var out []uint32
	for _, m := range batch {
		if m.Header.Type != nftType(unix.NFT_MSG_NEWSET) {
			continue
		}
		attrs, err := netlink.UnmarshalAttributes(m.Data[4:])
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range attrs {
			if a.Type == unix.NFTA_SET_ID {
				out = append(out, binary.BigEndian.Uint32(a.Data))
			}
		}
	}
	return out
}
