package dhcp

import (
	"context"
	"log/slog"

	"github.com/edgeward/edgeward/core/links"
)

// Leaser runs clients for core/links: one per link whose network is
// assigned by DHCP.
type Leaser struct {
	NetNS int // fd of the namespace the links live in; 0 = the current one
	Log   *slog.Logger
}

// Lease runs a client on link until ctx is done, when it releases the
// lease. It implements links.Leaser.
func (l *Leaser) Lease(ctx context.Context, link string, onLease func(links.Lease)) error {
	c, err := New(Options{Iface: link, NetNS: l.NetNS, Log: l.Log, OnLease: func(x Lease) {
		onLease(links.Lease{Addr: x.Addr, Router: x.Router, DNS: x.DNS, Search: x.Search})
	}})
	if err != nil {
		return err
	}
	return c.Run(ctx)
}
