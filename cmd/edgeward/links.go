package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/edgeward/edgeward/core/events"
	"github.com/edgeward/edgeward/core/links"
	"github.com/edgeward/edgeward/core/store"
	"github.com/edgeward/edgeward/hw/dhcp"
	"github.com/edgeward/edgeward/hw/nic"
)

// openLinks starts NIC management when --manage-links is set. Without it
// edgeward never changes a link: a binary started on a workstation or in a
// test must not rewrite the host's addresses and routes.
func openLinks(ctx context.Context, cfg config, db *store.DB, journal *events.Journal, log *slog.Logger) (*links.Service, func(), error) {
	if !cfg.ManageLinks {
		return nil, func() {}, nil
	}
	fd, closeNS := 0, func() {}
	if cfg.NetNS != "" {
		f, err := os.Open(filepath.Join("/run/netns", cfg.NetNS))
		if err != nil {
			return nil, nil, fmt.Errorf("--netns %q: %w", cfg.NetNS, err)
		}
		fd, closeNS = int(f.Fd()), func() { f.Close() }
	}
	k, err := nic.New(nic.Options{NetNS: fd})
	if err != nil {
		closeNS()
		return nil, nil, fmt.Errorf("open links: %w", err)
	}
	// The DHCP clients open their sockets in the namespace whenever they
	// (re)start, so its descriptor stays open until shutdown.
	leaser := &dhcp.Leaser{NetNS: fd, Log: log.With("component", "hw/dhcp")}
	svc, err := links.New(ctx, db, k, journal, links.Config{
		NodeName: cfg.NodeName, ResolvConf: cfg.ResolvConf, DHCP: leaser, Log: log.With("component", "core/links"),
	})
	if err != nil {
		k.Close()
		closeNS()
		return nil, nil, err
	}
	return svc, func() { k.Close(); closeNS() }, nil
}
