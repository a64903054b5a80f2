package nic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/links"
	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/jsimonetti/rtnetlink/v2/rtnl"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Configure makes the named link match d, in this order: MTU (when d.MTU
// is not 0), admin state (when d.Up is set), static addresses (only when
// d.Manage is set: without it d.Addrs is ignored), default routes. It
// reads first and writes only what differs, so a second identical call
// changes nothing in the kernel. It is not atomic: a failing step leaves
// the earlier ones applied, and calling again carries on from there.
//
// With d.Manage, the link's static addresses (IFA_F_PERMANENT, outside
// fe80::/10 and 169.254/16) become exactly d.Addrs: missing ones are added
// (IPv4 with its broadcast address, except /31 and /32), others removed. A
// listed address the link holds with a finite lifetime is made permanent.
// Addresses with a finite lifetime (DHCP, SLAAC) and link-local ones are
// otherwise left alone, as are default routes installed by a DHCP client
// (proto dhcp) or from router advertisements (proto ra).
//
// A valid d.GatewayV4 (d.GatewayV6) makes the main table's default route
// of that family go through this link and gateway, with `ip route
// replace` semantics: the kernel replaces a default route of the same
// metric, whatever its link. With d.Manage, the link's other static
// default routes of that family are removed; a zero gateway removes them
// all. Multipath default routes are never changed.
//
// Errors match core.ErrNotFound for a missing link, core.ErrInvalid for
// values out of range or refused by the kernel (an MTU outside the
// driver's MinMTU-MaxMTU, a gateway it cannot reach through the link), and
// core.ErrPermission without CAP_NET_ADMIN.
func (n *NIC) Configure(ctx context.Context, name string, d links.Desired) error {
	want, err := check(d)
	if err != nil {
		return fmt.Errorf("configure %s: %w", name, err)
	}
	return n.call(ctx, func(c *rtnetlink.Conn) error {
		kl, err := linkByName(c, name)
		if err != nil {
			return fmt.Errorf("read link %s: %w", name, KernelErr(err))
		}
		if err := setMTU(c, &kl, d.MTU); err != nil {
			return err
		}
		if err := setAdmin(c, &kl, d.Up); err != nil {
			return err
		}
		if d.Manage {
			if err := syncAddrs(c, &kl, want); err != nil {
				return err
			}
		}
		return syncGateways(c, &kl, d)
	})
}

// check refuses what no kernel would take and returns d.Addrs without
// duplicates.
func check(d links.Desired) ([]netip.Prefix, error) {
	if d.MTU < 0 || int64(d.MTU) > math.MaxUint32 {
		return nil, fmt.Errorf("mtu %d: %w", d.MTU, core.ErrInvalid)
	}
	var want []netip.Prefix
	for _, p := range d.Addrs {
		a := p.Addr()
		if !p.IsValid() || a.Is4In6() || a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() {
			return nil, fmt.Errorf("address %s: %w", p, core.ErrInvalid)
		}
		if !slices.Contains(want, p) {
			want = append(want, p)
		}
	}
	if g := d.GatewayV4; g.IsValid() && (!g.Is4() || g.IsUnspecified()) {
		return nil, fmt.Errorf("ipv4 gateway %s: %w", g, core.ErrInvalid)
	}
	if g := d.GatewayV6; g.IsValid() && (!g.Is6() || g.Is4In6() || g.IsUnspecified()) {
		return nil, fmt.Errorf("ipv6 gateway %s: %w", g, core.ErrInvalid)
	}
	return want, nil
}

