package nic

import (
	"context"

	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/core/netstat"
)

// Options configures New.
type Options struct {
	// NetNS is an open file descriptor of the network namespace to read
	// and configure (for example of /run/netns/NAME); 0 means the
	// process's own. New keeps a duplicate, so the caller may close its
	// descriptor once New returns.
	NetNS int
}

// Traffic reads every link's state, speed and byte counters for the
// traffic sampler (netstat.Read). It reads them as Links does, so the
// dashboard and the interface status never disagree, but skips what the
// sampler does not show: addresses, default routes and link detection.
func (n *NIC) Traffic(ctx context.Context) ([]netstat.Link, error) {
	ls, err := n.read(ctx, false)
	if err != nil {
		return nil, err
	}
	out := make([]netstat.Link, len(ls))
	for i, l := range ls {
		out[i] = netstat.Link{Name: l.Name, Up: l.OperState == links.OperUp || (l.Kind == "loopback" && l.AdminUp),
			SpeedMbps: l.SpeedMbps, Loopback: l.Kind == "loopback", RxBytes: l.RxBytes, TxBytes: l.TxBytes}
	}
	return out, nil
}
