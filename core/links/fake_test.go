package links

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core"
)

// fakeKernel is an in-memory Kernel: links with MTU bounds, addresses and
// gateways that Configure changes the way hw/nic does, links that can
// vanish, and an error to inject.
type fakeKernel struct {
	mu        sync.Mutex
	links     []Link
	configure []string // link names, in call order
	err       error    // returned by Configure when set
	reads     int      // Links calls
}

func newFakeKernel(links ...Link) *fakeKernel {
	return &fakeKernel{links: links}
}

func (f *fakeKernel) Links(context.Context) ([]Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	out := make([]Link, len(f.links))
	for i, l := range f.links {
		l.Addrs = slices.Clone(l.Addrs)
		l.SampledAt = time.Unix(1700000000, 0)
		out[i] = l
	}
	return out, nil
}

func (f *fakeKernel) Configure(_ context.Context, name string, d Desired) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configure = append(f.configure, name)
	if f.err != nil {
		return f.err
	}
	i := slices.IndexFunc(f.links, func(l Link) bool { return l.Name == name })
	if i < 0 {
		return core.NotFound("link %s not found", name)
	}
	l := &f.links[i]
	if d.MTU != 0 {
		if l.MinMTU > 0 && d.MTU < l.MinMTU || l.MaxMTU > 0 && d.MTU > l.MaxMTU {
			return core.ErrInvalid
		}
		l.MTU = d.MTU
	}
	if d.Manage {
		kept := slices.DeleteFunc(l.Addrs, func(a Addr) bool { return a.AssignedBy == AssignedStatic })
		for _, p := range d.Addrs {
			kept = append(kept, Addr{Prefix: p, AssignedBy: AssignedStatic})
		}
		l.Addrs = kept
		l.GatewayV4, l.GatewayV6 = d.GatewayV4, d.GatewayV6
	} else {
		if d.GatewayV4.IsValid() {
			l.GatewayV4 = d.GatewayV4
		}
		if d.GatewayV6.IsValid() {
			l.GatewayV6 = d.GatewayV6
		}
	}
	return nil
}

// edit changes a link in place (to drift it, rename it, renumber it).
func (f *fakeKernel) edit(name string, fn func(l *Link)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.links {
		if f.links[i].Name == name {
			fn(&f.links[i])
		}
	}
}

// remove makes a link vanish.
func (f *fakeKernel) remove(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links = slices.DeleteFunc(f.links, func(l Link) bool { return l.Name == name })
}

func (f *fakeKernel) add(l Link) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.links = append(f.links, l)
}

func (f *fakeKernel) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeKernel) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func (f *fakeKernel) link(name string) Link {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.links {
		if l.Name == name {
			l.Addrs = slices.Clone(l.Addrs)
			return l
		}
	}
	return Link{}
}

func static(s string) Addr { return Addr{Prefix: netip.MustParsePrefix(s), AssignedBy: AssignedStatic} }

func yes() *bool { b := true; return &b }

func netipAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
