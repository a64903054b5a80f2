// Package linkstest holds an in-memory links.Kernel for the tests of the
// packages that serve core/links (the /v2 interfaces dialect, the pages),
// so that each need not carry its own copy.
package linkstest

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/links"
)

// SampledAt is the sample time every link reports, so that status
// timestamps are fixed in tests.
var SampledAt = time.Unix(1700000000, 0)

// Kernel is a small in-memory links.Kernel: eth0 with a static address,
// eth1 on DHCP, and loopback. Configure takes MTU and, when managed, the
// static addresses and gateways. It is safe for concurrent use.
type Kernel struct {
	mu    sync.Mutex
	links []links.Link
}

// New returns the kernel with its three links.
func New() *Kernel {
	up := true
	return &Kernel{links: []links.Link{
		{Index: 1, Name: "lo", Kind: "loopback", MTU: 65536},
		{Index: 2, Name: "eth0", MAC: "02:00:00:00:00:01", MTU: 1500, MinMTU: 68, MaxMTU: 9000, OperState: links.OperUp,
			Carrier: &up, SpeedMbps: 1000, RxBytes: 1 << 40, TxBytes: 12345,
			Addrs:     []links.Addr{{Prefix: netip.MustParsePrefix("192.168.1.1/24"), AssignedBy: links.AssignedStatic}},
			GatewayV4: netip.MustParseAddr("192.168.1.254")},
		{Index: 3, Name: "eth1", MAC: "02:00:00:00:00:02", MTU: 1500, OperState: links.OperDown,
			Addrs: []links.Addr{{Prefix: netip.MustParsePrefix("10.0.0.7/8"), AssignedBy: links.AssignedDHCP}}},
	}}
}

// Links returns copies of the links, sampled at SampledAt.
func (f *Kernel) Links(context.Context) ([]links.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.links)
	for i := range out {
		out[i].Addrs = slices.Clone(out[i].Addrs)
		out[i].SampledAt = SampledAt
	}
	return out, nil
}

// Configure changes the named link as hw/nic would. Errors: ErrNotFound.
func (f *Kernel) Configure(_ context.Context, name string, d links.Desired) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.links, func(l links.Link) bool { return l.Name == name })
	if i < 0 {
		return core.NotFound("link %s not found", name)
	}
	l := &f.links[i]
	if d.MTU != 0 {
		l.MTU = d.MTU
	}
	if d.Manage {
		l.Addrs = slices.DeleteFunc(l.Addrs, func(a links.Addr) bool { return a.AssignedBy == links.AssignedStatic })
		for _, p := range d.Addrs {
			l.Addrs = append(l.Addrs, links.Addr{Prefix: p, AssignedBy: links.AssignedStatic})
		}
		l.GatewayV4, l.GatewayV6 = d.GatewayV4, d.GatewayV6
	}
	return nil
}

// Remove makes the named link vanish, as an unplugged USB NIC does.
func (f *Kernel) Remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links = slices.DeleteFunc(f.links, func(l links.Link) bool { return l.Name == name })
}

// Change runs change on the named link, if there is one.
func (f *Kernel) Change(name string, change func(*links.Link)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i := slices.IndexFunc(f.links, func(l links.Link) bool { return l.Name == name }); i >= 0 {
		change(&f.links[i])
	}
}
