package p2pview

import (
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/overlay"
)

// Point is what edgeward knows of one point (address and port).
type Point struct {
	Point netip.AddrPort
	// Trusted, Banned and GreylistedTill are the ACL's entries for the
	// point's address, whatever the port.
	Trusted        bool
	Banned         bool
	GreylistedTill time.Time
	// State is Running while a peer is connected from the point (PeerID,
	// LastSeen), Requested after a connect request no peer answered yet,
	// else Disconnected.
	State    string
	PeerID   string
	LastSeen time.Time
	// ExpectedPeerID is the peer id a client said to expect there.
	ExpectedPeerID string
}

// Book is what the ACL, the overlay and the register know of points at
// one moment.
type Book struct {
	acl   map[netip.Addr]acl.PointState
	conns map[netip.AddrPort]overlay.Connection
	regs  map[netip.AddrPort]registration
	// Left is how many ACL addresses a limited book left out. Each names
	// one point (see acl.PointState), none of them a connection's or a
	// registered one's.
	Left int
}

// Points is the book of the first limit (0: all) addresses the ACL holds,
// of every connection and of every registered point. The network page
// shows 200 points where 100,000 bans may be held: List's first 200 are
// the whole book's, as every address up to the limit-th is in.
func (v *View) Points(limit int) Book {
	states, addrs := v.acl.Points(limit)
	b := Book{acl: make(map[netip.Addr]acl.PointState, len(states)), conns: map[netip.AddrPort]overlay.Connection{}}
	for _, ps := range states {
		b.acl[ps.Addr] = ps
	}
	// Past the limit, a connection's or a registered point's address may
	// still hold entries: they tell its trust and bans.
	more := func(a netip.Addr) {
		if _, in := b.acl[a]; !in && len(states) < addrs {
			if ps, known := v.acl.Point(a); known {
				b.acl[a] = ps
			}
		}
	}
	for _, c := range v.ov.Connections() {
		if c.Endpoint.IsValid() && c.PeerID != "" {
			ep := unmap(c.Endpoint)
			b.conns[ep] = c
			more(ep.Addr())
		}
	}
	v.mu.Lock()
	b.regs = maps.Clone(v.points.m)
	v.mu.Unlock()
	for p := range b.regs {
		more(p.Addr())
	}
	b.Left = max(addrs-len(b.acl), 0)
	return b
}

// Point is what is known of one point: an O(1) ACL lookup, where Points
// would walk every entry (100,000 bans and more). known is false when
// neither the ACL, a connection nor the register knows it.
func (v *View) Point(p netip.AddrPort) (pt Point, known bool) {
	p = unmap(p)
	b := Book{acl: map[netip.Addr]acl.PointState{}, conns: map[netip.AddrPort]overlay.Connection{}, regs: map[netip.AddrPort]registration{}}
	if ps, ok := v.acl.Point(p.Addr()); ok {
		b.acl[ps.Addr] = ps
	}
	for _, c := range v.ov.Connections() {
		if c.PeerID != "" && unmap(c.Endpoint) == p {
			b.conns[p] = c
		}
	}
	v.mu.Lock()
	if r, ok := v.points.get(p); ok {
		b.regs[p] = r
	}
	v.mu.Unlock()
	return b.Info(p)
}

// Register makes p known, as the original's pool registers a point a
// client names; expected, when not empty, is the peer id to expect there.
// A registration is in memory only (see the package doc) and bounded by
// MaxRegistered.
func (v *View) Register(p netip.AddrPort, expected string) {
	p = unmap(p)
	v.mu.Lock()
	defer v.mu.Unlock()
	r, ok := v.points.get(p)
	if !ok {
		r.at = v.now()
	}
	if expected != "" {
		r.expected = expected
	}
	v.points.put(p, r)
}

// Request registers p as a point a client asked to connect to.
func (v *View) Request(p netip.AddrPort) {
	p = unmap(p)
	v.mu.Lock()
	defer v.mu.Unlock()
	r, ok := v.points.get(p)
	if !ok {
		r.at = v.now()
	}
	r.requested = true
	v.points.put(p, r)
}

// Info describes point p. A point is known when the ACL holds an entry for
// its address (whatever the port), a peer is connected from it or it is
// registered.
func (b Book) Info(p netip.AddrPort) (pt Point, known bool) {
	p = unmap(p)
	ps, inACL := b.acl[p.Addr()]
	conn, running := b.conns[p]
	reg, registered := b.regs[p]
	pt = Point{Point: p, Trusted: ps.Trusted, Banned: ps.Banned, GreylistedTill: ps.GreylistedTill,
		State: Disconnected, ExpectedPeerID: reg.expected}
	switch {
	case running:
		pt.State, pt.PeerID, pt.LastSeen = Running, conn.PeerID, conn.LastSeen
	case reg.requested:
		pt.State = Requested
	}
	return pt, inACL || running || registered
}

// List returns every known point, sorted: the points named for each ACL
// address ("<addr>:0" when none was), every connection endpoint and every
// registered point.
func (b Book) List() []netip.AddrPort {
	seen := map[netip.AddrPort]bool{}
	for a, ps := range b.acl {
		if len(ps.Points) == 0 {
			seen[netip.AddrPortFrom(a, 0)] = true
		}
		for _, s := range ps.Points {
			if ap, err := acl.ParsePoint(s); err == nil {
				seen[unmap(ap)] = true
			}
		}
	}
	for ap := range b.conns {
		seen[ap] = true
	}
	for ap := range b.regs {
		seen[ap] = true
	}
	return slices.SortedFunc(maps.Keys(seen), netip.AddrPort.Compare)
}

// unmap writes an IPv4-mapped address as IPv4, so a point has one name.
func unmap(p netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(p.Addr().Unmap(), p.Port())
}
