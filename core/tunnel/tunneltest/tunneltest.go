// Package tunneltest holds in-memory stand-ins for the data plane's kernel
// side, for tests of what drives it (core/dataplane, the pages). The real
// device and filter are tested against the kernel in hw/wg and hw/nft, and
// end to end with wireguard-go peers in cmd/edgeward.
package tunneltest

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core/tunnel"
)

// Device is a WireGuard device in memory. It records each Configure call.
type Device struct {
	mu    sync.Mutex
	peers map[string]tunnel.PeerStat
	// Calls counts Configure calls; LastSet and LastRemove are the last
	// one's arguments.
	Calls      int
	LastSet    []tunnel.Peer
	LastRemove []string
}

var _ tunnel.Device = (*Device)(nil)

// NewDevice returns an empty device.
func NewDevice() *Device { return &Device{peers: map[string]tunnel.PeerStat{}} }

// Configure implements tunnel.Device.
func (d *Device) Configure(_ context.Context, set []tunnel.Peer, remove []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Calls++
	d.LastSet, d.LastRemove = set, remove
	for _, p := range set {
		st := d.peers[p.PublicKey]
		st.Peer = p
		d.peers[p.PublicKey] = st
	}
	for _, k := range remove {
		delete(d.peers, k)
	}
	return nil
}

// Peers implements tunnel.Device, in key order.
func (d *Device) Peers(context.Context) ([]tunnel.PeerStat, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]tunnel.PeerStat, 0, len(d.peers))
	for _, p := range d.peers {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b tunnel.PeerStat) int { return strings.Compare(a.PublicKey, b.PublicKey) })
	return out, nil
}

// Peer returns what the device holds for key.
func (d *Device) Peer(key string) (tunnel.PeerStat, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p, ok := d.peers[key]
	return p, ok
}

// Len is how many peers the device holds.
func (d *Device) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.peers)
}

// Put sets a peer as someone running wg set would, behind the plane's back.
func (d *Device) Put(p tunnel.PeerStat) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.peers[p.PublicKey] = p
}

// Remove takes a peer off as wg set ... remove would.
func (d *Device) Remove(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.peers, key)
}

// See makes the peer with key show life as the kernel reports it: a
// handshake at hs, an endpoint and its byte counters. It reports false
// when the peer is not on the device.
func (d *Device) See(key string, from netip.AddrPort, hs time.Time, rx, tx int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, ok := d.peers[key]
	if !ok {
		return false
	}
	st.Endpoint, st.LastHandshake, st.RxBytes, st.TxBytes = from, hs, rx, tx
	d.peers[key] = st
	return true
}

// Filter is a kernel filter in memory: the installed policy and the
// members as ApplyMembers left them, with counts of both calls.
type Filter struct {
	mu       sync.Mutex
	Installs int
	Applies  int
	Policy   tunnel.Policy
	members  map[string]map[netip.Addr]bool
}

var _ tunnel.Filter = (*Filter)(nil)

// InstallPolicy implements tunnel.Filter.
func (f *Filter) InstallPolicy(_ context.Context, p tunnel.Policy) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Installs++
	f.Policy = p
	f.members = map[string]map[netip.Addr]bool{}
	for _, g := range p.Groups {
		f.members[g.ID] = map[netip.Addr]bool{}
		for _, a := range g.Members {
			f.members[g.ID][a] = true
		}
	}
	return nil
}

// ApplyMembers implements tunnel.Filter.
func (f *Filter) ApplyMembers(_ context.Context, d tunnel.Members) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Applies++
	for _, m := range d.Add {
		f.members[m.Group][m.Addr] = true
	}
	for _, m := range d.Remove {
		delete(f.members[m.Group], m.Addr)
	}
	return nil
}

// Member reports whether group holds addr.
func (f *Filter) Member(group string, addr netip.Addr) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.members[group][addr]
}
