//go:build linux

package dns

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// control sets IP_FREEBIND (IPV6_FREEBIND for IPv6) on the listening
// sockets: the server starts just before the WireGuard interface gets
// the overlay address, and a plain bind to an address no link has fails
// with EADDRNOTAVAIL. With it the bind succeeds at once and packets
// arrive as soon as the address is up.
func control(network, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		switch network {
		case "udp6", "tcp6":
			serr = unix.SetsockoptInt(int(fd), unix.SOL_IPV6, unix.IPV6_FREEBIND, 1)
		default:
			serr = unix.SetsockoptInt(int(fd), unix.SOL_IP, unix.IP_FREEBIND, 1)
		}
	})
	return errors.Join(err, serr)
}
