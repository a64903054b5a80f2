package overlay

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/p2pid"
	"github.com/edgeward/edgeward/core/wgkey"
)

// Connection is a running WireGuard session of a peer, as the P2P dialect
// shows it.
type Connection struct {
	PeerID    string // Base58Check id of the peer's public key
	ID        string // the overlay's peer id
	Name      string
	PublicKey string
	Endpoint  netip.AddrPort
	Since     time.Time
	LastSeen  time.Time
}

// PeerID returns the P2P id of a WireGuard public key, or "" for a string
// that is not one.
func PeerID(publicKey string) string {
	id, ok := p2pID(publicKey)
	if !ok {
		return ""
	}
	return id.String()
}

func p2pID(publicKey string) (p2pid.ID, bool) {
	k, err := wgkey.Parse(publicKey)
	if err != nil {
		return p2pid.ID{}, false
	}
	return p2pid.FromKey(k), true
}

// Connections returns the connected peers, sorted by name.
func (s *Service) Connections() []Connection {
	return s.connections(func(*Status) bool { return true })
}

// connections returns the connected peers whose status match accepts,
// sorted by name. Only those are Base58 encoded, which is the costly part.
func (s *Service) connections(match func(*Status) bool) []Connection {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Connection
	for id, stat := range s.st.status {
		if !stat.Connected || !match(stat) {
			continue
		}
		p := s.st.peers[id]
		out = append(out, Connection{PeerID: PeerID(p.PublicKey), ID: id, Name: p.Name, PublicKey: p.PublicKey,
			Endpoint: stat.Endpoint, Since: stat.Since, LastSeen: stat.LastSeen})
	}
	slices.SortFunc(out, func(a, b Connection) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// PeersFrom returns the P2P ids of the peers connected from addr, sorted
// by name. It runs for every greylisting, so it encodes only their ids.
func (s *Service) PeersFrom(addr netip.Addr) []string {
	var out []string
	for _, c := range s.connections(func(st *Status) bool { return st.Endpoint.Addr().Unmap() == addr }) {
		out = append(out, c.PeerID)
	}
	return out
}

// ByPeerID returns the peer whose public key has this P2P id.
// Errors: ErrNotFound.
func (s *Service) ByPeerID(peerID string) (PeerInfo, error) {
	want, err := p2pid.Parse(peerID)
	if err != nil {
		return PeerInfo{}, core.NotFound("no peer has id %s", peerID)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.st.byP2P[want]
	if !ok {
		return PeerInfo{}, core.NotFound("no peer has id %s", peerID)
	}
	return s.info(s.st, s.st.peers[id]), nil
}

// Disconnect ends the peer's running connection, as far as the gateway
// tracks it. It reports whether the peer was connected.
func (s *Service) Disconnect(ctx context.Context, peerID string) (bool, error) {
	p, err := s.ByPeerID(peerID)
	if err != nil || !p.Connected {
		return false, nil
	}
	return true, s.SetConnected(ctx, p.PublicKey, false, netip.AddrPort{})
}
