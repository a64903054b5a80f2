package nft

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/edgeward/edgeward/core"
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
// It reads the whole conntrack table of p's family and deletes matches one
// by one (there is no kernel-side filter for deletes); it does not hold the
// writer's lock, so it never delays Install or Apply.
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
