//go:build linux

package nft

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/acl"
	vnl "github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestDriftAndRepair changes the table with the nft command line, as
// another tool or an admin would, and checks that Check notices and that
// Install repairs.
func TestDriftAndRepair(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	port := tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	rs := acl.Ruleset{Elements: []acl.Element{ban(tp.c4, 0)}}
	if err := f.Install(ctx, rs); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4b, tp.r4, port)
	steps := []struct {
		name    string
		nft     []string
		wantWhy string
	}{
		{"flush table", []string{"flush", "table", "inet", TableName}, "chain pre has 0 rules"},
		{"delete table", []string{"delete", "table", "inet", TableName}, "table inet edgeward is missing"},
		{"delete set", []string{"delete", "set", "inet", TableName, "meter6"}, "set meter6 is missing"},
		{"delete element", []string{"delete", "element", "inet", TableName, "ban4", "{", tp.c4.String(), "}"}, whyOutside},
	}
	for _, st := range steps {
		if h, err := f.Check(ctx); err != nil || h.Drifted {
			t.Fatalf("%s: Check before = %+v, %v; want no drift", st.name, h, err)
		}
		tp.nft(t, st.nft...)
		h, err := f.Check(ctx)
		if err != nil {
			t.Fatalf("%s: Check: %v", st.name, err)
		}
		if !h.Drifted || !strings.HasPrefix(h.Why, st.wantWhy) {
			t.Fatalf("%s: Check = %+v, want drift %q", st.name, h, st.wantWhy)
		}
		if err := f.Install(ctx, rs); err != nil {
			t.Fatalf("%s: Install: %v", st.name, err)
		}
		if tp.reach(tp.c4, tp.r4, port) {
			t.Fatalf("%s: ban not back after Install", st.name)
		}
	}
	// Drift found by the generation alone is reported once.
	tp.nft(t, "add", "element", "inet", TableName, "ban4", "{", "192.0.2.9", "}")
	if h, _ := f.Check(ctx); !h.Drifted {
		t.Fatal("Check after an outside add: no drift")
	}
	if h, err := f.Check(ctx); err != nil || h.Drifted {
		t.Fatalf("second Check = %+v, %v; want the drift reported once", h, err)
	}
}

// TestOtherTablesSurvive checks that Install leaves another tool's table
// alone, and documents that a change to it moves the generation: Check
// then reports drift once, and the caller reinstalls, harmlessly.
func TestOtherTablesSurvive(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	tp.nft(t, "add", "table", "inet", "fw4")
	tp.nft(t, "add", "chain", "inet", "fw4", "input", "{ type filter hook input priority 0; policy accept; }")
	tp.nft(t, "add", "rule", "inet", "fw4", "input", "tcp", "dport", "22", "accept")
	f := tp.firewall(t)
	ctx := ctxT(t)
	for range 2 {
		if err := f.Install(ctx, acl.Ruleset{}); err != nil {
			t.Fatalf("Install: %v", err)
		}
	}
	if out := tp.nft(t, "list", "table", "inet", "fw4"); !contains(out, "tcp dport 22 accept") {
		t.Fatalf("fw4 changed by Install:\n%s", out)
	}
	if h, err := f.Check(ctx); err != nil || h.Drifted {
		t.Fatalf("Check = %+v, %v; want no drift", h, err)
	}
	tp.nft(t, "add", "rule", "inet", "fw4", "input", "tcp", "dport", "23", "drop")
	if h, _ := f.Check(ctx); !h.Drifted || h.Why != whyOutside {
		t.Fatalf("Check after an fw4 change = %+v, want one harmless drift report", h)
	}
	if h, err := f.Check(ctx); err != nil || h.Drifted {
		t.Fatalf("second Check = %+v, %v; want no drift", h, err)
	}
}

