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

// PeerID returns the P2P id of a WireGuard public key.
func PeerID(publicKey string) string {
	k, err := wgkey.Parse(publicKey)
	if err != nil {
		return ""
	}
	return p2pid.FromKey(k).String()
}

// Connections returns the connected peers, sorted by name.
func (s *Service) Connections() []Connection {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Connection
	for id, stat := range s.st.status {
		if !stat.Connected {
			continue
		}
		p := s.st.peers[id]
		out = append(out, Connection{PeerID: PeerID(p.PublicKey), ID: id, Name: p.Name, PublicKey: p.PublicKey,
			Endpoint: stat.Endpoint, Since: stat.Since, LastSeen: stat.LastSeen})
	}
	slices.SortFunc(out, func(a, b Connection) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// PeersFrom returns the P2P ids of the peers connected from addr.
func (s *Service) PeersFrom(addr netip.Addr) []string {
	var out []string
	for _, c := range s.Connections() {
		if c.Endpoint.Addr().Unmap() == addr {
			out = append(out, c.PeerID)
		}
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
	// Compare hashes, not encoded ids: Base58 encoding every key of a
	// large overlay on each lookup would cost milliseconds.
	s.mu.RLock()
	var found string
	for id, p := range s.st.peers {
		if k, err := wgkey.Parse(p.PublicKey); err == nil && p2pid.FromKey(k) == want {
			found = id
			break
		}
	}
	s.mu.RUnlock()
	if found == "" {
		return PeerInfo{}, core.NotFound("no peer has id %s", peerID)
	}
	return s.Peer(found)
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
