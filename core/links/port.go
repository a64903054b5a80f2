// Package links owns the router's network interfaces as the admin wants
// them: stable interface ids, the desired interface and network config,
// whether the kernel matches it (update_status), and the
// confirm-or-rollback guard against locking the admin out.
package links

import (
	"context"
	"net/netip"
	"time"
)

// Kernel is the port hw/nic implements over rtnetlink and ethtool.
type Kernel interface {
	// Links reads every link of the namespace with its state, counters,
	// addresses and default gateways, sampled now.
	Links(ctx context.Context) ([]Link, error)
	// Configure makes the kernel match d for the named link: MTU, admin
	// state, exactly d.Addrs as its static addresses (addresses the kernel
	// marks dynamic, from DHCP, and link-local ones are left alone), and
	// the default routes through it. It is idempotent. Errors: ErrNotFound
	// for a missing link, ErrInvalid for values the kernel refuses (an MTU
	// out of range), ErrPermission without CAP_NET_ADMIN.
	Configure(ctx context.Context, name string, d Desired) error
}

// VLANMaker is implemented by kernels that can create VLAN links; a
// tagged network whose VLAN link is missing gets one. Kernels without
// 802.1Q support answer ErrUnsupported, and the network stays pending.
type VLANMaker interface {
	AddVLAN(ctx context.Context, parent string, id int) error
}

// Oper states, as the kernel's IF_OPER_* and the API's interface_status.
const (
	OperUnknown        = "UNKNOWN"
	OperNotPresent     = "NOTPRESENT"
	OperDown           = "DOWN"
	OperLowerLayerDown = "LOWERLAYERDOWN"
	OperTesting        = "TESTING"
	OperDormant        = "DORMANT"
	OperUp             = "UP"
	OperMissing        = "MISSING" // edgeward's own: the configured link is gone
)

// Link is one kernel link at one moment.
type Link struct {
	Index int
	Name  string
	MAC   string
	Kind  string // "veth", "bridge", "vlan", "bond", ...; "" for a physical NIC
	MTU   int
	// MinMTU and MaxMTU bound what the driver accepts (0: not reported).
	MinMTU, MaxMTU int
	AdminUp        bool
	OperState      string // one of the Oper constants
	// Carrier is the kernel's carrier flag; nil when it does not say.
	Carrier *bool
	// SpeedMbps is ethtool's speed; 0 when the driver does not know it.
	SpeedMbps int
	Duplex    string // "full", "half" or "" when unknown
	// LinkDetected is ethtool's "Link detected"; nil when unknown.
	LinkDetected     *bool
	RxBytes, TxBytes uint64
	VLANID           int    // VLAN links only
	ParentIndex      int    // VLAN links: the link they ride on
	BondMode         string // bonds only: "ACTIVE_BACKUP", "IEEE_8023AD", ...
	Addrs            []Addr
	GatewayV4        netip.Addr // default route through this link, if any
	GatewayV6        netip.Addr
	SampledAt        time.Time
}

// How an address came to be, as the API's assigned_by.
const (
	AssignedStatic    = "STATIC"
	AssignedDHCP      = "DHCP"
	AssignedLinkLocal = "LINK_LOCAL"
)

// Addr is an address on a link.
type Addr struct {
	Prefix     netip.Prefix
	AssignedBy string // one of the Assigned constants
}

// Desired is what Configure makes a link look like. Zero values leave
// that part alone, except Addrs and the gateways when Manage is set.
type Desired struct {
	MTU int
	Up  *bool
	// Manage says that Addrs and the gateways are the whole truth: static
	// addresses not listed are removed, and a zero gateway removes the
	// default route through this link.
	Manage    bool
	Addrs     []netip.Prefix
	GatewayV4 netip.Addr
	GatewayV6 netip.Addr
}
