// Package overlay owns the peers of the WireGuard overlay that meets at this
// gateway, their groups and the policies that say who may reach whom.
//
// The Service keeps the whole overlay in memory, indexed for the API's
// lookups, and writes every change to the store before it changes memory,
// so what a caller was told happened survives a crash.
package overlay

import (
	"net/netip"
	"time"
)

// Peer is one WireGuard peer of the overlay.
type Peer struct {
	ID        string
	Name      string
	PublicKey string
	IP        netip.Addr
	// DNSLabel is the label only; the FQDN is DNSLabel + "." + the DNS domain.
	DNSLabel  string
	CreatedAt time.Time
	// CreatedBy is the id of the API token that created the peer.
	CreatedBy                   string
	SSHEnabled                  bool
	LoginExpirationEnabled      bool
	InactivityExpirationEnabled bool
	// ApprovalRequired holds a peer out of every policy until an admin
	// clears it.
	ApprovalRequired bool
	// Ephemeral marks a temporary-access peer: it is never in the All group
	// and is deleted once it disconnects or never connects in time.
	Ephemeral bool
}

// Status is the live connection state the WireGuard data plane reports. It
// lives in memory only: handshakes change every few seconds and flash wears.
type Status struct {
	Connected bool
	// Since is when the current connection began.
	Since    time.Time
	LastSeen time.Time
	Endpoint netip.AddrPort
	// LastHandshake is the latest WireGuard handshake; zero before any.
	LastHandshake time.Time
	// RxBytes and TxBytes count the tunnel's traffic from and to the peer
	// since the device learnt of it.
	RxBytes, TxBytes int64
	// everConnected tells a temporary peer that left from one that never came.
	everConnected bool
}

// Group is a named set of peers. The All group holds every peer that is
// not ephemeral; its member list is computed, never stored.
type Group struct {
	ID     string
	Name   string
	Peers  []string
	Issued string
	All    bool
	// Resources are networks behind the gateway that the group's policies
	// reach as they reach its peers (a LAN, or 0.0.0.0/0 for the internet).
	Resources []netip.Prefix `json:",omitempty"`
}

// Policy is a named list of rules.
type Policy struct {
	ID          string
	Name        string
	Description string
	Enabled     bool
	Rules       []Rule
}

// Protocols a rule may name.
const (
	ProtoAll  = "all"
	ProtoTCP  = "tcp"
	ProtoUDP  = "udp"
	ProtoICMP = "icmp"
)

// Rule lets Sources reach Destinations (and back, when Bidirectional).
// Each side is a list of group ids and optionally one peer id, the latter
// used by temporary access.
type Rule struct {
	ID              string
	Name            string
	Description     string
	Enabled         bool
	Action          string
	Bidirectional   bool
	Protocol        string
	Ports           []uint16
	PortRanges      []PortRange
	Sources         []string
	Destinations    []string
	SourcePeer      string
	DestinationPeer string
}

// PortRange is an inclusive range of ports.
type PortRange struct {
	Start uint16
	End   uint16
}

// GroupRef is how a peer's groups are shown.
type GroupRef struct {
	ID             string
	Name           string
	PeersCount     int
	ResourcesCount int
	Issued         string
}

// PeerInfo is a peer with everything the API shows about it.
type PeerInfo struct {
	Peer
	Status
	FQDN            string
	Groups          []GroupRef
	AccessibleCount int
}

// GroupInfo is a group with its resolved members.
type GroupInfo struct {
	Group
	Members []PeerRef
}

// PeerRef names a peer.
type PeerRef struct {
	ID   string
	Name string
}

// PolicyInfo is a policy whose rule sides are resolved to group names.
type PolicyInfo struct {
	Policy
	Groups map[string]GroupRef
}
