package acl

import (
	"context"
	"net/netip"
	"time"
)

// Firewall is the kernel-facing port the ACL drives. hw/nft implements it
// on nftables with one table, inet edgeward, that it never shares.
//
// The store, not the kernel, is the source of truth: the ACL never asks the
// firewall to list its large sets (reading a set back costs time that grows
// with the square of its size). Only the small kernel-fed greylist is read.
type Firewall interface {
	// Install replaces the whole table (chains, rules, sets, elements) with
	// rs in one atomic transaction. It is idempotent.
	Install(ctx context.Context, rs Ruleset) error
	// Apply changes elements, in one transaction up to some 20,000
	// elements and in a few for more. Re-adding an element restarts its
	// timeout (the adapter deletes and re-adds it: a kernel restarts a
	// timer on a plain re-add only when the timeout value differs).
	Apply(ctx context.Context, d Delta) error
	// KernelGreylist returns what the greylist sets hold: entries the ACL
	// added and entries the kernel added itself when a source flooded a
	// guarded port. These sets are small (Ruleset.GreySize).
	KernelGreylist(ctx context.Context) ([]Grey, error)
	// Check reports whether the table is as the last Install or Apply left
	// it. Drifted is true when the table, a chain, a rule or a set is
	// missing, or when the ruleset changed behind the adapter's back (its
	// generation moved without the adapter writing).
	Check(ctx context.Context) (Health, error)
	// Cut deletes the connection-tracking entries whose source lies in p,
	// so established (and offloaded) flows of a banned source end now.
	Cut(ctx context.Context, p netip.Prefix) (int, error)
}

// Ruleset is the whole desired table.
type Ruleset struct {
	// GuardPorts are the TCP and UDP ports (the API's and WireGuard's) where
	// completed TCP handshakes from one source above Rate per second (after
	// Burst) put that source into the greylist, inside the kernel. On UDP
	// only WireGuard handshake initiations count, and above the rate they
	// are dropped without greylisting (nothing proves their source). A
	// greylisted source loses the guarded ports only.
	GuardPorts []uint16
	Rate       uint32
	Burst      uint32
	// GreyTimeout is how long the kernel greylists a flooding source.
	GreyTimeout time.Duration
	// GreySize caps each greylist set (IPv4 and IPv6). A full set greylists
	// no one new: the kernel fails open.
	GreySize uint32
	// Trust and BanNets are the address ranges (single addresses included
	// for Trust) kept in small interval sets. Overlaps are allowed; the
	// adapter merges them.
	Trust   []netip.Prefix
	BanNets []netip.Prefix
	// NeverGrey are ranges the kernel never meters nor greylists: the
	// gateway's own addresses, its upstreams, the admins' LAN.
	NeverGrey []netip.Prefix
	// Elements are the single-address entries: bans, per-port bans and
	// greylist entries, each with its remaining timeout.
	Elements []Element
}

// Kind says which set an element belongs to.
type Kind uint8

// Element kinds.
const (
	KindBan     Kind = iota + 1 // one address, every port
	KindBanPort                 // one address, one destination port (TCP and UDP)
	KindGrey                    // one address, greylisted
)

// Element is one single-address entry of a hash set.
type Element struct {
	Kind Kind
	Addr netip.Addr
	Port uint16 // KindBanPort only
	// Timeout is how long the element stays; zero means for good, except
	// for KindGrey, where zero means the ruleset's GreyTimeout.
	Timeout time.Duration
}

// Delta is a change of elements. Nets, when not nil, replaces the whole
// content of the interval sets (they are small, and merging ranges is
// simplest done whole).
type Delta struct {
	Add    []Element
	Remove []Element
	Nets   *Nets
	// Fresh are elements the ACL knows the kernel does not hold: a plain
	// add, a third of the work of Add's restart, which is what makes a
	// bulk ban of 100,000 new addresses fast.
	Fresh []Element
}

// Nets is the content of the interval sets.
type Nets struct {
	Trust   []netip.Prefix
	BanNets []netip.Prefix
}

// Grey is one greylist set element as the kernel holds it.
type Grey struct {
	Addr    netip.Addr
	Expires time.Duration // time left
}

// Health is the result of Check.
type Health struct {
	Drifted bool
	Why     string // what was found, for the event log
}
