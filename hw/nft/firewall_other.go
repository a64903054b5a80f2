//go:build !linux

package nft

import (
	"context"
	"net/netip"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/acl"
)

// MaxBans is the capacity of each ban set.
const MaxBans = 1 << 20

// Firewall is Linux-only; elsewhere every method returns core.ErrUnsupported.
type Firewall struct{}

var _ acl.Firewall = (*Firewall)(nil)

// New returns core.ErrUnsupported: nftables exists only on Linux.
func New(opts Options) (*Firewall, error) { return nil, core.ErrUnsupported }

// Close does nothing.
func (f *Firewall) Close() error { return nil }

// Install returns core.ErrUnsupported.
func (f *Firewall) Install(ctx context.Context, rs acl.Ruleset) error { return core.ErrUnsupported }

// Apply returns core.ErrUnsupported.
func (f *Firewall) Apply(ctx context.Context, d acl.Delta) error { return core.ErrUnsupported }

// KernelGreylist returns core.ErrUnsupported.
func (f *Firewall) KernelGreylist(ctx context.Context) ([]acl.Grey, error) {
	return nil, core.ErrUnsupported
}

// Check returns core.ErrUnsupported.
func (f *Firewall) Check(ctx context.Context) (acl.Health, error) {
	return acl.Health{}, core.ErrUnsupported
}

// Cut returns core.ErrUnsupported.
func (f *Firewall) Cut(ctx context.Context, p netip.Prefix) (int, error) {
	return 0, core.ErrUnsupported
}

// Remove returns core.ErrUnsupported.
func Remove(netnsFD int) (bool, error) { return false, core.ErrUnsupported }
