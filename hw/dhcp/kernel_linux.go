//go:build linux

package dhcp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/hw/nic"
	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// routeMetric is the metric of the default route a lease installs. As in
// systemd-networkd, it is above 0 so that a static default route the admin
// configured (metric 0) wins over DHCP.
const routeMetric = 1024

// kernel applies leases with rtnetlink, in one namespace.
type kernel struct {
	rt *rtnetlink.Conn
	// nl sends RTM_NEWADDR itself: rtnetlink's AddressAttributes does not
	// encode IFA_CACHEINFO, which carries the lifetimes.
	nl *netlink.Conn
}

func dialKernel(netns int) (*kernel, error) {
	cfg := &netlink.Config{NetNS: netns}
	rt, err := rtnetlink.Dial(cfg)
	if err != nil {
		return nil, fmt.Errorf("dial rtnetlink: %w", nic.KernelErr(err))
	}
	nl, err := netlink.Dial(unix.NETLINK_ROUTE, cfg)
	if err != nil {
		rt.Close()
		return nil, fmt.Errorf("dial rtnetlink: %w", nic.KernelErr(err))
	}
	return &kernel{rt: rt, nl: nl}, nil
}

func (k *kernel) close() error { return errors.Join(k.rt.Close(), k.nl.Close()) }

// deadline bounds netlink calls, which take no ctx, by ctx.
func (k *kernel) deadline(ctx context.Context) error {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Now().Add(10 * time.Second)
	}
	return errors.Join(k.rt.SetReadDeadline(d), k.nl.SetReadDeadline(d))
}

// link returns the index and MAC of the named link, or an error matching
// core.ErrNotFound.
func (k *kernel) link(ctx context.Context, name string) (int, net.HardwareAddr, error) {
	if err := k.deadline(ctx); err != nil {
		return 0, nil, err
	}
	links, err := k.rt.Link.List()
	if err != nil {
		return 0, nil, fmt.Errorf("list links: %w", nic.KernelErr(err))
	}
	for _, l := range links {
		if l.Attributes != nil && l.Attributes.Name == name {
			return int(l.Index), l.Attributes.Address, nil
		}
	}
	return 0, nil, fmt.Errorf("link %q: %w", name, core.ErrNotFound)
}

// setAddr adds the lease's address to the link, or refreshes it, with
// valid and preferred lifetimes that end when the lease does.
func (k *kernel) setAddr(ctx context.Context, index int, l Lease, now time.Time) error {
	msg := addrMessage(index, l.Addr)
	b, err := msg.MarshalBinary()
	if err != nil {
		return fmt.Errorf("add address %s: %w", l.Addr, err)
	}
	life := lifetime(l, now)
	ci := make([]byte, 16) // struct ifa_cacheinfo: preferred, valid, cstamp, tstamp
	binary.NativeEndian.PutUint32(ci[0:4], life)
	binary.NativeEndian.PutUint32(ci[4:8], life)
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(unix.IFA_CACHEINFO, ci)
	extra, err := ae.Encode()
	if err != nil {
		return fmt.Errorf("add address %s: %w", l.Addr, err)
	}
	if err := k.deadline(ctx); err != nil {
		return err
	}
	_, err = k.nl.Execute(netlink.Message{
		Header: netlink.Header{
			Type:  unix.RTM_NEWADDR,
			Flags: netlink.Request | netlink.Acknowledge | netlink.Create | netlink.Replace,
		},
		Data: append(b, extra...),
	})
	if err != nil {
		return fmt.Errorf("add address %s: %w", l.Addr, nic.KernelErr(err))
	}
	return nil
}

// delAddr removes p from the link; a missing address is not an error.
func (k *kernel) delAddr(ctx context.Context, index int, p netip.Prefix) error {
	if err := k.deadline(ctx); err != nil {
		return err
	}
	err := k.rt.Address.Delete(addrMessage(index, p))
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("remove address %s: %w", p, nic.KernelErr(err))
	}
	return nil
}

// setRoute adds or replaces the default route via l.Router.
func (k *kernel) setRoute(ctx context.Context, index int, l Lease) error {
	msg := routeMessage(index, l.Router)
	msg.Attributes.Src = l.Addr.Addr().AsSlice()
	if !l.Addr.Masked().Contains(l.Router) {
		// A router outside the subnet is reachable only if we say it is
		// on the link; the kernel refuses the route otherwise.
		msg.Flags |= unix.RTNH_F_ONLINK
	}
	if err := k.deadline(ctx); err != nil {
		return err
	}
	if err := k.rt.Route.Replace(msg); err != nil {
		return fmt.Errorf("add default route via %s: %w", l.Router, nic.KernelErr(err))
	}
	return nil
}

// delRoute removes the default route via gw that setRoute added; a missing
// route is not an error.
func (k *kernel) delRoute(ctx context.Context, index int, gw netip.Addr) error {
	if err := k.deadline(ctx); err != nil {
		return err
	}
	err := k.rt.Route.Delete(routeMessage(index, gw))
	if err != nil && !errors.Is(err, unix.ESRCH) && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("remove default route via %s: %w", gw, nic.KernelErr(err))
	}
	return nil
}

func addrMessage(index int, p netip.Prefix) *rtnetlink.AddressMessage {
	ip := p.Addr().AsSlice()
	attrs := &rtnetlink.AddressAttributes{Address: ip, Local: ip}
	if p.Bits() < 31 {
		attrs.Broadcast = nic.Broadcast(p)
	}
	return &rtnetlink.AddressMessage{
		Family:       unix.AF_INET,
		PrefixLength: uint8(p.Bits()),
		Scope:        unix.RT_SCOPE_UNIVERSE,
		Index:        uint32(index),
		Attributes:   attrs,
	}
}

func routeMessage(index int, gw netip.Addr) *rtnetlink.RouteMessage {
	return &rtnetlink.RouteMessage{
		Family:   unix.AF_INET,
		Table:    unix.RT_TABLE_MAIN,
		Protocol: unix.RTPROT_DHCP,
		Scope:    unix.RT_SCOPE_UNIVERSE,
		Type:     unix.RTN_UNICAST,
		Attributes: rtnetlink.RouteAttributes{
			Gateway:  gw.AsSlice(),
			OutIface: uint32(index),
			Priority: routeMetric,
		},
	}
}

// lifetime is the seconds left of l at now, rounded up, at least 1 and
// below the kernel's "forever" (0xffffffff): an infinite lease still shows
// as a dynamic address.
func lifetime(l Lease, now time.Time) uint32 {
	left := l.Obtained.Add(l.Duration).Sub(now)
	s := (left + time.Second - 1) / time.Second
	switch {
	case s < 1:
		return 1
	case s >= math.MaxUint32:
		return math.MaxUint32 - 1
	}
	return uint32(s)
}
