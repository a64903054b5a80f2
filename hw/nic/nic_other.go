//go:build !linux

package nic

import (
	"context"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/links"
)

// NIC is Linux-only; elsewhere every method returns core.ErrUnsupported.
type NIC struct{}

var _ links.Kernel = (*NIC)(nil)

// New returns core.ErrUnsupported: rtnetlink and ethtool exist only on Linux.
func New(opts Options) (*NIC, error) { return nil, core.ErrUnsupported }

// Links returns core.ErrUnsupported.
func (n *NIC) Links(ctx context.Context) ([]links.Link, error) { return nil, core.ErrUnsupported }

func (n *NIC) read(ctx context.Context, full bool) ([]links.Link, error) {
	return nil, core.ErrUnsupported
}

// Configure returns core.ErrUnsupported.
func (n *NIC) Configure(ctx context.Context, name string, d links.Desired) error {
	return core.ErrUnsupported
}

// Close does nothing.
func (n *NIC) Close() error { return nil }

// AddVLAN is Linux-only.
func (n *NIC) AddVLAN(ctx context.Context, parent string, id int) error { return core.ErrUnsupported }
