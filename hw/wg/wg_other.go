//go:build !linux

package wg

import (
	"context"
	"fmt"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/tunnel"
)

// Device is Linux-only; elsewhere Open fails and no Device exists.
type Device struct{}

var _ tunnel.Device = (*Device)(nil)

// Open returns an error matching core.ErrUnsupported: the gateway's
// WireGuard device needs Linux (its kernel module or a TUN interface and
// network namespaces).
func Open(opts Options) (*Device, error) {
	return nil, fmt.Errorf("open wireguard device %q: wireguard needs linux: %w", opts.Name, core.ErrUnsupported)
}

// Configure returns core.ErrUnsupported.
func (d *Device) Configure(ctx context.Context, set []tunnel.Peer, remove []string) error {
	return core.ErrUnsupported
}

// Peers returns core.ErrUnsupported.
func (d *Device) Peers(ctx context.Context) ([]tunnel.PeerStat, error) {
	return nil, core.ErrUnsupported
}

// Mode returns "".
func (d *Device) Mode() string { return "" }

// Name returns "".
func (d *Device) Name() string { return "" }

// ListenPort returns 0.
func (d *Device) ListenPort() int { return 0 }

// Close does nothing.
func (d *Device) Close() error { return nil }