func setMTU(c *rtnetlink.Conn, kl *kernelLink, mtu int) error {
	name := kl.Attributes.Name
	if mtu == 0 || uint32(mtu) == kl.Attributes.MTU {
		return nil
	}
	if kl.MinMTU > 0 && uint32(mtu) < kl.MinMTU || kl.MaxMTU > 0 && uint32(mtu) > kl.MaxMTU {
		return fmt.Errorf("set mtu %d on %s: outside %d-%d: %w", mtu, name, kl.MinMTU, kl.MaxMTU, core.ErrInvalid)
	}
	err := c.Link.Set(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Type: kl.Type, Index: kl.Index,
		Attributes: &rtnetlink.LinkAttributes{MTU: uint32(mtu)}})
	if err != nil {
		return fmt.Errorf("set mtu %d on %s: %w", mtu, name, KernelErr(err, unix.EINVAL, unix.ERANGE))
	}
	return nil
}

func setAdmin(c *rtnetlink.Conn, kl *kernelLink, up *bool) error {
	if up == nil || *up == (kl.Flags&unix.IFF_UP != 0) {
		return nil
	}
	var flags uint32
	if *up {
		flags = unix.IFF_UP
	}
	err := c.Link.Set(&rtnetlink.LinkMessage{Family: unix.AF_UNSPEC, Type: kl.Type, Index: kl.Index,
		Flags: flags, Change: unix.IFF_UP})
	if err != nil {
		return fmt.Errorf("set %s up=%t: %w", kl.Attributes.Name, *up, KernelErr(err))
	}
	kl.Flags = kl.Flags&^unix.IFF_UP | flags
	return nil
}

// syncAddrs makes want the link's static addresses: stale ones go first,
// so that an IPv6 address can come back with another prefix length.
func syncAddrs(c *rtnetlink.Conn, kl *kernelLink, want []netip.Prefix) error {
	name := kl.Attributes.Name
	have, stale, err := staticAddrs(c, kl.Index, want)
	if err != nil {
		return fmt.Errorf("list addresses of %s: %w", name, KernelErr(err))
	}
	for _, m := range stale {
		err := c.Address.Delete(&m)
		if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) { // gone already
			return fmt.Errorf("remove address %s from %s: %w", ipAddr(m.Attributes.Local), name, KernelErr(err))
		}
	}
	if len(stale) > 0 {
		// Removing a primary IPv4 address takes its secondaries along
		// unless promote_secondaries is set: look again.
		if have, _, err = staticAddrs(c, kl.Index, want); err != nil {
			return fmt.Errorf("list addresses of %s: %w", name, KernelErr(err))
		}
	}
	for _, p := range want {
		if have[p] == links.AssignedStatic {
			continue
		}
		if err := addAddr(c, kl.Index, p); err != nil {
			return fmt.Errorf("add address %s to %s: %w", p, name, KernelErr(err, unix.EINVAL))
		}
	}
	return nil
}

// staticAddrs returns how the link holds each of its addresses, and the
// delete requests for the static ones not in want.
func staticAddrs(c *rtnetlink.Conn, index uint32, want []netip.Prefix) (map[netip.Prefix]string, []rtnetlink.AddressMessage, error) {
	msgs, err := listAddrs(c, index)
	if err != nil {
		return nil, nil, err
	}
	have := make(map[netip.Prefix]string, len(msgs))
	var stale []rtnetlink.AddressMessage
	for i := range msgs {
		a, ok := toAddr(&msgs[i])
		if !ok {
			continue
		}
		if a.AssignedBy == links.AssignedStatic && !slices.Contains(want, a.Prefix) {
			m := msgs[i]
			local := m.Attributes.Local
			if local == nil {
				local = m.Attributes.Address
			}
			stale = append(stale, rtnetlink.AddressMessage{Family: m.Family, PrefixLength: m.PrefixLength,
				Index: m.Index, Attributes: &rtnetlink.AddressAttributes{Address: m.Attributes.Address, Local: local}})
			continue
		}
		have[a.Prefix] = a.AssignedBy
	}
	return have, stale, nil
}

