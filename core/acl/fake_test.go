package acl

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// fakeFirewall is an in-memory Firewall: what a kernel table would hold,
// for tests of the ACL's rules. The real adapter is tested against the
// kernel in hw/nft.
type fakeFirewall struct {
	mu       sync.Mutex
	installs int
	elems    map[Element]bool // timeout zeroed: membership only
	timeouts map[Element]time.Duration
	nets     Nets
	kernel   []Grey // what the kernel greylisted by itself
	drift    string
	cut      []netip.Prefix
	err      error
	// When hold is set, Cut says so on started and then waits for hold
	// to close: a cut still running.
	hold, started chan struct{}
}

func newFake() *fakeFirewall {
	return &fakeFirewall{elems: map[Element]bool{}, timeouts: map[Element]time.Duration{}}
}

func key(e Element) Element { e.Timeout = 0; return e }

func (f *fakeFirewall) Install(_ context.Context, rs Ruleset) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.installs++
	f.elems, f.timeouts = map[Element]bool{}, map[Element]time.Duration{}
	for _, e := range rs.Elements {
		f.elems[key(e)] = true
		f.timeouts[key(e)] = e.Timeout
	}
	f.nets = Nets{Trust: rs.Trust, BanNets: rs.BanNets}
	f.kernel, f.drift = nil, ""
	return nil
}

func (f *fakeFirewall) Apply(_ context.Context, d Delta) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	for _, e := range d.Remove {
		delete(f.elems, key(e))
	}
	for _, e := range append(d.Fresh, d.Add...) {
		f.elems[key(e)] = true
		f.timeouts[key(e)] = e.Timeout
	}
	if d.Nets != nil {
		f.nets = *d.Nets
	}
	return nil
}

func (f *fakeFirewall) KernelGreylist(context.Context) ([]Grey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]Grey{}, f.kernel...)
	for e := range f.elems {
		if e.Kind == KindGrey {
			out = append(out, Grey{Addr: e.Addr, Expires: f.timeouts[e]})
		}
	}
	return out, nil
}

func (f *fakeFirewall) Check(context.Context) (Health, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Health{Drifted: f.drift != "", Why: f.drift}, nil
}

func (f *fakeFirewall) Cut(_ context.Context, p netip.Prefix) (int, error) {
	f.mu.Lock()
	f.cut = append(f.cut, p)
	hold, started := f.hold, f.started
	f.mu.Unlock()
	if hold != nil {
		started <- struct{}{}
		<-hold
	}
	return 1, nil
}

func (f *fakeFirewall) has(e Element) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.elems[key(e)]
}

func (f *fakeFirewall) trust() []netip.Prefix {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.nets.Trust)
	slices.SortFunc(out, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
	return out
}
