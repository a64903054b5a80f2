package main

import (
	"flag"
	"fmt"
	"io"
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

// firewallRemove deletes edgeward's nftables table, for an uninstall or a
// workstation after "make run". The server must be stopped: a running
// one puts the table back. An absent table is not an error.
func firewallRemove(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("firewall remove", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("netns", "", "network namespace (a name under /run/netns) to remove the table from; default its own")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fd := 0
	if *ns != "" {
		f, err := os.Open(filepath.Join("/run/netns", *ns))
		if err != nil {
			return fmt.Errorf("network namespace %q: %w", *ns, err)
		}
		defer f.Close()
		fd = int(f.Fd())
	}
	removed, err := nft.Remove(fd)
	if err != nil {
		return fmt.Errorf("remove firewall table: %w", err)
	}
	if removed {
		fmt.Fprintf(stderr, "removed table inet %s\n", nft.TableName)
	} else {
		fmt.Fprintf(stderr, "no table inet %s: nothing to remove\n", nft.TableName)
	}
	return nil
}
