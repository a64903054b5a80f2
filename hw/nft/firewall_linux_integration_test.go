//go:build linux

package nft

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/acl"
)

func TestBanBlocksAndRemoveUnblocks(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	port := tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	if err := f.Install(ctx, acl.Ruleset{}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4, tp.r4, port)
	if err := f.Apply(ctx, acl.Delta{Add: []acl.Element{ban(tp.c4, 0)}}); err != nil {
		t.Fatalf("Apply add: %v", err)
	}
	if tp.reach(tp.c4, tp.r4, port) {
		t.Fatal("banned address still connects")
	}
	if !tp.reach(tp.c4b, tp.r4, port) {
		t.Fatal("another address of C is blocked too")
	}
	if err := f.Apply(ctx, acl.Delta{Remove: []acl.Element{ban(tp.c4, 0)}}); err != nil {
		t.Fatalf("Apply remove: %v", err)
	}
	if !tp.reach(tp.c4, tp.r4, port) {
		t.Fatal("unbanned address cannot connect")
	}
}

func TestTrustBeatsBan(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	port := tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	rs := acl.Ruleset{
		Trust:    []netip.Prefix{netip.PrefixFrom(tp.c4, 32)},
		BanNets:  []netip.Prefix{netip.PrefixFrom(tp.c4, 24).Masked()},
		Elements: []acl.Element{ban(tp.c4, 0), ban(tp.c4b, 0)},
	}
	if err := f.Install(ctx, rs); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4, tp.r4, port)
	if tp.reach(tp.c4b, tp.r4, port) {
		t.Fatal("banned, untrusted address connects")
	}
}

