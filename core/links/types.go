package links

import (
	"net/netip"
	"time"
)

// Bonding modes, as the API's bonding_mode. BondUnspecified is the
// original's default, which its clients send for a link that is not a
// bond: edgeward stores it as it is and bonds nothing.
const (
	BondActiveBackup = "ACTIVE_BACKUP"
	BondLACP         = "IEEE_8023AD"
	BondUnspecified  = "UNSPECIFIED"
)

// update_status values.
const (
	ChangesApplied = "CHANGES_APPLIED"
	ChangesPending = "CHANGES_PENDING"
	Unavailable    = "UNAVAILABLE"
)

// interface_status values: State maps every operstate onto one of them.
const (
	StateUp      = "UP"
	StateDown    = "DOWN"
	StateMissing = "MISSING"
)

// cable_status values.
const (
	CableConnected    = "CONNECTED"
	CableDisconnected = "DISCONNECTED"
	CableUnknown      = "UNKNOWN"
)

// Interface is the admin's config of one link. A zero gateway means none.
type Interface struct {
	ID               int
	Name             string // the kernel's name, as last seen; read-only
	DefaultGateway   netip.Addr
	DefaultGatewayV6 netip.Addr
	BondingMode      string
	MTU              int
}

// Network is one address configuration on an interface: untagged
// (VLANID 0) or on a VLAN. IPRanges and FloatingIPRanges keep the admin's
// spelling ("10.1.1.20-21"); Netmask is dotted or CIDR as given.
type Network struct {
	ID               int
	Name             string
	AssignedBy       string // one of the Assigned constants
	IPRanges         []string
	FloatingIPRanges []string
	Netmask          string
	DNSServers       []string
	DNSSearchDomains []string
	MTU              int
	VLANID           int
	// Adopted marks a network read off the kernel at first sight and not
	// written since: edgeward leaves its addresses and DHCP to whatever
	// set them up (on OpenWrt, netifd), so adopting a link changes nothing.
	Adopted bool
}

// InterfacePatch changes an interface. Nil fields keep their value, unless
// the write replaces the config (WriteOpts.Replace), where every field but
// ID and Name is required. ID and Name may be sent but not changed.
type InterfacePatch struct {
	ID               *int
	Name             *string
	DefaultGateway   *string
	DefaultGatewayV6 *string
	BondingMode      *string
	MTU              *int
}

// NetworkPatch changes or creates a network. Nil fields keep their value;
// on a replace (or a create) they take the zero value, and a zero MTU
// takes the interface's.
type NetworkPatch struct {
	ID               *int
	Name             *string
	AssignedBy       *string
	IPRanges         *[]string
	FloatingIPRanges *[]string
	Netmask          *string
	DNSServers       *[]string
	DNSSearchDomains *[]string
	MTU              *int
	VLANID           *int
}

// WriteOpts are the conditions of one write.
type WriteOpts struct {
	// IfMatch, when set, must equal the interface's current ETag (or be
	// "*"); otherwise the write fails with ErrStale.
	IfMatch string
	// ConfirmWithin > 0 restores the previous config unless Confirm is
	// called within it.
	ConfirmWithin time.Duration
	// ClientAddr is the local address the admin reached the router
	// through; a write that removes it needs ConfirmWithin. Zero: unknown.
	ClientAddr netip.Addr
	// Replace makes the write a PUT: fields left out are required or reset.
	Replace bool
}

// NodeStatus is how one node's link looks against its config.
type NodeStatus struct {
	NodeID       int
	NodeName     string
	UpdateStatus string
	Details      Details
	Interface    Interface
	Networks     []NetworkStatus
}

// Details are the link's kernel state, sampled at SampledAt.
type Details struct {
	SpeedMbps     int
	BytesSent     uint64
	BytesReceived uint64
	CableStatus   string // one of the Cable constants
	OperState     string // one of the Oper constants, as the kernel says
	State         string // one of the State constants: OperState and carrier mapped by State
	MAC           string
	SampledAt     time.Time
}

// NetworkStatus is one network as the node runs it.
type NetworkStatus struct {
	Name              string
	AssignedBy        string
	Address           string // the node's address on it; "" when it has none
	FloatingAddresses []string
	DNSServers        []string
	DNSSearchDomains  []string
	Netmask           string
	MTU               int
	VLANID            int
}
