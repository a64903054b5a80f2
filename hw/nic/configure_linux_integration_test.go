//go:build linux

package nic

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/links"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// ewaState is ewa as iproute2 shows it after Configure.
type ewaState struct {
	MTU    int
	Up     bool
	Addrs  []string // "prefix [brd B] ASSIGNED_BY", link-local ones left out
	Routes []string // default routes through ewa: "gateway [proto P] [metric M]"
}

// ewaNow reads ewaState with iproute2.
func (ns *testNS) ewaNow(t testing.TB) ewaState {
	t.Helper()
	var ls []struct {
		MTU      int      `json:"mtu"`
		Flags    []string `json:"flags"`
		AddrInfo []struct {
			Local     string `json:"local"`
			Prefixlen int    `json:"prefixlen"`
			Broadcast string `json:"broadcast"`
			Scope     string `json:"scope"`
			Dynamic   bool   `json:"dynamic"`
		} `json:"addr_info"`
	}
	ns.ipJSON(t, &ls, "addr", "show", "dev", "ewa")
	if len(ls) != 1 {
		t.Fatalf("ip addr show dev ewa: %d links", len(ls))
	}
	s := ewaState{MTU: ls[0].MTU, Up: slices.Contains(ls[0].Flags, "UP")}
	for _, a := range ls[0].AddrInfo {
		if a.Scope == "link" {
			continue
		}
		v := fmt.Sprintf("%s/%d", a.Local, a.Prefixlen)
		if a.Broadcast != "" {
			v += " brd " + a.Broadcast
		}
		s.Addrs = append(s.Addrs, v+map[bool]string{true: " DHCP", false: " STATIC"}[a.Dynamic])
	}
	slices.Sort(s.Addrs)
	for _, flag := range []string{"-4", "-6"} {
		var rs []ipRoute
		ns.ipJSON(t, &rs, flag, "route", "show", "table", "main", "default", "dev", "ewa")
		for _, r := range rs {
			v := r.Gateway
			if r.Protocol != "" {
				v += " proto " + r.Protocol
			}
			if r.Metric != 0 {
				v += fmt.Sprintf(" metric %d", r.Metric)
			}
			s.Routes = append(s.Routes, v)
		}
	}
	return s
}

// newConfigureLab is newLab plus a second static address, and a default
// route of the kind a DHCP client installs.
func newConfigureLab(t testing.TB) *testNS {
	t.Helper()
	ns := newLab(t)
	ns.batch(t, []string{
		"addr add 192.0.2.9/24 dev ewa",
		"route add default via 198.51.100.1 dev ewa proto dhcp metric 1024",
	})
	return ns
}

// labState is ewa as newConfigureLab leaves it.
var labState = ewaState{
	MTU: 1500, Up: true,
	Addrs:  []string{"192.0.2.1/24 STATIC", "192.0.2.9/24 STATIC", "198.51.100.7/24 DHCP", "2001:db8::1/64 STATIC"},
	Routes: []string{"192.0.2.254", "198.51.100.1 proto dhcp metric 1024", "2001:db8::fe metric 1024"},
}

