package p2pview

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/edgeward/edgeward/core/overlay"
)

// Peer is what edgeward knows of one peer id.
type Peer struct {
	ID string // the P2P id (Base58Check of the WireGuard key)
	// OverlayID and Name are the overlay peer's; empty for a peer id no
	// overlay peer has (one the ACL or the register knows).
	OverlayID string
	Name      string
	// Trusted, Banned and Greylisted are the ACL's state of the id.
	Trusted, Banned, Greylisted bool
	// State is Running while connected, else Disconnected.
	State string
	// Endpoint is where the peer was last seen from; invalid when never.
	Endpoint netip.AddrPort
	// LastSeen is the last handshake the gateway saw; zero when never.
	LastSeen time.Time
	// RxBytes and TxBytes count the tunnel's traffic from and to the peer.
	RxBytes, TxBytes int64
}

// Peers returns every known peer: the overlay's peers (those whose key
// has a P2P id) in the overlay's order, then the registered ids no overlay
// peer has, sorted.
func (v *View) Peers() []Peer {
	var out []Peer
	have := map[string]bool{}
	for _, p := range v.ov.Peers(overlay.Filter{}) {
		id := overlay.PeerID(p.PublicKey)
		if id == "" {
			continue // a key that is not a WireGuard key has no P2P id
		}
		have[id] = true
		out = append(out, v.peer(id, &p))
	}
	v.mu.Lock()
	ids := v.peers.keys()
	v.mu.Unlock()
	slices.SortFunc(ids, strings.Compare)
	for _, id := range ids {
		if !have[id] {
			out = append(out, v.peer(id, nil))
		}
	}
	return out
}

// Peer is what is known of one peer id. known is false when no overlay
// peer has it, the ACL holds nothing for it and it is not registered.
func (v *View) Peer(id string) (p Peer, known bool) {
	if info, err := v.ov.ByPeerID(id); err == nil {
		return v.peer(id, &info), true
	}
	p = v.peer(id, nil)
	v.mu.Lock()
	_, registered := v.peers.get(id)
	v.mu.Unlock()
	return p, registered || p.Trusted || p.Banned || p.Greylisted
}

// RegisterPeer makes id known, as the original's pool registers a peer a
// client names. In memory only and bounded, as Register.
func (v *View) RegisterPeer(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.peers.get(id); !ok {
		v.peers.put(id, registration{at: v.now()})
	}
}

// peer joins the ACL's state of id with the overlay peer info (nil: none).
func (v *View) peer(id string, info *overlay.PeerInfo) Peer {
	st := v.acl.Peer(id)
	p := Peer{ID: id, Trusted: st.Trusted, Banned: st.Banned, Greylisted: st.Greylisted, State: Disconnected}
	if info == nil {
		return p
	}
	p.OverlayID, p.Name, p.RxBytes, p.TxBytes, p.LastSeen = info.ID, info.Name, info.RxBytes, info.TxBytes, info.LastSeen
	if info.Endpoint.IsValid() {
		p.Endpoint = unmap(info.Endpoint)
	}
	if info.Connected {
		p.State = Running
	}
	return p
}

// Connection is a running WireGuard session as the dialect and the page
// show it.
type Connection struct {
	PeerID    string
	OverlayID string
	Name      string
	PublicKey string
	// Endpoint is where the peer connects from (IPv4 unmapped); invalid
	// when unknown.
	Endpoint netip.AddrPort
	Since    time.Time
	LastSeen time.Time
	// Incoming is always true: WireGuard peers dial the gateway, which
	// never dials them.
	Incoming bool
	// Trusted and Banned are the ACL's state of the peer id.
	Trusted, Banned bool
}

// Connections returns the running connections whose peers have a P2P id,
// sorted by name.
func (v *View) Connections() []Connection {
	var out []Connection
	for _, c := range v.ov.Connections() {
		if c.PeerID == "" {
			continue
		}
		st := v.acl.Peer(c.PeerID)
		conn := Connection{PeerID: c.PeerID, OverlayID: c.ID, Name: c.Name, PublicKey: c.PublicKey, Since: c.Since,
			LastSeen: c.LastSeen, Incoming: true, Trusted: st.Trusted, Banned: st.Banned}
		if c.Endpoint.IsValid() {
			conn.Endpoint = unmap(c.Endpoint)
		}
		out = append(out, conn)
	}
	return out
}

// Connection returns the running connection of peer id.
func (v *View) Connection(id string) (Connection, bool) {
	for _, c := range v.Connections() {
		if c.PeerID == id {
			return c, true
		}
	}
	return Connection{}, false
}
