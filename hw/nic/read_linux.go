package nic

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// maxDumpTries bounds the retries of a dump the kernel marks interrupted
// (NLM_F_DUMP_INTR: the table changed while it was being read). After the
// last try the reply is used as it is: it is still a list of real entries.
const maxDumpTries = 3

// kernelLink is a link message plus IFLA_MIN_MTU and IFLA_MAX_MTU, which
// rtnetlink/v2 does not decode (0: not reported).
type kernelLink struct {
	rtnetlink.LinkMessage
	MinMTU, MaxMTU uint32
}

// exchange sends req and returns the replies, decoded and raw. Unlike
// Conn.Execute it returns the raw messages too: they carry the attributes
// the library skips and the interrupted-dump flag, on which it retries.
func exchange(c *rtnetlink.Conn, req rtnetlink.Message, typ uint16, flags netlink.HeaderFlags) ([]rtnetlink.Message, []netlink.Message, error) {
	for try := 1; ; try++ {
		sent, err := c.Send(req, typ, netlink.Request|flags)
		if err != nil {
			return nil, nil, err
		}
		msgs, raw, err := c.Receive()
		if err != nil {
			return nil, nil, err
		}
		if err := netlink.Validate(sent, raw); err != nil {
			return nil, nil, err
		}
		if try < maxDumpTries && interrupted(raw) {
			continue
		}
		return msgs, raw, nil
	}
}

func interrupted(raw []netlink.Message) bool {
	for _, m := range raw {
		if m.Header.Flags&netlink.DumpInterrupted != 0 {
			return true
		}
	}
	return false
}

// getLinks asks for links: all of them with netlink.Dump, else the one
// req names.
func getLinks(c *rtnetlink.Conn, req *rtnetlink.LinkMessage, flags netlink.HeaderFlags) ([]kernelLink, error) {
	msgs, raw, err := exchange(c, req, unix.RTM_GETLINK, flags)
	if err != nil {
		return nil, err
	}
	if len(msgs) != len(raw) {
		// Every reply to RTM_GETLINK is an RTM_NEWLINK, which the library
		// decodes in order; anything else would break the pairing below.
		return nil, fmt.Errorf("rtnetlink: %d link messages in %d replies", len(msgs), len(raw))
	}
	out := make([]kernelLink, 0, len(msgs))
	for i, m := range msgs {
		lm, ok := m.(*rtnetlink.LinkMessage)
		if !ok || lm.Attributes == nil {
			continue
		}
		kl := kernelLink{LinkMessage: *lm}
		kl.MinMTU, kl.MaxMTU = mtuBounds(raw[i].Data)
		out = append(out, kl)
	}
	return out, nil
}

// linkByName returns the named link; a missing one gives an error
// matching unix.ENODEV.
func linkByName(c *rtnetlink.Conn, name string) (kernelLink, error) {
	req := &rtnetlink.LinkMessage{Attributes: &rtnetlink.LinkAttributes{Name: name}}
	ls, err := getLinks(c, req, 0)
	if err != nil {
		return kernelLink{}, err
	}
	if len(ls) != 1 || ls[0].Attributes.Name != name {
		return kernelLink{}, fmt.Errorf("rtnetlink: %d links answer to %q: %w", len(ls), name, unix.ENODEV)
	}
	return ls[0], nil
}

// mtuBounds reads IFLA_MIN_MTU and IFLA_MAX_MTU from a raw RTM_NEWLINK.
func mtuBounds(data []byte) (lo, hi uint32) {
	if len(data) <= unix.SizeofIfInfomsg {
		return 0, 0
	}
	ad, err := netlink.NewAttributeDecoder(data[unix.SizeofIfInfomsg:])
	if err != nil {
		return 0, 0
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.IFLA_MIN_MTU:
			lo = ad.Uint32()
		case unix.IFLA_MAX_MTU:
			hi = ad.Uint32()
		}
	}
	if ad.Err() != nil {
		return 0, 0
	}
	return lo, hi
}

// listAddrs returns the addresses of link index, or of every link for 0.
func listAddrs(c *rtnetlink.Conn, index uint32) ([]rtnetlink.AddressMessage, error) {
	msgs, _, err := exchange(c, &rtnetlink.AddressMessage{Index: index}, unix.RTM_GETADDR, netlink.Dump)
	if err != nil {
		return nil, err
	}
	out := make([]rtnetlink.AddressMessage, 0, len(msgs))
	for _, m := range msgs {
		am, ok := m.(*rtnetlink.AddressMessage)
		if !ok || am.Attributes == nil || index != 0 && am.Index != index {
			continue
		}
		out = append(out, *am)
	}
	return out, nil
}

// defaultRoute is one way out of a link by a default route of the main
// table: the route itself, or one next hop of a multipath route.
type defaultRoute struct {
	index     uint32
	gw        netip.Addr // zero for a route straight through the link
	metric    uint32
	dynamic   bool // installed by a DHCP client or from router advertisements
	multipath bool
	msg       rtnetlink.RouteMessage
}

// defaultRoutes returns the default routes of the main table, IPv4 then
// IPv6, through link index or through any link for 0.
func defaultRoutes(c *rtnetlink.Conn, index uint32) ([]defaultRoute, error) {
	var out []defaultRoute
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		req := &rtnetlink.RouteMessage{Family: family, Table: unix.RT_TABLE_MAIN,
			Attributes: rtnetlink.RouteAttributes{OutIface: index}}
		msgs, _, err := exchange(c, req, unix.RTM_GETROUTE, netlink.Dump)
		// A namespace where no route was ever added has no main table
		// yet, and the kernel says "FIB table does not exist": no routes.
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if rm, ok := m.(*rtnetlink.RouteMessage); ok {
				out = appendDefault(out, rm, index)
			}
		}
	}
	return out, nil
}

// appendDefault adds rm to out when it is a unicast default route of the
// main table through link index (any link for 0).
func appendDefault(out []defaultRoute, rm *rtnetlink.RouteMessage, index uint32) []defaultRoute {
	table := uint32(rm.Table)
	if rm.Attributes.Table != 0 {
		table = rm.Attributes.Table
	}
	if rm.DstLength != 0 || table != unix.RT_TABLE_MAIN || rm.Type != unix.RTN_UNICAST {
		return out
	}
	dynamic := rm.Protocol == unix.RTPROT_DHCP || rm.Protocol == unix.RTPROT_RA
	if len(rm.Attributes.Multipath) == 0 {
		if index == 0 || rm.Attributes.OutIface == index {
			out = append(out, defaultRoute{index: rm.Attributes.OutIface, gw: ipAddr(rm.Attributes.Gateway),
				metric: rm.Attributes.Priority, dynamic: dynamic, msg: *rm})
		}
		return out
	}
	for _, nh := range rm.Attributes.Multipath {
		if index == 0 || nh.Hop.IfIndex == index {
			out = append(out, defaultRoute{index: nh.Hop.IfIndex, gw: ipAddr(nh.Gateway),
				metric: rm.Attributes.Priority, dynamic: dynamic, multipath: true, msg: *rm})
		}
	}
	return out
}

// ipAddr converts a 4- or 16-byte IP; anything else gives the zero Addr.
func ipAddr(ip []byte) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return a.Unmap()
}
