// Package p2pview is the read model of points, peers and connections that
// the /network dialect and the network page both show: the ACL's entries,
// the overlay's peers and the data plane's observations of them, joined in
// one place so that what makes a point "known" is decided once.
//
// Besides those joins it keeps a small, bounded, in-memory register of the
// points and peers a client named (a PATCH, a connect request), as the
// original node's pool does: such a point stays known after its ACL entry
// is lifted. Like the original's pool, the register is not persisted; a
// restart forgets it, and the ACL and overlay, which are, still answer.
package p2pview

import (
	"net/netip"
	"sync"
	"time"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/overlay"
)

// ACL is what the view reads of the ACL.
type ACL interface {
	Points(limit int) (list []acl.PointState, total int)
	Point(addr netip.Addr) (ps acl.PointState, known bool)
	Peer(id string) acl.PeerState
	// Banned says whether an address is banned or greylisted (and not
	// trusted).
	Banned(addr netip.Addr) bool
}

// Overlay is what the view reads of the overlay and of what the data
// plane observed of its peers.
type Overlay interface {
	Connections() []overlay.Connection
	Peers(f overlay.Filter) []overlay.PeerInfo
	ByPeerID(peerID string) (overlay.PeerInfo, error)
}

// States of a point or a peer, the original's names. edgeward's points and
// peers are either running (connected) or disconnected; Requested is a
// point a client asked to connect to that no peer has come from yet.
const (
	Running      = "running"
	Disconnected = "disconnected"
	Requested    = "requested"
)

// MaxRegistered bounds the register of points and of peers, each: the
// original's default limit of known points (max_known_points 400). When
// full, the oldest registration is forgotten.
const MaxRegistered = 400

// View joins the ACL and the overlay. It is safe for concurrent use.
type View struct {
	acl ACL
	ov  Overlay
	now func() time.Time

	mu     sync.Mutex
	points register[netip.AddrPort]
	peers  register[string]
}

// New returns a view over a and ov; now may be nil (time.Now).
func New(a ACL, ov Overlay, now func() time.Time) *View {
	if now == nil {
		now = time.Now
	}
	return &View{acl: a, ov: ov, now: now, points: newRegister[netip.AddrPort](), peers: newRegister[string]()}
}

// registration is what a client told about a point or a peer.
type registration struct {
	at       time.Time
	expected string // the peer id expected at a point; "" when none
	// requested is set by a connect request, until a peer comes from it.
	requested bool
}

// register is a bounded map that forgets its oldest key when full.
type register[K comparable] struct {
	m     map[K]registration
	order []K
}

func newRegister[K comparable]() register[K] { return register[K]{m: map[K]registration{}} }

func (r *register[K]) get(k K) (registration, bool) {
	v, ok := r.m[k]
	return v, ok
}

// put sets k, keeping its place when it is already there.
func (r *register[K]) put(k K, v registration) {
	if _, ok := r.m[k]; !ok {
		if len(r.order) >= MaxRegistered {
			delete(r.m, r.order[0])
			r.order = r.order[1:]
		}
		r.order = append(r.order, k)
	}
	r.m[k] = v
}

func (r *register[K]) keys() []K { return append([]K(nil), r.order...) }

// drop forgets k.
func (r *register[K]) drop(k K) {
	if _, ok := r.m[k]; !ok {
		return
	}
	delete(r.m, k)
	for i, o := range r.order {
		if o == k {
			r.order = append(r.order[:i], r.order[i+1:]...)
			break
		}
	}
}
