package nft

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/mdlayher/netlink"
	vnl "github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Cut deletes the conntrack entries whose original source lies in p and
// returns how many it deleted, so that established (and offloaded) flows
// of a banned source end now instead of living on in conntrack. Without
// conntrack netlink support in the kernel it returns an error matching
// core.ErrUnsupported.
//
// A single address (the usual ban) is cut by the kernel: a dump and a
// flush both filtered on the original source (CTA_FILTER, Linux 6.3+), so
// the cost does not grow with the table. A wider prefix, or an older
// kernel, reads the whole table of p's family and deletes matches one by
// one. Cut does not hold the writer's lock, so it never delays Install or
// Apply.
func (f *Firewall) Cut(ctx context.Context, p netip.Prefix) (int, error) {
	p, err := normalPrefix(p)
	if err != nil {
		return 0, fmt.Errorf("cut: %w", err)
	}
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return 0, errClosed
	}
	if p.IsSingleIP() {
		n, err := f.cutFiltered(ctx, p.Addr())
		if err == nil || !errors.Is(err, errNoFilter) {
			return n, err
		}
	}
	return f.cutScan(ctx, p)
}

// cutScan deletes the entries from p by reading the whole table.
func (f *Firewall) cutScan(ctx context.Context, p netip.Prefix) (int, error) {
	ns := netns.None()
	if f.nsFD != 0 {
		ns = netns.NsHandle(f.nsFD)
	}
	h, err := vnl.NewHandleAt(ns, unix.NETLINK_NETFILTER)
	if err != nil {
		return 0, fmt.Errorf("cut: open conntrack socket: %w", mapErr(err))
	}
	defer h.Close()
	timeout := defaultTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if timeout <= 0 {
		return 0, fmt.Errorf("cut: %w", context.DeadlineExceeded)
	}
	if err := h.SetSocketTimeout(timeout); err != nil {
		return 0, fmt.Errorf("cut: set socket timeout: %w", err)
	}
	family := vnl.InetFamily(unix.AF_INET)
	if p.Addr().Is6() {
		family = unix.AF_INET6
	}
	filter := &vnl.ConntrackFilter{}
	ipNet := &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
	if err := filter.AddIPNet(vnl.ConntrackOrigSrcIP, ipNet); err != nil {
		return 0, fmt.Errorf("cut: %w", err)
	}
	n, err := h.ConntrackDeleteFilters(vnl.ConntrackTable, family, filter)
	if err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EPROTONOSUPPORT) {
			err = fmt.Errorf("%w: %w", core.ErrUnsupported, err)
		}
		return int(n), fmt.Errorf("cut conntrack entries from %s: %w", p, mapErr(err))
	}
	return int(n), nil
}

// ctnetlink message types, attributes and filter flags
// (linux/netfilter/nfnetlink_conntrack.h); x/sys/unix lacks the filter.
const (
	ctMsgGet      = 1
	ctMsgDelete   = 2
	ctaTupleOrig  = 1
	ctaTupleIP    = 1
	ctaIPv4Src    = 1
	ctaIPv6Src    = 3
	ctaFilter     = 25
	ctaFilterOrig = 1
	ctaFilterRepl = 2
	ctFilterIPSrc = 1 << 0
)

// errNoFilter says the kernel cannot filter conntrack deletes.
var errNoFilter = errors.New("no conntrack filter")

// cutFiltered finds the entries whose original source is a with one
// filtered dump (the kernel walks the table once, a few entries come back)
// and deletes each by its tuple. The dump carries an original tuple, so a
// kernel without the filter refuses it. A filtered flush would walk the
// table a second time and say nothing of how many it ended.
func (f *Firewall) cutFiltered(ctx context.Context, a netip.Addr) (int, error) {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: f.nsFD})
	if err != nil {
		return 0, fmt.Errorf("cut: open conntrack socket: %w", mapErr(err))
	}
	defer c.Close()
	deadline(ctx, c)
	family, src, ipAttr := byte(unix.AF_INET), a.AsSlice(), uint16(ctaIPv4Src)
	if a.Is6() {
		family, ipAttr = unix.AF_INET6, ctaIPv6Src
	}
	ae := netlink.NewAttributeEncoder()
	ae.Nested(ctaTupleOrig, func(ae *netlink.AttributeEncoder) error {
		ae.Nested(ctaTupleIP, func(ae *netlink.AttributeEncoder) error {
			ae.Bytes(ipAttr, src)
			return nil
		})
		return nil
	})
	ae.Nested(ctaFilter, func(ae *netlink.AttributeEncoder) error {
		ae.Uint32(ctaFilterOrig, ctFilterIPSrc)
		ae.Uint32(ctaFilterRepl, 0)
		return nil
	})
	attrs, err := ae.Encode()
	if err != nil {
		return 0, fmt.Errorf("cut: encode filter: %w", err)
	}
	// nfgenmsg: family, version 0, resource id 0.
	data := append([]byte{family, unix.NFNETLINK_V0, 0, 0}, attrs...)
	ask := func(typ int, flags netlink.HeaderFlags) ([]netlink.Message, error) {
		return c.Execute(netlink.Message{Header: netlink.Header{
			Type:  netlink.HeaderType(unix.NFNL_SUBSYS_CTNETLINK<<8 | typ),
			Flags: netlink.Request | flags,
		}, Data: data})
	}
	found, err := ask(ctMsgGet, netlink.Dump)
	switch {
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP):
		return 0, errNoFilter
	case errors.Is(err, unix.EPROTONOSUPPORT):
		return 0, fmt.Errorf("cut conntrack entries from %s: %w: %w", a, core.ErrUnsupported, err)
	case err != nil:
		return 0, fmt.Errorf("cut conntrack entries from %s: %w", a, mapErr(err))
	}
	n := 0
	for _, m := range found {
		tuple, ok := origTuple(m.Data)
		if !ok {
			continue
		}
		ae := netlink.NewAttributeEncoder()
		ae.Bytes(ctaTupleOrig|unix.NLA_F_NESTED, tuple)
		attrs, err := ae.Encode()
		if err != nil {
			return n, fmt.Errorf("cut: encode tuple: %w", err)
		}
		data = append(data[:4], attrs...)
		_, err = ask(ctMsgDelete, netlink.Acknowledge)
		switch {
		case errors.Is(err, unix.ENOENT): // ended meanwhile
		case err != nil:
			return n, fmt.Errorf("cut conntrack entries from %s: %w", a, mapErr(err))
		default:
			n++
		}
	}
	return n, nil
}

// origTuple returns the payload of the original-direction tuple of a
// conntrack message (nfgenmsg, then attributes).
func origTuple(b []byte) ([]byte, bool) {
	if len(b) < 4 {
		return nil, false
	}
	ad, err := netlink.NewAttributeDecoder(b[4:])
	if err != nil {
		return nil, false
	}
	for ad.Next() {
		if ad.Type() == ctaTupleOrig {
			return ad.Bytes(), true
		}
	}
	return nil, false
}