// addAddr adds p to the link as a permanent address, or makes it permanent
// where the link holds it with a finite lifetime (`ip addr replace`).
// rtnl.AddrAdd would refuse the latter (it sends NLM_F_EXCL) and gives /31
// and /32 a broadcast address, which RFC 3021 links do not have.
func addAddr(c *rtnetlink.Conn, index uint32, p netip.Prefix) error {
	a := p.Addr()
	ip := net.IP(a.AsSlice())
	m := &rtnetlink.AddressMessage{Family: unix.AF_INET6, PrefixLength: uint8(p.Bits()),
		Scope: unix.RT_SCOPE_UNIVERSE, Index: index,
		Attributes: &rtnetlink.AddressAttributes{Address: ip, Local: ip}}
	switch {
	case a.IsLoopback():
		m.Scope = unix.RT_SCOPE_HOST
	case a.IsLinkLocalUnicast():
		m.Scope = unix.RT_SCOPE_LINK
	}
	if a.Is4() {
		m.Family = unix.AF_INET
		if p.Bits() < 31 {
			m.Attributes.Broadcast = Broadcast(p)
		}
	}
	_, err := c.Execute(m, unix.RTM_NEWADDR,
		netlink.Request|netlink.Acknowledge|netlink.Create|netlink.Replace)
	return err
}

// Broadcast is the last address of IPv4 prefix p (the DHCP client
// gives its leased address one too).
func Broadcast(p netip.Prefix) net.IP {
	b := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	for i := range 4 {
		b[i] |= byte(host >> (24 - 8*i))
	}
	return net.IP(b[:])
}

// syncGateways sets or removes the link's default routes, IPv4 then IPv6.
func syncGateways(c *rtnetlink.Conn, kl *kernelLink, d links.Desired) error {
	if !d.Manage && !d.GatewayV4.IsValid() && !d.GatewayV6.IsValid() {
		return nil
	}
	name := kl.Attributes.Name
	routes, err := defaultRoutes(c, kl.Index)
	if err != nil {
		return fmt.Errorf("list default routes of %s: %w", name, KernelErr(err))
	}
	for _, f := range []struct {
		gw  netip.Addr
		is4 bool
	}{{d.GatewayV4, true}, {d.GatewayV6, false}} {
		own := slices.DeleteFunc(slices.Clone(routes), func(r defaultRoute) bool {
			return r.dynamic || r.multipath || (r.msg.Family == unix.AF_INET) != f.is4
		})
		if err := syncGateway(c, kl, own, f.gw, f.is4, d.Manage); err != nil {
			return err
		}
	}
	return nil
}

// syncGateway applies one family's gateway; own are the link's static,
// single-path default routes of that family.
func syncGateway(c *rtnetlink.Conn, kl *kernelLink, own []defaultRoute, gw netip.Addr, is4, manage bool) error {
	name := kl.Attributes.Name
	if gw.IsValid() && !slices.ContainsFunc(own, func(r defaultRoute) bool { return r.gw == gw }) {
		dst := net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
		if is4 {
			dst = net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}
		}
		rc := &rtnl.Conn{Conn: c}
		err := rc.RouteReplace(&net.Interface{Index: int(kl.Index)}, dst, net.IP(gw.AsSlice()))
		if err != nil {
			return fmt.Errorf("set default gateway %s on %s: %w", gw, name,
				KernelErr(err, unix.EINVAL, unix.ENETUNREACH, unix.EHOSTUNREACH, unix.ENETDOWN))
		}
	}
	if !manage {
		return nil
	}
	for _, r := range own {
		if gw.IsValid() && r.gw == gw {
			continue
		}
		m := r.msg
		req := &rtnetlink.RouteMessage{Family: m.Family, Table: m.Table, Protocol: m.Protocol,
			Scope: m.Scope, Type: m.Type, Attributes: rtnetlink.RouteAttributes{Gateway: m.Attributes.Gateway,
				OutIface: m.Attributes.OutIface, Priority: m.Attributes.Priority, Table: m.Attributes.Table}}
		err := c.Route.Delete(req)
		if err != nil && !errors.Is(err, unix.ESRCH) { // replaced or gone already
			return fmt.Errorf("remove default route via %s from %s: %w", r.gw, name, KernelErr(err))
		}
	}
	return nil
}
