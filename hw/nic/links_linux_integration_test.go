//go:build linux

package nic

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/core/netstat"
	"github.com/google/go-cmp/cmp"
)

// newLab builds the namespace most tests read: veth ewa (192.0.2.1/24
// static, 198.51.100.7/24 with a DHCP-like lifetime, 2001:db8::1/64, and
// the default routes) whose peer ewb (192.0.2.2) lives in a namespace of
// its own, so that pings cross the pair; veth pair ewc/ewd; bridge ewbr
// without ports. Everything is up.
func newLab(t testing.TB) *testNS {
	t.Helper()
	ns, peer := newNS(t), newNS(t)
	ns.batch(t, []string{
		"link add ewa type veth peer name ewb netns " + peer.name,
		"link add ewc type veth peer name ewd",
		"link add ewbr type bridge",
		"addr add 192.0.2.1/24 dev ewa",
		"addr add 198.51.100.7/24 dev ewa valid_lft 300 preferred_lft 300",
		"addr add 2001:db8::1/64 dev ewa",
		"link set ewa up", "link set ewc up", "link set ewd up", "link set ewbr up",
		"route add default via 192.0.2.254 dev ewa",
	})
	ns.ip(t, "-6", "route", "add", "default", "via", "2001:db8::fe", "dev", "ewa")
	peer.batch(t, []string{"addr add 192.0.2.2/24 dev ewb", "link set ewb up"})
	return ns
}

// TestLinksMatchIP compares Links with iproute2, counters included: they
// are read between two `ip -s link` runs right after pings crossed ewa.
func TestLinksMatchIP(t *testing.T) {
	ns := newLab(t)
	n := ns.nic(t)
	ctx := ctxT(t)
	ns.ping(t, netip.MustParseAddr("192.0.2.2"), 5)
	before := ns.ipViews(t)
	got, err := n.Links(ctx)
	if err != nil {
		t.Fatalf("Links: %v", err)
	}
	after := ns.ipViews(t)

	gotViews := map[string]linkView{}
	for _, l := range got {
		v := viewOf(l)
		if a, b := before[l.Name], after[l.Name]; l.RxBytes < a.RxBytes || l.RxBytes > b.RxBytes ||
			l.TxBytes < a.TxBytes || l.TxBytes > b.TxBytes {
			t.Errorf("%s: rx/tx bytes %d/%d, ip said %d/%d before and %d/%d after",
				l.Name, l.RxBytes, l.TxBytes, a.RxBytes, a.TxBytes, b.RxBytes, b.TxBytes)
		}
		if l.SampledAt.IsZero() || time.Since(l.SampledAt) > time.Minute {
			t.Errorf("%s: SampledAt %v", l.Name, l.SampledAt)
		}
		gotViews[l.Name] = v
	}
	for name, v := range after {
		v.RxBytes, v.TxBytes = 0, 0
		after[name] = v
	}
	if diff := cmp.Diff(after, gotViews); diff != "" {
		t.Errorf("Links differs from iproute2 (-want +got):\n%s", diff)
	}
	// Five echo replies of 98 bytes came in on ewa, five requests went out.
	if a := ptrTo(got, "ewa"); a == nil || a.RxBytes < 5*98 || a.TxBytes < 5*98 {
		t.Errorf("ewa counters did not see the pings: %+v", a)
	}
	wantEwa := []string{"192.0.2.1/24 STATIC", "198.51.100.7/24 DHCP", "2001:db8::1/64 STATIC"}
	gotEwa := slices.DeleteFunc(slices.Clone(gotViews["ewa"].Addrs), func(s string) bool {
		return strings.HasPrefix(s, "fe80::") && strings.HasSuffix(s, "/64 LINK_LOCAL")
	})
	if diff := cmp.Diff(wantEwa, gotEwa); diff != "" || len(gotViews["ewa"].Addrs) != 4 {
		t.Errorf("ewa addresses (-want +got, plus one fe80::/64 LINK_LOCAL):\n%s%v", diff, gotViews["ewa"].Addrs)
	}
	if g := gotViews["ewa"]; g.GatewayV4 != "192.0.2.254" || g.GatewayV6 != "2001:db8::fe" {
		t.Errorf("ewa gateways = %q, %q; want 192.0.2.254, 2001:db8::fe", g.GatewayV4, g.GatewayV6)
	}
}