func pfx(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func no() *bool { b := false; return &b }

// configureCase is one Desired for ewa of a fresh configure lab (or for
// another link) and what ewa looks like afterwards.
type configureCase struct {
	name    string
	link    string
	d       links.Desired
	want    ewaState
	wantErr error
}

func configureCases() []configureCase {
	ip := netip.MustParseAddr
	return []configureCase{
		{name: "mtu", link: "ewa", d: links.Desired{MTU: 1400}, want: with(labState, func(s *ewaState) { s.MTU = 1400 })},
		{name: "mtu above the driver's maximum", link: "ewa", d: links.Desired{MTU: 70000}, want: labState,
			wantErr: core.ErrInvalid},
		{name: "mtu below the driver's minimum", link: "ewa", d: links.Desired{MTU: 60}, want: labState,
			wantErr: core.ErrInvalid},
		{name: "missing link", link: "ewx", d: links.Desired{MTU: 1400}, want: labState, wantErr: core.ErrNotFound},
		// Taking a link down, the kernel flushes its IPv6 addresses
		// (keep_addr_on_down is off) and the routes through it.
		{name: "down", link: "ewa", d: links.Desired{Up: no()}, want: with(labState, func(s *ewaState) {
			s.Up, s.Addrs, s.Routes = false, s.Addrs[:3], nil
		})},
		{name: "static addresses replace static ones only", link: "ewa",
			d: links.Desired{Manage: true, Addrs: pfx("192.0.2.1/24", "192.0.2.2/24", "2001:db8::2/64", "192.0.2.2/24"),
				GatewayV4: ip("192.0.2.254"), GatewayV6: ip("2001:db8::fe")},
			want: with(labState, func(s *ewaState) {
				s.Addrs = []string{"192.0.2.1/24 STATIC", "192.0.2.2/24 brd 192.0.2.255 STATIC",
					"198.51.100.7/24 DHCP", "2001:db8::2/64 STATIC"}
			})},
		{name: "listed dhcp address becomes static", link: "ewa",
			d: links.Desired{Manage: true, Addrs: pfx("192.0.2.1/24", "192.0.2.9/24", "198.51.100.7/24", "2001:db8::1/64"),
				GatewayV4: ip("192.0.2.254"), GatewayV6: ip("2001:db8::fe")},
			want: with(labState, func(s *ewaState) {
				s.Addrs = []string{"192.0.2.1/24 STATIC", "192.0.2.9/24 STATIC", "198.51.100.7/24 STATIC",
					"2001:db8::1/64 STATIC"}
			})},
		{name: "gateways replaced", link: "ewa", d: links.Desired{GatewayV4: ip("192.0.2.253"), GatewayV6: ip("2001:db8::fd")},
			want: with(labState, func(s *ewaState) {
				s.Routes = []string{"192.0.2.253", "198.51.100.1 proto dhcp metric 1024", "2001:db8::fd metric 1024"}
			})},
		{name: "managed zero gateways remove static default routes", link: "ewa",
			d:    links.Desired{Manage: true, Addrs: pfx("192.0.2.1/24", "192.0.2.9/24", "2001:db8::1/64")},
			want: with(labState, func(s *ewaState) { s.Routes = []string{"198.51.100.1 proto dhcp metric 1024"} })},
		{name: "unreachable gateway", link: "ewa", d: links.Desired{GatewayV4: ip("203.0.113.1")}, want: labState,
			wantErr: core.ErrInvalid},
		{name: "ipv6 address as ipv4 gateway", link: "ewa", d: links.Desired{GatewayV4: ip("2001:db8::fe")}, want: labState,
			wantErr: core.ErrInvalid},
	}
}

// TestConfigure applies one Desired to ewa of a fresh lab, compares ewa
// with what iproute2 shows, then applies it again and checks that the
// kernel sent no change notification: the second call wrote nothing.
func TestConfigure(t *testing.T) {
	tests := configureCases()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := newConfigureLab(t)
			n := ns.nic(t)
			err := n.Configure(ctxT(t), tt.link, tt.d)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("Configure error (-want +got):\n%s\n%v", diff, err)
			}
			if diff := cmp.Diff(tt.want, ns.ewaNow(t)); diff != "" {
				t.Errorf("ewa after Configure (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			mon := ns.monitor(t)
			settle(t, mon, 1200*time.Millisecond)
			if err := n.Configure(ctxT(t), tt.link, tt.d); err != nil {
				t.Fatalf("second Configure: %v", err)
			}
			if got := changes(t, mon, 300*time.Millisecond); len(got) > 0 {
				t.Errorf("second identical Configure changed the kernel: notifications %v", got)
			}
		})
	}
}

func with(s ewaState, edit func(*ewaState)) ewaState {
	s.Addrs, s.Routes = slices.Clone(s.Addrs), slices.Clone(s.Routes)
	edit(&s)
	return s
}

// TestConfigureThenLinks configures ewc step by step and checks what
// Links reads back, down to the operstate of its peer ewd.
func TestConfigureThenLinks(t *testing.T) {
	ns := newLab(t)
	n := ns.nic(t)
	ctx := ctxT(t)
	yes := true
	static := []string{"192.0.2.1/24 STATIC", "2001:db8::1/64 STATIC"}
	steps := []struct {
		name     string
		d        links.Desired
		mtu      int
		adminUp  bool
		ewc, ewd string
		addrs    []string // link-local ones left out
	}{
		{name: "down with mtu and addresses",
			d:   links.Desired{MTU: 1400, Up: no(), Manage: true, Addrs: pfx("192.0.2.1/24", "2001:db8::1/64")},
			mtu: 1400, adminUp: false, ewc: links.OperDown, ewd: links.OperLowerLayerDown, addrs: static},
		{name: "up again", d: links.Desired{Up: &yes},
			mtu: 1400, adminUp: true, ewc: links.OperUp, ewd: links.OperUp, addrs: static},
	}
	for _, st := range steps {
		if err := n.Configure(ctx, "ewc", st.d); err != nil {
			t.Fatalf("%s: Configure: %v", st.name, err)
		}
		want := []any{st.mtu, st.adminUp, st.ewc, st.ewd, st.addrs}
		var got []any
		// The kernel settles operstate asynchronously (linkwatch).
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			ls, err := n.Links(ctx)
			if err != nil {
				t.Fatalf("%s: Links: %v", st.name, err)
			}
			ewc, ewd := viewOf(*ptrTo(ls, "ewc")), ptrTo(ls, "ewd")
			addrs := slices.DeleteFunc(ewc.Addrs, func(a string) bool { return strings.HasSuffix(a, links.AssignedLinkLocal) })
			got = []any{ewc.MTU, ewc.AdminUp, ewc.OperState, ewd.OperState, addrs}
			if cmp.Equal(want, got) || time.Now().After(end) {
				break
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: ewc MTU, admin up, operstate, ewd operstate, ewc addresses (-want +got):\n%s", st.name, diff)
		}
	}
}
