//go:build !linux

package dhcp

import (
	"context"

	"github.com/edgeward/edgeward/core"
)

// Client is Linux-only.
type Client struct{}

// New returns core.ErrUnsupported: the client needs Linux's packet sockets
// and rtnetlink.
func New(opts Options) (*Client, error) { return nil, core.ErrUnsupported }

// Run returns core.ErrUnsupported.
func (c *Client) Run(ctx context.Context) error { return core.ErrUnsupported }

// Lease reports no lease.
func (c *Client) Lease() (Lease, bool) { return Lease{}, false }
