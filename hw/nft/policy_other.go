//go:build !linux

package nft

import (
	"context"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/tunnel"
)

var _ tunnel.Filter = (*Firewall)(nil)

// InstallPolicy returns core.ErrUnsupported.
func (f *Firewall) InstallPolicy(ctx context.Context, p tunnel.Policy) error {
	return core.ErrUnsupported
}

// ApplyMembers returns core.ErrUnsupported.
func (f *Firewall) ApplyMembers(ctx context.Context, d tunnel.Members) error {
	return core.ErrUnsupported
}
