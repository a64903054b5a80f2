//go:build linux

package nft

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/tunnel"
)

// benchPolicy is a large overlay: 100 groups of 100 members (10,000
// peers), every tenth group with a resource, and 1,000 rules between the
// groups, each fifth with a port set of its own.
func benchPolicy() tunnel.Policy {
	p := tunnel.Policy{Interface: "wg0", Gateway: netip.MustParseAddr("100.64.0.1"),
		Network:  netip.MustParsePrefix("100.64.0.0/10"),
		Services: []tunnel.Service{{Protocol: tunnel.ProtoUDP, Ports: tunnel.PortRange{First: 53, Last: 53}}}}
	members := addrs("100.64.1.0", 10_000)
	for i := range 100 {
		g := tunnel.Group{ID: fmt.Sprintf("d0g%017d", i), Members: members[i*100 : (i+1)*100]}
		if i%10 == 0 {
			g.Resources = []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)}
		}
		p.Groups = append(p.Groups, g)
	}
	for i := range 1000 {
		r := tunnel.Rule{FromGroup: p.Groups[i%100].ID, ToGroup: p.Groups[(i*7+3)%100].ID, Protocol: tunnel.ProtoTCP,
			Ports: []tunnel.PortRange{{First: uint16(1000 + i), Last: uint16(1000 + i)}}}
		if i%5 == 0 {
			r.Ports = append(r.Ports, tunnel.PortRange{First: 8000, Last: 8100})
		}
		p.Rules = append(p.Rules, r)
	}
	return p
}

// BenchmarkInstallPolicy replaces an installed policy of 1,000 rules and
// 10,000 members with itself: what every policy edit costs.
func BenchmarkInstallPolicy(b *testing.B) {
	needRoot(b)
	_, fd, done := benchNS(b)
	defer done()
	f := benchFirewall(b, fd)
	defer f.Close()
	ctx := context.Background()
	p := benchPolicy()
	if err := f.InstallPolicy(ctx, p); err != nil {
		b.Fatalf("InstallPolicy: %v", err)
	}
	for b.Loop() {
		if err := f.InstallPolicy(ctx, p); err != nil {
			b.Fatalf("InstallPolicy: %v", err)
		}
	}
}

// BenchmarkApplyMembersOne adds one member to a group of that policy: a
// peer joining a group.
func BenchmarkApplyMembersOne(b *testing.B) {
	needRoot(b)
	_, fd, done := benchNS(b)
	defer done()
	f := benchFirewall(b, fd)
	defer f.Close()
	ctx := context.Background()
	p := benchPolicy()
	if err := f.InstallPolicy(ctx, p); err != nil {
		b.Fatalf("InstallPolicy: %v", err)
	}
	next := netip.MustParseAddr("100.65.0.0")
	for b.Loop() {
		d := tunnel.Members{Add: []tunnel.Member{{Group: p.Groups[0].ID, Addr: next}}}
		if err := f.ApplyMembers(ctx, d); err != nil {
			b.Fatalf("ApplyMembers: %v", err)
		}
		next = next.Next()
	}
}

// BenchmarkCheckWithPolicy runs Check with that policy and the ACL
// installed: it lists the policy chains' rules to count them.
func BenchmarkCheckWithPolicy(b *testing.B) {
	needRoot(b)
	_, fd, done := benchNS(b)
	defer done()
	f := benchFirewall(b, fd)
	defer f.Close()
	ctx := context.Background()
	if err := f.InstallPolicy(ctx, benchPolicy()); err != nil {
		b.Fatalf("InstallPolicy: %v", err)
	}
	if err := f.Install(ctx, acl.Ruleset{}); err != nil {
		b.Fatalf("Install: %v", err)
	}
	for b.Loop() {
		if h, err := f.Check(ctx); err != nil || h.Drifted {
			b.Fatalf("Check = %+v, %v", h, err)
		}
	}
}