func ptrTo(ls []links.Link, name string) *links.Link {
	for i := range ls {
		if ls[i].Name == name {
			return &ls[i]
		}
	}
	return nil
}

// TestLinksEthtool checks speed, duplex and link detection against fixed
// values and, when it is installed, against the ethtool command.
func TestLinksEthtool(t *testing.T) {
	ns := newLab(t)
	// A bridge reports the speed of its ports, and has a carrier once a
	// port forwards (without STP at once). A bridge without ports has no
	// speed; whether it has a carrier while up depends on the kernel, so
	// ewbr2 stays down.
	ns.batch(t, []string{"link set ewd master ewbr", "link add ewbr2 type bridge"})
	for end := time.Now().Add(5 * time.Second); !slices.Contains(ns.ipFlags(t, "ewbr"), "LOWER_UP"); {
		if time.Now().After(end) {
			t.Fatal("bridge ewbr never got a carrier")
		}
		time.Sleep(50 * time.Millisecond)
	}
	got, err := ns.nic(t).Links(ctxT(t))
	if err != nil {
		t.Fatalf("Links: %v", err)
	}
	tests := []struct {
		name      string
		link      string
		speedMbps int
		duplex    string
		detected  string
	}{
		{name: "veth", link: "ewa", speedMbps: 10000, duplex: "full", detected: "yes"},
		{name: "bridge with a veth port: its speed", link: "ewbr", speedMbps: 10000, duplex: "", detected: "yes"},
		{name: "bridge without ports, down: speed unknown", link: "ewbr2", speedMbps: 0, duplex: "", detected: "no"},
		{name: "loopback: no link modes", link: "lo", speedMbps: 0, duplex: "", detected: "yes"},
	}
	_, cliErr := exec.LookPath("ethtool")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ptrTo(got, tt.link)
			if l == nil {
				t.Fatalf("no link %s", tt.link)
			}
			want := [3]string{strconv.Itoa(tt.speedMbps), tt.duplex, tt.detected}
			have := [3]string{strconv.Itoa(l.SpeedMbps), l.Duplex, yesNo(l.LinkDetected)}
			if diff := cmp.Diff(want, have); diff != "" {
				t.Errorf("speed, duplex, link detected (-want +got):\n%s", diff)
			}
			if cliErr != nil {
				return
			}
			if diff := cmp.Diff(ns.ethtool(t, tt.link), have); diff != "" {
				t.Errorf("Links differs from ethtool (-ethtool +got):\n%s", diff)
			}
		})
	}
}

// TestLinksOperState takes links down with iproute2 and checks the states
// Links reports on both ends of the veth pair.
func TestLinksOperState(t *testing.T) {
	tests := []struct {
		name     string
		cmds     []string
		ewc, ewd string
	}{
		{name: "both ends up", ewc: links.OperUp, ewd: links.OperUp},
		{name: "one end down", cmds: []string{"link set ewc down"}, ewc: links.OperDown, ewd: links.OperLowerLayerDown},
		{name: "both ends down", cmds: []string{"link set ewc down", "link set ewd down"},
			ewc: links.OperDown, ewd: links.OperDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := newLab(t)
			if len(tt.cmds) > 0 {
				ns.batch(t, tt.cmds)
			}
			n := ns.nic(t)
			want := [2]string{tt.ewc, tt.ewd}
			var got [2]string
			// The kernel settles operstate asynchronously (linkwatch).
			for end := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				ls, err := n.Links(ctxT(t))
				if err != nil {
					t.Fatalf("Links: %v", err)
				}
				got = [2]string{ptrTo(ls, "ewc").OperState, ptrTo(ls, "ewd").OperState}
				if got == want || time.Now().After(end) {
					break
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("operstate of ewc, ewd (-want +got):\n%s", diff)
			}
			ip := ns.ipViews(t)
			if diff := cmp.Diff([2]string{ip["ewc"].OperState, ip["ewd"].OperState}, got); diff != "" {
				t.Errorf("Links differs from iproute2 (-ip +got):\n%s", diff)
			}
		})
	}
}

