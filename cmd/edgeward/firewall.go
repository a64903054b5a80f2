package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/hw/nft"
)

// openFirewall opens the nftables adapter in the configured namespace. A
// firewall that cannot be opened (no CAP_NET_ADMIN, no nf_tables) is not
// fatal: the appliance records everything and says why it cannot enforce.
func openFirewall(cfg config, log *slog.Logger) (acl.Firewall, string, func()) {
	fd, closeNS := 0, func() {}
	if cfg.NetNS != "" {
		f, err := os.Open(filepath.Join("/run/netns", cfg.NetNS))
		if err != nil {
			return nil, fmt.Sprintf("network namespace %q: %v", cfg.NetNS, err), closeNS
		}
		fd, closeNS = int(f.Fd()), func() { f.Close() }
	}
	fw, err := nft.New(nft.Options{NetNS: fd, Log: log})
	if err != nil {
		log.Warn("kernel firewall unavailable: the ACL is recorded but not enforced", "err", err)
		closeNS()
		return nil, "kernel firewall unavailable: " + err.Error(), func() {}
	}
	return fw, "", func() {
		_ = fw.Close()
		closeNS()
	}
}
