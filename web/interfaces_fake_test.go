package web

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/links"
)

// fakeKernel is a small in-memory links.Kernel for the web tests: eth0
// with a static address, eth1 on DHCP, and loopback. Configure takes MTU
// and, when managed, the static addresses.
type fakeKernel struct {
	mu    sync.Mutex
	links []links.Link
}

func newFakeKernel() *fakeKernel {
	up := true
	return &fakeKernel{links: []links.Link{
		{Index: 1, Name: "lo", Kind: "loopback", MTU: 65536},
		{Index: 2, Name: "eth0", MAC: "02:00:00:00:00:01", MTU: 1500, MinMTU: 68, MaxMTU: 9000, OperState: links.OperUp,
			Carrier: &up, SpeedMbps: 1000, RxBytes: 1 << 40, TxBytes: 12345,
			Addrs:     []links.Addr{{Prefix: netip.MustParsePrefix("192.168.1.1/24"), AssignedBy: links.AssignedStatic}},
			GatewayV4: netip.MustParseAddr("192.168.1.254")},
		{Index: 3, Name: "eth1", MAC: "02:00:00:00:00:02", MTU: 1500, OperState: links.OperDown,
			Addrs: []links.Addr{{Prefix: netip.MustParsePrefix("10.0.0.7/8"), AssignedBy: links.AssignedDHCP}}},
	}}
}

func (f *fakeKernel) Links(context.Context) ([]links.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.links)
	for i := range out {
		out[i].Addrs = slices.Clone(out[i].Addrs)
		out[i].SampledAt = time.Unix(1700000000, 0)
	}
	return out, nil
}

func (f *fakeKernel) Configure(_ context.Context, name string, d links.Desired) error {
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

func (f *fakeKernel) remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links = slices.DeleteFunc(f.links, func(l links.Link) bool { return l.Name == name })
}
