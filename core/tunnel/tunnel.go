// Package tunnel is the overlay's data plane as the rest of core sees it:
// the WireGuard device that carries the peers' tunnels and the kernel
// filter that enforces the policies between them. It declares what it
// needs from the kernel (Device, Filter); hw/wg and hw/nft implement it.
package tunnel

import (
	"context"
	"net/netip"
	"time"
)

// Device is the gateway's WireGuard interface.
type Device interface {
	// Configure adds or replaces the peers in set (matched by public key)
	// and removes the peers whose keys are in remove, in one call. Peers
	// named in neither are not touched: a change costs one peer, not a
	// rewrite of the device.
	Configure(ctx context.Context, set []Peer, remove []string) error
	// Peers returns every peer the device holds, with its live state.
	Peers(ctx context.Context) ([]PeerStat, error)
}

// Peer is a peer as the device holds it.
type Peer struct {
	PublicKey string // base64, as wg(8) prints it
	// PresharedKey is base64; "" means none.
	PresharedKey string
	AllowedIPs   []netip.Prefix
	// Endpoint, when valid, is where the device sends until the peer
	// shows up elsewhere: its last known address, so that after a restart
	// the gateway can handshake first. Configure sets it only when valid.
	Endpoint netip.AddrPort
}

// PeerStat is a device peer with what WireGuard knows of it.
type PeerStat struct {
	Peer
	// Endpoint is where its packets last came from; invalid before any.
	Endpoint netip.AddrPort
	// LastHandshake is zero when there never was one.
	LastHandshake time.Time
	RxBytes       int64
	TxBytes       int64
}

// Filter enforces in the kernel who may reach whom through the gateway.
type Filter interface {
	// InstallPolicy replaces the overlay's chains, rules and sets (group
	// members and resources included) in one transaction. Install of the
	// ACL keeps the last installed policy.
	InstallPolicy(ctx context.Context, p Policy) error
	// ApplyMembers adds and removes group members: one set element each,
	// no rule is rewritten. Groups not in the installed policy are an
	// error matching core.ErrInvalid.
	ApplyMembers(ctx context.Context, d Members) error
}

// Policy is the whole of what the kernel enforces for the overlay.
type Policy struct {
	// Interface is the WireGuard interface's name: traffic entering the
	// gateway through it is the overlay's.
	Interface string
	// Gateway is the gateway's own overlay address; Network the overlay.
	Gateway netip.Addr
	Network netip.Prefix
	// Services are what peers may reach on the gateway itself (DNS, echo,
	// the API when it listens on the overlay). Anything else from the
	// overlay to the gateway is dropped.
	Services []Service
	Groups   []Group
	// Rules are one-way: a bidirectional policy rule arrives as two.
	Rules []Rule
}

// Service is one protocol and port range open on the gateway's overlay
// address. Ports are ignored for ProtoICMP (echo request only).
type Service struct {
	Protocol string
	Ports    PortRange
}

// Group is a set of peers (their overlay addresses) and the networks
// behind the gateway that are reachable as its members.
type Group struct {
	ID        string
	Members   []netip.Addr
	Resources []netip.Prefix
}

// Rule lets new connections from a source to a destination through. A side
// is a group (by ID) or one peer address (temporary access), never both.
// A destination group's Resources are reached as its members are, and the
// traffic to them is masqueraded out of the link that routes it.
type Rule struct {
	FromGroup string
	FromAddr  netip.Addr
	ToGroup   string
	ToAddr    netip.Addr
	// Protocol is ProtoAll, ProtoTCP, ProtoUDP or ProtoICMP.
	Protocol string
	// Ports apply to TCP and UDP; none means every port.
	Ports []PortRange
}

// Protocols of rules and services.
const (
	ProtoAll  = "all"
	ProtoTCP  = "tcp"
	ProtoUDP  = "udp"
	ProtoICMP = "icmp"
)

// PortRange is inclusive; a single port has First == Last.
type PortRange struct {
	First, Last uint16
}

// Members is a change of group membership.
type Members struct {
	Add    []Member
	Remove []Member
}

// Member is one peer address in one group.
type Member struct {
	Group string
	Addr  netip.Addr
}
