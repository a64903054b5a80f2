package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/hw/nft"
	"github.com/edgeward/edgeward/hw/nic"
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

// neverGrey lists what the firewall must never greylist: loopback, the
// overlay gateway, --never-greylist, the DNS upstreams, and each link's
// addresses and default routers as they are at start. A link list that
// cannot be read leaves the rest (the log says so).
func neverGrey(ctx context.Context, cfg config, gw netip.Addr, k *nic.NIC, log *slog.Logger) []netip.Prefix {
	host := func(a netip.Addr) netip.Prefix { a = a.Unmap(); return netip.PrefixFrom(a, a.BitLen()) }
	out := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"), host(gw)}
	out = append(out, cfg.NeverGreylist...)
	for _, u := range cfg.DNSUpstream {
		if ap, err := netip.ParseAddrPort(u); err == nil {
			out = append(out, host(ap.Addr()))
		}
	}
	ls, err := k.Links(ctx)
	if err != nil {
		log.Warn("read links for the never-greylisted addresses", "err", err)
		return out
	}
	for _, l := range ls {
		for _, a := range l.Addrs {
			out = append(out, host(a.Prefix.Addr()))
		}
		for _, g := range []netip.Addr{l.GatewayV4, l.GatewayV6} {
			if g.IsValid() {
				out = append(out, host(g))
			}
		}
	}
	return out
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