func TestGreyTimesOut(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	port := tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	if err := f.Install(ctx, acl.Ruleset{GreyTimeout: time.Hour}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4, tp.r4, port)
	grey := acl.Element{Kind: acl.KindGrey, Addr: tp.c4, Timeout: 2 * time.Second}
	if err := f.Apply(ctx, acl.Delta{Add: []acl.Element{grey}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if tp.reach(tp.c4, tp.r4, port) {
		t.Fatal("greylisted address connects")
	}
	got, err := f.KernelGreylist(ctx)
	if err != nil {
		t.Fatalf("KernelGreylist: %v", err)
	}
	if len(got) != 1 || got[0].Addr != tp.c4 || got[0].Expires <= 0 || got[0].Expires > 2*time.Second {
		t.Fatalf("KernelGreylist = %+v, want %s with up to 2s left", got, tp.c4)
	}
	time.Sleep(3 * time.Second)
	if !tp.reach(tp.c4, tp.r4, port) {
		t.Fatal("address still blocked after its greylist timeout")
	}
}

func TestFloodGreylistsInKernel(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	port := tp.listen(t)
	other := tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	rs := acl.Ruleset{GuardPorts: []uint16{port}, Rate: 5, Burst: 5, GreyTimeout: time.Minute, GreySize: 1024}
	if err := f.Install(ctx, rs); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4b, tp.r4, other) // not a guarded port: not metered
	var ok, failed int
	for i := 0; i < 40 && failed < 3; i++ {
		c, err := tp.dial(tp.c4, tp.r4, port, 50*time.Millisecond)
		if err != nil {
			failed++
			continue
		}
		ok++
		_ = c.Close()
	}
	if ok < 5 || failed == 0 {
		t.Fatalf("%d connections passed and %d failed, want the burst (5) to pass and then failures", ok, failed)
	}
	got, err := f.KernelGreylist(ctx)
	if err != nil {
		t.Fatalf("KernelGreylist: %v", err)
	}
	if len(got) != 1 || got[0].Addr != tp.c4 || got[0].Expires <= 0 || got[0].Expires > time.Minute {
		t.Fatalf("KernelGreylist = %+v, want only %s with up to a minute left", got, tp.c4)
	}
	if tp.reach(tp.c4, tp.r4, port) {
		t.Fatal("greylisted flooder still connects to the guarded port")
	}
	if !tp.reach(tp.c4, tp.r4, other) {
		t.Fatal("greylisted flooder lost an unguarded port too")
	}
	if !tp.reach(tp.c4b, tp.r4, port) {
		t.Fatal("a quiet address of the same host is greylisted too")
	}
	// Packet-path additions do not move the generation.
	if h, err := f.Check(ctx); err != nil || h.Drifted {
		t.Fatalf("Check = %+v, %v; want no drift", h, err)
	}
}

func TestBanNetsMergeAndBlock(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	port := tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	if err := f.Install(ctx, acl.Ruleset{}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4, tp.r4, port)
	c30 := netip.PrefixFrom(tp.c4, 30).Masked()
	nets := &acl.Nets{BanNets: []netip.Prefix{c30, netip.PrefixFrom(tp.c4, 32), netip.PrefixFrom(tp.c4, 31).Masked(),
		netip.MustParsePrefix("192.0.2.0/25"), netip.MustParsePrefix("192.0.2.128/25"), netip.MustParsePrefix("2001:db8::/32")}}
	if err := f.Apply(ctx, acl.Delta{Nets: nets}); err != nil {
		t.Fatalf("Apply overlapping nets: %v", err)
	}
	if tp.reach(tp.c4, tp.r4, port) {
		t.Fatal("address in a banned /30 connects")
	}
	if !tp.reach(tp.c4b, tp.r4, port) {
		t.Fatal("address outside the banned ranges is blocked")
	}
	// Replacing the content works on a non-empty set, too.
	nets = &acl.Nets{BanNets: []netip.Prefix{netip.PrefixFrom(tp.c4, 24).Masked()}}
	if err := f.Apply(ctx, acl.Delta{Nets: nets}); err != nil {
		t.Fatalf("Apply /24: %v", err)
	}
	if tp.reach(tp.c4b, tp.r4, port) {
		t.Fatal("address in a banned /24 connects")
	}
	if err := f.Apply(ctx, acl.Delta{Nets: &acl.Nets{}}); err != nil {
		t.Fatalf("Apply empty nets: %v", err)
	}
	if !tp.reach(tp.c4, tp.r4, port) {
		t.Fatal("address blocked after the range bans were lifted")
	}
}

func TestBanIPv6(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	port := tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	if err := f.Install(ctx, acl.Ruleset{Elements: []acl.Element{ban(tp.c6, time.Hour)}}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4, tp.r4, port)
	if tp.reach(tp.c6, tp.r6, port) {
		t.Fatal("banned IPv6 address connects")
	}
	if err := f.Apply(ctx, acl.Delta{Remove: []acl.Element{ban(tp.c6, 0)}}); err != nil {
		t.Fatalf("Apply remove: %v", err)
	}
	tp.mustReach(t, tp.c6, tp.r6, port)
}

func TestBanPort(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	banned, open := tp.listen(t), tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	if err := f.Install(ctx, acl.Ruleset{}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4, tp.r4, banned)
	tp.mustReach(t, tp.c6, tp.r6, banned)
	add := []acl.Element{
		{Kind: acl.KindBanPort, Addr: tp.c4, Port: banned, Timeout: time.Hour},
		{Kind: acl.KindBanPort, Addr: tp.c6, Port: banned},
	}
	if err := f.Apply(ctx, acl.Delta{Add: add}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	for _, c := range []struct{ from, to netip.Addr }{{tp.c4, tp.r4}, {tp.c6, tp.r6}} {
		if tp.reach(c.from, c.to, banned) {
			t.Errorf("%s connects to its banned port", c.from)
		}
		if !tp.reach(c.from, c.to, open) {
			t.Errorf("%s cannot connect to another port", c.from)
		}
	}
}

// TestReAddRefreshesTimeout re-adds a ban with the same timeout (which
// alone does not restart it, even on Linux 6.12+), then makes it
// permanent, then temporary again.
func TestReAddRefreshesTimeout(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	port := tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	if err := f.Install(ctx, acl.Ruleset{}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4, tp.r4, port)
	steps := []struct {
		name    string
		timeout time.Duration
		wait    time.Duration
		banned  bool
	}{
		{"ban 2s", 2 * time.Second, 1500 * time.Millisecond, true},
		{"same again", 2 * time.Second, 1500 * time.Millisecond, true},
		{"permanent", 0, 2500 * time.Millisecond, true},
		{"temporary again", time.Second, 1500 * time.Millisecond, false},
	}
	for _, st := range steps {
		if err := f.Apply(ctx, acl.Delta{Add: []acl.Element{ban(tp.c4, st.timeout)}}); err != nil {
			t.Fatalf("%s: Apply: %v", st.name, err)
		}
		time.Sleep(st.wait)
		if got := !tp.reach(tp.c4, tp.r4, port); got != st.banned {
			t.Fatalf("%s: banned = %v after %s, want %v", st.name, got, st.wait, st.banned)
		}
	}
	// Elements timing out do not move the generation.
	if h, err := f.Check(ctx); err != nil || h.Drifted {
		t.Fatalf("Check = %+v, %v; want no drift", h, err)
	}
}

func TestRemoveOfMissingElements(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	port := tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	present := netip.MustParseAddr("198.51.100.7")
	if err := f.Install(ctx, acl.Ruleset{Elements: []acl.Element{ban(present, 0)}}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4, tp.r4, port)
	var remove []acl.Element
	a := netip.MustParseAddr("203.0.113.0")
	for range 3000 {
		remove = append(remove, ban(a, 0))
		a = a.Next()
	}
	remove = append(remove, ban(present, 0))
	d := acl.Delta{Remove: remove, Add: []acl.Element{ban(tp.c4, 0)}}
	if err := f.Apply(ctx, d); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if tp.reach(tp.c4, tp.r4, port) {
		t.Fatal("the add of a delta with stale removes was lost")
	}
	out := tp.nft(t, "list", "set", "inet", TableName, "ban4")
	if contains(out, present.String()) {
		t.Fatalf("present element was not removed:\n%s", out)
	}
	if h, err := f.Check(ctx); err != nil || h.Drifted {
		t.Fatalf("Check = %+v, %v; want no drift from our own writes", h, err)
	}
}

// TestWireGuardFloodRateLimited checks the UDP side of the meter:
// handshake initiations above the rate are dropped but greylist nobody
// (nothing proves their source), ordinary datagrams to the same port
// (tunnel traffic) are not metered, and a NeverGrey source is not limited.
func TestWireGuardFloodRateLimited(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	port := tp.listen(t) // the TCP listener only proves reachability
	wgPort, got := tp.listenUDP(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	rs := acl.Ruleset{GuardPorts: []uint16{wgPort}, Rate: 5, Burst: 5, GreyTimeout: time.Minute,
		NeverGrey: []netip.Prefix{netip.PrefixFrom(tp.c4b, 32)}}
	if err := f.Install(ctx, rs); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4, tp.r4, port)
	initiation := make([]byte, 148)
	initiation[0] = 1
	count := func(from netip.Addr, payload []byte, n int) int {
		tp.sendUDP(t, from, tp.r4, wgPort, payload, n)
		time.Sleep(100 * time.Millisecond) // let the listener drain its queue
		return int(got.Swap(0))
	}
	if n := count(tp.c4, make([]byte, 1200), 50); n != 50 {
		t.Errorf("%d of 50 tunnel datagrams arrived, want all", n)
	}
	if n := count(tp.c4, initiation, 40); n < 5 || n > 20 {
		t.Errorf("%d of 40 initiations arrived, want about the burst (5)", n)
	}
	if n := count(tp.c4b, initiation, 40); n != 40 {
		t.Errorf("%d of 40 initiations from a NeverGrey source arrived, want all", n)
	}
	greys, err := f.KernelGreylist(ctx)
	if err != nil {
		t.Fatalf("KernelGreylist: %v", err)
	}
	if len(greys) != 0 {
		t.Fatalf("KernelGreylist = %+v, want none: initiations never greylist", greys)
	}
}

// listenUDP opens a UDP socket in R and counts the datagrams it receives.
func (tp *topo) listenUDP(t *testing.T) (uint16, *atomic.Int64) {
	t.Helper()
	var c *net.UDPConn
	err := inNS(tp.r, func() (err error) {
		c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: tp.r4.AsSlice()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	var n atomic.Int64
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			n.Add(1)
		}
	}()
	return uint16(c.LocalAddr().(*net.UDPAddr).Port), &n
}

// TestNeverGreyIsNotGreylisted floods a guarded port with real
// connections from a NeverGrey address: it is neither greylisted nor cut off.
func TestNeverGreyIsNotGreylisted(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	port := tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	rs := acl.Ruleset{GuardPorts: []uint16{port}, Rate: 5, Burst: 5, GreyTimeout: time.Minute,
		NeverGrey: []netip.Prefix{netip.MustParsePrefix(tp.c4.String() + "/30")}}
	if err := f.Install(ctx, rs); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4, tp.r4, port)
	for i := range 40 {
		c, err := tp.dial(tp.c4, tp.r4, port, blockedAfter)
		if err != nil {
			t.Fatalf("connection %d from a NeverGrey address: %v", i, err)
		}
		_ = c.Close()
	}
	greys, err := f.KernelGreylist(ctx)
	if err != nil || len(greys) != 0 {
		t.Fatalf("KernelGreylist = %+v, %v; want none", greys, err)
	}
}

// sendUDP sends n copies of payload from C's address from to R.
func (tp *topo) sendUDP(t *testing.T, from, to netip.Addr, port uint16, payload []byte, n int) {
	t.Helper()
	err := inNS(tp.c, func() error {
		c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(from, 0)),
			net.UDPAddrFromAddrPort(netip.AddrPortFrom(to, port)))
		if err != nil {
			return err
		}
		defer c.Close()
		for range n {
			// Errors are ICMP port unreachable from earlier datagrams:
			// nothing listens, and nothing needs to.
			_, _ = c.Write(payload)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
