package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/hw/dhcp"
	"github.com/edgeward/edgeward/hw/nic"
)

// openNIC opens the NIC layer in --netns (or here). The traffic sampler
// reads through it always; only --manage-links lets it change anything.
// close releases it and the namespace descriptor.
func openNIC(cfg config) (k *nic.NIC, fd int, close func(), err error) {
	closeNS := func() {}
	if cfg.NetNS != "" {
		f, err := os.Open(filepath.Join("/run/netns", cfg.NetNS))
		if err != nil {
			return nil, 0, nil, fmt.Errorf("--netns %q: %w", cfg.NetNS, err)
		}
		fd, closeNS = int(f.Fd()), func() { f.Close() }
	}
	k, err = nic.New(nic.Options{NetNS: fd})
	if err != nil {
		closeNS()
		return nil, 0, nil, fmt.Errorf("open links: %w", err)
	}
	return k, fd, func() { k.Close(); closeNS() }, nil
}

// openLinks opens the links service. Without --manage-links it is
// read-only: the interfaces and their status are served, but edgeward never
// changes a link (no write, no apply, no DHCP client), so a binary started
// on a workstation or in a test cannot rewrite the host's addresses and
// routes. fd is k's namespace (0: here).
func openLinks(ctx context.Context, cfg config, db core.KV, k *nic.NIC, fd int, journal *events.Journal, log *slog.Logger) (*links.Service, error) {
	lc := links.Config{NodeName: cfg.NodeName, ResolvConf: cfg.ResolvConf, ReadOnly: !cfg.ManageLinks,
		Log: log.With("component", "core/links")}
	if cfg.ManageLinks {
		// The DHCP clients open their sockets in the namespace whenever they
		// (re)start, so its descriptor stays open until shutdown.
		lc.DHCP = &dhcp.Leaser{NetNS: fd, Log: log.With("component", "hw/dhcp")}
	}
	return links.New(ctx, db, k, journal, lc)
}
