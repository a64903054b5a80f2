//go:build !linux

package dns

import "syscall"

// control does nothing: binding to an address not yet up (IP_FREEBIND)
// is Linux-only, so elsewhere the address must exist before Serve.
func control(network, address string, c syscall.RawConn) error { return nil }