// TestLinksVLAN checks a VLAN link's id and parent, where the kernel has
// 802.1Q support.
func TestLinksVLAN(t *testing.T) {
	ns := newLab(t)
	out, err := exec.Command("ip", "-n", ns.name, "link", "add", "link", "ewc", "name", "ewc.10",
		"type", "vlan", "id", "10").CombinedOutput()
	if err != nil {
		t.Skipf("kernel lacks VLAN (8021q) support: ip link add type vlan: %v: %s", err, strings.TrimSpace(string(out)))
	}
	ls, err := ns.nic(t).Links(ctxT(t))
	if err != nil {
		t.Fatalf("Links: %v", err)
	}
	parent, vlan := ptrTo(ls, "ewc"), ptrTo(ls, "ewc.10")
	if parent == nil || vlan == nil {
		t.Fatalf("links ewc and ewc.10 missing: %+v", ls)
	}
	want := [3]any{"vlan", 10, parent.Index}
	if diff := cmp.Diff(want, [3]any{vlan.Kind, vlan.VLANID, vlan.ParentIndex}); diff != "" {
		t.Errorf("kind, VLAN id, parent (-want +got):\n%s", diff)
	}
}

// TestLinksDeadline cuts calls short at random points with tiny timeouts:
// each must either succeed or fail with the context's error, and a later
// call must read correct links (no replies left over from cut calls).
func TestLinksDeadline(t *testing.T) {
	ns := newLab(t)
	n := ns.nic(t)
	want, err := n.Links(ctxT(t))
	if err != nil {
		t.Fatalf("Links: %v", err)
	}
	cut := 0
	for i := range 200 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%40)*25*time.Microsecond)
		_, err := n.Links(ctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Links with a %v timeout: %v, want nil or context.DeadlineExceeded", time.Duration(i%40)*25*time.Microsecond, err)
		}
		if err != nil {
			cut++
		}
	}
	t.Logf("%d of 200 calls cut short", cut)
	got, err := n.Links(ctxT(t))
	if err != nil {
		t.Fatalf("Links after %d cut calls: %v", cut, err)
	}
	names := func(ls []links.Link) (out []string) {
		for _, l := range ls {
			out = append(out, fmt.Sprintf("%d %s %d", l.Index, l.Name, len(l.Addrs)))
		}
		return out
	}
	if diff := cmp.Diff(names(want), names(got)); diff != "" {
		t.Errorf("links after %d cut calls (-want +got):\n%s", cut, diff)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.Links(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Links with a canceled ctx: %v, want context.Canceled", err)
	}
}

// TestTraffic reads the lab's counters for the traffic sampler: the same
// links as Links, loopback marked, counters moving with pings and the
// states as the kernel has them.
func TestTraffic(t *testing.T) {
	ns := newLab(t)
	ns.ip(t, "link", "set", "ewd", "down")
	n := ns.nic(t)
	ctx := ctxT(t)
	before, err := n.Traffic(ctx)
	if err != nil {
		t.Fatalf("Traffic: %v", err)
	}
	ns.ping(t, netip.MustParseAddr("192.0.2.2"), 5)
	after, err := n.Traffic(ctx)
	if err != nil {
		t.Fatalf("Traffic: %v", err)
	}
	byName := func(ls []netstat.Link) map[string]netstat.Link {
		m := map[string]netstat.Link{}
		for _, l := range ls {
			m[l.Name] = l
		}
		return m
	}
	b, a := byName(before), byName(after)
	if got := slices.Sorted(maps.Keys(a)); !slices.Equal(got, []string{"ewa", "ewbr", "ewc", "ewd", "lo"}) {
		t.Fatalf("links %v", got)
	}
	if !a["lo"].Loopback || a["ewa"].Loopback {
		t.Errorf("loopback flags: lo %v, ewa %v", a["lo"].Loopback, a["ewa"].Loopback)
	}
	if !a["ewa"].Up || a["ewd"].Up || a["ewc"].Up {
		// ewc's peer ewd is down, so ewc has no carrier either.
		t.Errorf("up: ewa %v, ewc %v, ewd %v; want true, false, false", a["ewa"].Up, a["ewc"].Up, a["ewd"].Up)
	}
	// Five pings and their replies: at least 5 × 84 bytes each way.
	if d := a["ewa"].TxBytes - b["ewa"].TxBytes; d < 5*84 {
		t.Errorf("ewa sent %d bytes during 5 pings", d)
	}
	if d := a["ewa"].RxBytes - b["ewa"].RxBytes; d < 5*84 {
		t.Errorf("ewa received %d bytes during 5 pings", d)
	}
	if a["ewa"].SpeedMbps != 10000 {
		// veth reports 10000 Mb/s through ethtool.
		t.Errorf("ewa speed %d", a["ewa"].SpeedMbps)
	}
}
