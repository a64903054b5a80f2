package wg

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/hw/netns"
	"github.com/edgeward/edgeward/hw/nic"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// errNoModule is the kernel refusing links of kind wireguard.
var errNoModule = fmt.Errorf("kernel has no wireguard module: %w", core.ErrUnsupported)

// withHandle runs fn with an rtnetlink handle whose socket lives in the
// namespace fd (0: ours), and closes it. A handle must not outlive this:
// once closed, vishvananda/netlink falls back to a socket of the caller's
// namespace.
func withHandle(fd int, fn func(h *netlink.Handle) error) error {
	var h *netlink.Handle
	err := netns.Do(fd, func() (err error) {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		if h != nil {
			h.Close()
		}
		return fmt.Errorf("open rtnetlink: %w", nic.KernelErr(err))
	}
	defer h.Close()
	return fn(h)
}

// addKernelLink creates the wireguard link name, or adopts the one an
// earlier run left (and sets its MTU); created tells which. A kernel
// without the module fails with an error matching errNoModule.
func addKernelLink(fd int, name string, mtu int) (created bool, err error) {
	err = withHandle(fd, func(h *netlink.Handle) error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name, attrs.MTU = name, mtu
		err := h.LinkAdd(&netlink.Wireguard{LinkAttrs: attrs})
		switch {
		case err == nil:
			created = true
			return nil
		case errors.Is(err, unix.EEXIST):
			return adoptKernelLink(h, name, mtu)
		case noModule(err):
			return fmt.Errorf("create wireguard link: %w (%w)", errNoModule, err)
		default:
			return fmt.Errorf("create wireguard link: %w", nic.KernelErr(err))
		}
	})
	return created, err
}

// adoptKernelLink takes over the existing link name if it is a wireguard
// link.
func adoptKernelLink(h *netlink.Handle, name string, mtu int) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("read existing link: %w", linkErr(err))
	}
	if l.Type() != "wireguard" {
		return fmt.Errorf("interface %q exists and is a %s link, not wireguard: %w", name, l.Type(), core.ErrConflict)
	}
	if l.Attrs().MTU != mtu {
		if err := h.LinkSetMTU(l, mtu); err != nil {
			return fmt.Errorf("set mtu of existing link: %w", nic.KernelErr(err, unix.EINVAL))
		}
	}
	return nil
}

// noModule tells a kernel without the wireguard link kind: rtnetlink
// answers EOPNOTSUPP for a kind it does not know (iproute2 prints
// "Unknown device type").
func noModule(err error) bool {
	if errors.Is(err, unix.EOPNOTSUPP) {
		return true
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "not supported") || strings.Contains(s, "unknown device type")
}

// deleteKernelLink removes a link Open created but could not set up.
func deleteKernelLink(fd int, name string) error {
	return withHandle(fd, func(h *netlink.Handle) error {
		l, err := h.LinkByName(name)
		if err == nil {
			err = h.LinkDel(l)
		}
		if err != nil {
			return fmt.Errorf("delete link created for the device: %w", linkErr(err))
		}
		return nil
	})
}

// setLink gives the link addr, removes its other global addresses (left
// by an earlier run with another overlay) and sets it up.
func setLink(fd int, name string, addr netip.Prefix) error {
	want := &netlink.Addr{IPNet: &net.IPNet{IP: addr.Addr().AsSlice(), Mask: net.CIDRMask(addr.Bits(), addr.Addr().BitLen())}}
	return withHandle(fd, func(h *netlink.Handle) error {
		l, err := h.LinkByName(name)
		if err != nil {
			return fmt.Errorf("find link: %w", linkErr(err))
		}
		have, err := h.AddrList(l, netlink.FAMILY_ALL)
		if errors.Is(err, netlink.ErrDumpInterrupted) {
			have, err = h.AddrList(l, netlink.FAMILY_ALL)
		}
		if err != nil {
			return fmt.Errorf("list addresses: %w", nic.KernelErr(err))
		}
		for _, a := range have {
			if a.Scope != unix.RT_SCOPE_UNIVERSE || sameNet(a.IPNet, want.IPNet) {
				continue
			}
			if err := h.AddrDel(l, &a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
				return fmt.Errorf("remove address %s: %w", a.IPNet, nic.KernelErr(err))
			}
		}
		if err := h.AddrReplace(l, want); err != nil {
			return fmt.Errorf("add address %s: %w", addr, nic.KernelErr(err, unix.EINVAL))
		}
		if err := h.LinkSetUp(l); err != nil {
			return fmt.Errorf("set link up: %w", nic.KernelErr(err))
		}
		return nil
	})
}

func sameNet(a, b *net.IPNet) bool {
	return a != nil && a.IP.Equal(b.IP) && bytes.Equal(a.Mask, b.Mask)
}

// enableForwarding turns on forwarding for the overlay's family in the
// namespace fd. /proc/sys/net shows the namespace of the thread that
// opens the file, hence the switch. Only IPv6 overlays turn on IPv6
// forwarding, as it also stops the namespace's links from taking router
// advertisements.
func enableForwarding(fd int, v6 bool) error {
	path := "/proc/sys/net/ipv4/ip_forward"
	if v6 {
		path = "/proc/sys/net/ipv6/conf/all/forwarding"
	}
	return netns.Do(fd, func() error {
		b, err := os.ReadFile(path)
		if err == nil && bytes.Equal(bytes.TrimSpace(b), []byte("1")) {
			return nil // on already: a read-only /proc/sys is no obstacle
		}
		if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
			if errors.Is(err, unix.EROFS) {
				err = withKind(core.ErrPermission, err)
			}
			return fmt.Errorf("turn on forwarding: %w", nic.KernelErr(err))
		}
		return nil
	})
}

// linkErr maps vishvananda/netlink's not-found error onto core.ErrNotFound.
func linkErr(err error) error {
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return withKind(core.ErrNotFound, err)
	}
	return nic.KernelErr(err)
}

// deviceErr maps wgctrl's errors: a device that is gone (os.ErrNotExist)
// onto core.ErrNotFound, a taken port onto core.ErrConflict, errnos as
// nic.KernelErr does. The UAPI's refusals carry the errno in their text
// only; it is recovered, so that both kinds of device fail alike.
func deviceErr(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		if _, num, ok := strings.Cut(se.Err.Error(), "errno="); ok {
			if n, perr := strconv.Atoi(num); perr == nil && n != 0 {
				err = withKind(unix.Errno(max(n, -n)), err)
			}
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("device not found: %w", withKind(core.ErrNotFound, err))
	case errors.Is(err, unix.EADDRINUSE):
		return fmt.Errorf("listen port in use: %w", withKind(core.ErrConflict, err))
	}
	return nic.KernelErr(err)
}

// kindError is an error mapped onto a core sentinel: errors.Is matches
// both, and the text stays the original's.
type kindError struct{ kind, err error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

func withKind(kind, err error) error { return &kindError{kind: kind, err: err} }
