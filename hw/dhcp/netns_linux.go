//go:build linux

package dhcp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"

	"github.com/edgeward/edgeward/hw/netns"
	"github.com/edgeward/edgeward/hw/nic"

	"golang.org/x/sys/unix"
)

// inNetNS runs fn inside the namespace fd (see netns.Do), mapping the
// errno of a refused switch onto the core sentinels.
func inNetNS(fd int, fn func() error) error {
	return nic.KernelErr(netns.Do(fd, fn))
}

// listenUnicast opens the UDP socket that renewals, rebinds and the
// release use: bound to the leased address on port 68 and to the link, so
// that several clients in one namespace do not steal each other's replies.
// The address must already be on the link. It has to be called inside the
// lease's namespace (inNetNS).
func listenUnicast(ctx context.Context, iface string, ip netip.Addr) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, iface)
		})
		return errors.Join(err, serr)
	}}
	// Go sets SO_BROADCAST on every UDP socket, which rebinding needs.
	return lc.ListenPacket(ctx, "udp4", netip.AddrPortFrom(ip, 68).String())
}