// TestCutEndsTrackedFlows opens a long-lived connection from C, bans C and
// cuts its conntrack entries. R's conntrack is switched on by a table of
// its own with a ct expression; the entries are counted over ctnetlink.
func TestCutEndsTrackedFlows(t *testing.T) {
	t.Parallel()
	tp := newTopo(t)
	tp.nft(t, "add", "table", "inet", "cttest")
	tp.nft(t, "add", "chain", "inet", "cttest", "in", "{ type filter hook input priority 0; }")
	tp.nft(t, "add", "rule", "inet", "cttest", "in", "ct", "state", "established", "counter")
	port := tp.listen(t)
	f := tp.firewall(t)
	ctx := ctxT(t)
	if err := f.Install(ctx, acl.Ruleset{}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	tp.mustReach(t, tp.c4, tp.r4, port)
	c, err := tp.dial(tp.c4, tp.r4, port, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if n := tp.flows(t, tp.c4); n == 0 {
		t.Fatal("no conntrack entry for the open connection")
	}
	// Flows of other sources, and two more of C's, made over ctnetlink.
	others := addrs("198.51.100.1", 20)
	addFlows(t, tp.rFD, others, 1)
	addFlows(t, tp.rFD, []netip.Addr{tp.c4}, 2)
	want := tp.flows(t, tp.c4)
	if err := f.Apply(ctx, acl.Delta{Add: []acl.Element{ban(tp.c4, 0)}}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	// The kernel-filtered path itself, not the table scan it falls back to.
	n, err := f.cutFiltered(ctx, tp.c4)
	if err != nil {
		t.Fatalf("cutFiltered: %v", err)
	}
	if n != want {
		t.Fatalf("cutFiltered reported %d entries, want %d", n, want)
	}
	_, _ = c.Write([]byte("more")) // dropped before conntrack: no new entry
	if n := tp.flows(t, tp.c4); n != 0 {
		t.Fatalf("%d conntrack entries from %s left after Cut", n, tp.c4)
	}
	for _, a := range others {
		if n := tp.flows(t, a); n != 1 {
			t.Fatalf("%d conntrack entries from %s after cutting %s, want 1", n, a, tp.c4)
		}
	}
	// Cut with nothing left, then a prefix (the table scan).
	if n, err := f.Cut(ctx, netip.PrefixFrom(tp.c4, 32)); err != nil || n != 0 {
		t.Fatalf("second Cut = %d, %v; want 0, nil", n, err)
	}
	if n, err := f.Cut(ctx, netip.MustParsePrefix("198.51.100.0/28")); err != nil || n != 15 {
		t.Fatalf("Cut of a /28 = %d, %v; want 15, nil", n, err)
	}
	if n := tp.flows(t, others[19]); n != 1 {
		t.Fatalf("%d conntrack entries from %s after cutting a /28 without it, want 1", n, others[19])
	}
}

// addFlows adds per UDP flows from each of srcs to 192.0.2.1 to the
// conntrack table of the namespace nsFD, as traffic would.
func addFlows(tb testing.TB, nsFD int, srcs []netip.Addr, per int) {
	tb.Helper()
	h, err := vnl.NewHandleAt(netns.NsHandle(nsFD), unix.NETLINK_NETFILTER)
	if err != nil {
		tb.Fatal(err)
	}
	defer h.Close()
	dst := net.IP{192, 0, 2, 1}
	for i, a := range srcs {
		for j := range per {
			sport := uint16(1024 + (i*per+j)%60000)
			flow := &vnl.ConntrackFlow{FamilyType: unix.AF_INET, TimeOut: 600,
				Forward: vnl.IPTuple{SrcIP: a.AsSlice(), DstIP: dst, Protocol: unix.IPPROTO_UDP, SrcPort: sport, DstPort: 53},
				Reverse: vnl.IPTuple{SrcIP: dst, DstIP: a.AsSlice(), Protocol: unix.IPPROTO_UDP, SrcPort: 53, DstPort: sport}}
			if err := h.ConntrackCreate(vnl.ConntrackTable, unix.AF_INET, flow); err != nil {
				tb.Fatalf("add conntrack entry from %s: %v", a, err)
			}
		}
	}
}

// flows counts R's conntrack entries whose original source is a, or
// skips the test when ctnetlink is unavailable.
func (tp *topo) flows(t *testing.T, a netip.Addr) int {
	t.Helper()
	h, err := vnl.NewHandleAt(netns.NsHandle(tp.rFD), unix.NETLINK_NETFILTER)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	fs, err := h.ConntrackTableList(vnl.ConntrackTable, unix.AF_INET)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.ENOENT) {
		t.Skipf("kernel test: conntrack netlink unavailable: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range fs {
		if f.Forward.SrcIP.Equal(a.AsSlice()) {
			n++
		}
	}
	return n
}
